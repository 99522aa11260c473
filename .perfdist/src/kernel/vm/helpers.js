/**
 * Helpers: functions a program calls by id (`call N`, and `callx rN` with the
 * id in a register) or, for kfuncs, by BTF id. They live in a
 * `Map<number, Helper>` that the interpreter consults at each call, so a
 * helper unknown at load time only faults if it is actually called.
 */
import { VmError, isVmError } from '../errors.js';
/**
 * Calls helper `id` from `table`; faults VM_UNKNOWN_HELPER when it is not
 * there, and wraps anything but a VmError it throws as VM_HELPER.
 */
export function callHelper(table, id, what, args, env) {
    const fn = table?.get(id);
    if (fn === undefined)
        throw new VmError('VM_UNKNOWN_HELPER', `${what} ${id} is not registered`, { helper: id, got: id });
    try {
        return fn(args[1], args[2], args[3], args[4], args[5], env);
    }
    catch (e) {
        if (isVmError(e))
            throw e;
        throw new VmError('VM_HELPER', `${what} ${id} failed: ${e?.message ?? String(e)}`, { helper: id }, { cause: e });
    }
}
//# sourceMappingURL=helpers.js.map