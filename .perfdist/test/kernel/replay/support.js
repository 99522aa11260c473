/** Test support for replay: a profile of this machine's kernel (its vmlinux BTF), loaders for the test objects. */
import { existsSync, readFileSync } from 'node:fs';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { profileView } from '../../../src/kernel/bpf/index.js';
let cached;
/** This kernel as a profile: /sys/kernel/btf/vmlinux (and no module BTF), version 6.18. */
export function hostProfile(over = {}) {
    if (!cached) {
        const path = '/sys/kernel/btf/vmlinux';
        const btf = existsSync(path) ? parseBtf(new Uint8Array(readFileSync(path))) : null;
        cached = profileView({ name: 'host', version: 0x061200, btf });
    }
    return Object.keys(over).length ? profileView({ ...cached, ...over, name: over.name ?? cached.name }) : cached;
}
//# sourceMappingURL=support.js.map