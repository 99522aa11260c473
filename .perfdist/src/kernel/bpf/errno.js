/**
 * errno values the bpf() model answers with, and the error a command throws to
 * answer one. Commands return `-errno` the way bpf_sys_bpf hands it to a program.
 */
export const E = {
    EPERM: 1,
    ENOENT: 2,
    E2BIG: 7,
    EBADF: 9,
    ENOMEM: 12,
    EACCES: 13,
    EFAULT: 14,
    EBUSY: 16,
    EEXIST: 17,
    EINVAL: 22,
    ENOSPC: 28,
    ERANGE: 34,
    ENOPKG: 65,
    EBADMSG: 74,
    EOPNOTSUPP: 95,
    ENOKEY: 126,
    EKEYREJECTED: 129,
    ENOTSUPP: 524,
};
const NAMES = Object.fromEntries(Object.entries(E).map(([k, v]) => [v, k]));
export function errnoName(errno) {
    return NAMES[Math.abs(errno)] ?? `errno ${Math.abs(errno)}`;
}
/** A command's refusal: `errno` (positive) and the reason the kernel's verifier log or code gives. */
export class SysError extends Error {
    name = 'SysError';
    errno;
    constructor(errno, message) {
        super(`${errnoName(errno)}: ${message}`);
        this.errno = errno;
    }
}
export function fail(errno, message) {
    throw new SysError(errno, message);
}
//# sourceMappingURL=errno.js.map