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
import { benchSigning } from './signing.js';
import { benchKernel } from './kernel.js';
import { benchService } from './service.js';

const root = join(new URL('.', import.meta.url).pathname, '../..');
const rows: Record<string, unknown>[] = [];

function line(name: string, ours: number, peerName: string, peer: number | null, target: string, ok: boolean): void {
  const ratio = peer ? (ours / peer).toFixed(2) + '×' : 'n/a';
  console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ours ${ours.toFixed(3)} ms, ${peerName} ${peer === null ? 'n/a' : peer.toFixed(3) + ' ms'}, ratio ${ratio} (target ${target})`);
}

const o = benchObject(root);
line(o.name, o.ours_ms, o.peer, o.peer_ms, o.target, o.ok);
if (o.note) console.log(`      ${o.note}`);
rows.push({ ...o });

if (existsSync('/sys/kernel/btf/vmlinux')) {
  const b = await benchBtf();
  line(`${b.name}`, b.ours_ms, 'libbpf btf__parse', b.peer_ms, `≤ ${b.target}× libbpf`, b.ratio <= b.target);
  rows.push({ ...b });
} else {
  console.log('SKIP  vmlinux BTF parse: /sys/kernel/btf/vmlinux is missing');
}


for (const g of benchGen(root)) {
  line(g.name, g.ours_ms, g.peer, g.peer_ms, g.target, g.ok);
  if (g.note) console.log(`      ${g.note}`);
  rows.push({ ...g });
}

{
  const k = benchKernel(root);
  console.log(`${k.replay_ms <= 2 ? 'PASS' : 'MISS'}  replay xdp_filter loader in the kernel model: ${k.replay_ms.toFixed(3)} ms median (target ≤ 2 ms)`);
  console.log(`${k.vm_insns_per_s >= 20e6 ? 'PASS' : 'MISS'}  interpreter tight loop: ${(k.vm_insns_per_s / 1e6).toFixed(1)} M insns/s over ${k.loopInsns} insns (target ≥ 20 M/s)`);
  rows.push({ name: 'kernel model', ...k });
}

for (const s of await benchSigning()) {
  const ok = s.openssl_per_s === null || s.alg !== 'p256' || s.openssl_per_s / s.ours_per_s <= 1.5;
  console.log(`${ok ? 'PASS' : 'MISS'}  sign ${s.alg}: ours ${s.ours_per_s}/s (full CMS ${s.cms_per_s}/s), openssl speed ${s.openssl_per_s ?? 'n/a'}/s, openssl/ours ${s.ratio?.toFixed(2) ?? 'n/a'} (target ${s.target})`);
  rows.push({ name: `sign ${s.alg}`, ...s });
}

{
  const s = await benchService(root) as { sign_rps: number; sign_p99_ms: number; verify_rps: number; verify_p99_ms: number; peer_objects_per_s: number | null; sign_errors: number; verify_errors: number };
  const ratio = s.peer_objects_per_s ? s.sign_rps / s.peer_objects_per_s : null;
  console.log(`${ratio !== null && ratio >= 10 && s.sign_p99_ms < 50 ? 'PASS' : 'MISS'}  service sign (50 connections): ${s.sign_rps.toFixed(0)} req/s, p99 ${s.sign_p99_ms.toFixed(1)} ms, ${s.sign_errors} errors; bpftool -L + openssl cms -sign ${s.peer_objects_per_s?.toFixed(1) ?? 'n/a'} objects/s; ratio ${ratio?.toFixed(1) ?? 'n/a'}× (target ≥ 10×, p99 < 50 ms)`);
  console.log(`${s.verify_p99_ms < 20 ? 'PASS' : 'MISS'}  service verify (50 connections): ${s.verify_rps.toFixed(0)} req/s, p99 ${s.verify_p99_ms.toFixed(1)} ms, ${s.verify_errors} errors (target p99 < 20 ms)`);
  rows.push({ name: 'service', ...s });
}

console.log(JSON.stringify({ bench: rows }, null, 2));
