/**
 * npm run bench: every performance target, each beside a peer measured in the same run.
 * Prints one line per benchmark and a JSON summary; never fails on timing (targets are
 * reported, not asserted).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchBtf } from './btf.js';
import { benchGen } from './gen.js';
import { benchObject } from './object.js';
const root = join(new URL('.', import.meta.url).pathname, '../..');
const rows = [];
function line(name, ours, peerName, peer, target, ok) {
    const ratio = peer ? (ours / peer).toFixed(2) + '×' : 'n/a';
    console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ours ${ours.toFixed(3)} ms, ${peerName} ${peer === null ? 'n/a' : peer.toFixed(3) + ' ms'}, ratio ${ratio} (target ${target})`);
}
if (existsSync('/sys/kernel/btf/vmlinux')) {
    const b = await benchBtf();
    line(`${b.name}`, b.ours_ms, 'libbpf btf__parse', b.peer_ms, `≤ ${b.target}× libbpf`, b.ratio <= b.target);
    rows.push({ ...b });
}
else {
    console.log('SKIP  vmlinux BTF parse: /sys/kernel/btf/vmlinux is missing');
}
const o = benchObject(root);
line(o.name, o.ours_ms, o.peer, o.peer_ms, o.target, o.ok);
if (o.note)
    console.log(`      ${o.note}`);
rows.push({ ...o });
for (const g of benchGen(root)) {
    line(g.name, g.ours_ms, g.peer, g.peer_ms, g.target, g.ok);
    if (g.note)
        console.log(`      ${g.note}`);
    rows.push({ ...g });
}
console.log(JSON.stringify({ bench: rows }, null, 2));
//# sourceMappingURL=run.js.map