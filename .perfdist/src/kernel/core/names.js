/**
 * CO-RE type-name rules: the "essential" name of a type drops a `___flavor`
 * suffix (the last `X___Y` separator where X and Y are not underscores), so
 * `task_struct___pre514` is a candidate for `task_struct`.
 */
function isFlavorSep(s, i) {
    return s[i] !== '_' && s[i + 1] === '_' && s[i + 2] === '_' && s[i + 3] === '_' && s[i + 4] !== '_';
}
/** Length of the name without its flavor suffix. */
export function essentialNameLength(name) {
    for (let i = name.length - 5; i >= 0; i--) {
        if (isFlavorSep(name, i))
            return i + 1;
    }
    return name.length;
}
/** The name without its flavor suffix (`sample___v2` → `sample`). */
export function essentialName(name) {
    return name.slice(0, essentialNameLength(name));
}
/** Whether two names are equal ignoring flavors; an empty target only matches an empty local. */
export function namesMatch(local, target) {
    if (target === '')
        return local === '';
    return essentialName(local) === essentialName(target);
}
//# sourceMappingURL=names.js.map