/** Shared helpers of the loader generator tests: planning every test object with fixed host inputs. */
import { readFileSync } from 'node:fs';
import { allObjects, readObject } from '../../support/objects.js';
import { parseObject } from '../../../src/loader/object/index.js';
import { planObject } from '../../../src/loader/plan/index.js';
import { bpftoolObjName } from './lskel-bytes.js';
/** Host inputs for reproducible tests: no host reads, fixed values. */
export const FIXED_HOST = {
    kernelVersion: 0x061200,
    possibleCpus: 2,
    pageSize: 4096,
    kconfig: { CONFIG_HZ: '250', CONFIG_TUN: 'm', CONFIG_BPF_SYSCALL: 'y', CONFIG_DEFAULT_HOSTNAME: '"(none)"' },
    ksymAddresses: { bpf_prog_fops: 0xffffffff82400000n },
};
/** This machine's possible-CPU count (what bpftool bakes into PERF_EVENT_ARRAY maps). */
export function hostPossibleCpus() {
    try {
        const s = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
        let n = 0;
        for (const part of s.split(',')) {
            const [a, b] = part.split('-').map(Number);
            n = Math.max(n, (b ?? a) + 1);
        }
        return n || 1;
    }
    catch {
        return 1;
    }
}
export function planFor(o, host = FIXED_HOST) {
    const bytes = readObject(o);
    const spec = parseObject(bytes, { name: bpftoolObjName(o.path) });
    return planObject(spec, { ...host, object: bytes });
}
export { allObjects, readObject };
//# sourceMappingURL=support.js.map