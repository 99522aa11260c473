import { E, fail } from './errno.js';
/** The process fd table: lowest free fd from 3 up (0-2 are stdio). */
export class FdTable {
    #fds = new Map();
    install(obj) {
        let fd = 3;
        while (this.#fds.has(fd))
            fd++;
        this.#fds.set(fd, obj);
        return fd;
    }
    get(fd) {
        return this.#fds.get(fd);
    }
    close(fd) {
        if (!this.#fds.delete(fd))
            fail(E.EBADF, `close(${fd}): not an open fd`);
    }
    map(fd) {
        const o = this.#fds.get(fd);
        if (!o)
            fail(E.EBADF, `fd ${fd} is not open`);
        if (o.kind !== 'map')
            fail(E.EINVAL, `fd ${fd} is a ${o.kind}, not a map`);
        return o;
    }
    prog(fd) {
        const o = this.#fds.get(fd);
        if (!o)
            fail(E.EBADF, `fd ${fd} is not open`);
        if (o.kind !== 'prog')
            fail(E.EINVAL, `fd ${fd} is a ${o.kind}, not a program`);
        return o;
    }
    btf(fd) {
        const o = this.#fds.get(fd);
        if (!o)
            fail(E.EBADF, `fd ${fd} is not open`);
        if (o.kind !== 'btf')
            fail(E.EINVAL, `fd ${fd} is a ${o.kind}, not BTF`);
        return o;
    }
    /** Open fds in ascending order. */
    entries() {
        return [...this.#fds.entries()].sort((a, b) => a[0] - b[0]);
    }
}
//# sourceMappingURL=objects.js.map