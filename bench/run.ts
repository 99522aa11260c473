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
import { benchHeader } from './header.js';
import { benchLog } from './log.js';
import { benchCli } from './cli.js';
import { benchMemory, printMemory } from './memory.js';

const root = join(new URL('.', import.meta.url).pathname, '../..');
const rows: Record<string, unknown>[] = [];
/** `npm run bench -- service signing` runs only those groups (object, btf, gen, header, kernel, signing, service, log, memory). */
const only = process.argv.slice(2);
const want = (group: string) => only.length === 0 || only.includes(group);

function line(name: string, ours: number, peerName: string, peer: number | null, target: string, ok: boolean): void {
  const ratio = peer ? (ours / peer).toFixed(2) + '×' : 'n/a';
  console.log(
    `${ok ? 'PASS' : 'MISS'}  ${name}: ours ${ours.toFixed(3)} ms, ${peerName} ${peer === null ? 'n/a' : peer.toFixed(3) + ' ms'}, ratio ${ratio} (target ${target})`,
  );
}

if (want('cli')) {
  for (const c of benchCli(root)) {
    line(c.name, c.ours_ms, c.peer, c.peer_ms, c.target, c.ok);
    rows.push({ ...c });
  }
}

if (want('object')) {
  const o = benchObject(root);
  line(o.name, o.ours_ms, o.peer, o.peer_ms, o.target, o.ok);
  if (o.note) console.log(`      ${o.note}`);
  rows.push({ ...o });
}

if (!want('btf')) {
  // not asked for
} else if (existsSync('/sys/kernel/btf/vmlinux')) {
  const b = await benchBtf();
  line(`${b.name}`, b.ours_ms, 'libbpf btf__parse', b.peer_ms, `≤ ${b.target}× libbpf`, b.ratio <= b.target);
  rows.push({ ...b });
} else {
  console.log('SKIP  vmlinux BTF parse: /sys/kernel/btf/vmlinux is missing');
}

for (const g of want('gen') ? benchGen(root) : []) {
  line(g.name, g.ours_ms, g.peer, g.peer_ms, g.target, g.ok);
  if (g.note) console.log(`      ${g.note}`);
  rows.push({ ...g });
}

if (want('header')) {
  const h = benchHeader(root);
  if (!h) console.log('SKIP  verify a bpftool 7.7 signed header: no reference headers or no kernel BTF');
  else {
    line(h.name, h.ours_ms, h.peer, h.peer_ms, h.target, h.ok);
    if (h.note) console.log(`      ${h.note}`);
    rows.push({ ...h });
  }
}

if (want('kernel')) {
  const k = benchKernel(root);
  console.log(
    `${k.replay_ms <= 2 ? 'PASS' : 'MISS'}  replay xdp_filter loader in the kernel model: ${k.replay_ms.toFixed(3)} ms median (target ≤ 2 ms)`,
  );
  console.log(
    `${k.vm_insns_per_s >= 20e6 ? 'PASS' : 'MISS'}  interpreter tight loop: ${(k.vm_insns_per_s / 1e6).toFixed(1)} M insns/s over ${k.loopInsns} insns (target ≥ 20 M/s)`,
  );
  rows.push({ name: 'kernel model', ...k });
}

for (const s of want('signing') ? await benchSigning() : []) {
  const ok = s.openssl_per_s === null || s.alg !== 'p256' || s.openssl_per_s / s.ours_per_s <= 1.5;
  console.log(
    `${ok ? 'PASS' : 'MISS'}  sign ${s.alg}: ours ${s.ours_per_s}/s (full CMS ${s.cms_per_s}/s), openssl speed ${s.openssl_per_s ?? 'n/a'}/s, openssl/ours ${s.ratio?.toFixed(2) ?? 'n/a'} (target ${s.target})`,
  );
  rows.push({ name: `sign ${s.alg}`, ...s });
}

const service = want('service')
  ? await benchService(root).catch((e: Error) => {
      // Said where every other line is read (PASS/MISS/FAIL), not only as a stack on stderr.
      console.log(`FAIL  service bench: ${e.message}${e.cause ? ` (${String(e.cause)})` : ''}`);
      process.exitCode = 1;
      return null;
    })
  : null;
if (service) {
  const s = service;
  const peer = s.peer_objects_per_s;
  console.log(
    `      peer: bpftool gen skeleton -L + openssl cms -sign, one object at a time: ${peer?.toFixed(1) ?? 'n/a'} objects/s (the better of ${s.peer_before?.toFixed(1) ?? 'n/a'} before the loads and ${s.peer_after?.toFixed(1) ?? 'n/a'} after)`,
  );
  for (const r of s.runs) {
    const ratio = peer ? r.sign.rps / peer : null;
    const who = `${r.workers} worker${r.workers > 1 ? 's' : ''}, caches ${r.caches ? 'on' : 'off'}, ${r.sign.tool}`;
    console.log(
      `${ratio !== null && ratio >= 10 && r.sign.p99 < 50 ? 'PASS' : 'MISS'}  service sign (50 connections, ${who}): ${r.sign.rps.toFixed(0)} req/s, p50 ${r.sign.p50.toFixed(1)} ms, p99 ${r.sign.p99.toFixed(1)} ms, ${r.sign.errors} errors; ratio to peer ${ratio?.toFixed(1) ?? 'n/a'}× (target ≥ 10×, p99 < 50 ms)`,
    );
    console.log(
      `${r.verify.p99 < 20 ? 'PASS' : 'MISS'}  service verify (50 connections, ${who}): ${r.verify.rps.toFixed(0)} req/s, p50 ${r.verify.p50.toFixed(1)} ms, p99 ${r.verify.p99.toFixed(1)} ms, ${r.verify.errors} errors (target p99 < 20 ms)`,
    );
    const f = r.verifyFresh;
    if (f)
      console.log(
        `${f.p99 < 20 ? 'PASS' : 'MISS'}  service verify, a new bundle each time (50 connections, ${who}): ${f.rps.toFixed(0)} req/s, p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, ${f.errors} errors (target p99 < 20 ms)`,
      );
  }
  rows.push({ name: 'service', ...s });
}

if (want('log')) {
  const l = await benchLog();
  const ratio = l.tiles.perSecond / l.perEntry.perSecond;
  console.log(
    `${ratio >= 10 ? 'PASS' : 'MISS'}  log verify over tiles: ${l.tiles.entries} entries in ${(l.tiles.ms / 1000).toFixed(1)} s, ${l.tiles.perSecond.toFixed(0)} entries/s, ${l.tiles.requests} requests; one request per entry: ${l.perEntry.perSecond.toFixed(0)} entries/s, ${l.perEntry.requests} requests for ${l.perEntry.entries} entries; ratio ${ratio.toFixed(1)}× (target ≥ 10×)`,
  );
  console.log(
    `      one entry's content check (a distinct signed manifest): ${l.entryCheckMs.toFixed(3)} ms; the test log repeats 1,024 manifests, checked once each`,
  );
  rows.push({ ...l });
}

if (want('memory')) {
  // SQLite as started by default; with glibc's malloc arenas limited as ./bpfsign and the image
  // limit them (one per thread otherwise); and with V8's own growing factor for the main thread's
  // old space (BPFSIGN_HEAP_GROWING_PERCENT=0), what the default's bound saves. PostgreSQL too
  // when BPFSIGN_BENCH_PG names a database it may fill.
  const pg = process.env.BPFSIGN_BENCH_PG;
  const stores: { store: 'sqlite' | 'postgres'; env: Record<string, string> }[] = [
    { store: 'sqlite', env: {} },
    { store: 'sqlite', env: { MALLOC_ARENA_MAX: '2' } },
    { store: 'sqlite', env: { BPFSIGN_HEAP_GROWING_PERCENT: '0' } },
    ...(pg ? [{ store: 'postgres' as const, env: { BPFSIGN_DATABASE_URL: pg, MALLOC_ARENA_MAX: '2' } }] : []),
  ];
  for (const { store, env } of stores) {
    const m = await benchMemory(root, store, env);
    printMemory(m);
    rows.push({ name: `memory ${store}`, ...m });
  }
}

console.log(JSON.stringify({ bench: rows }, null, 2));
