/**
 * Rust light skeletons on the real kernel. The objects and the skip are those of the C light
 * skeleton test (kernel-ours.test.ts: every fixture and libxdp1 object, little-endian, when bpf()
 * is permitted). Each object's unsigned v1.7 skeleton (this host's inputs, as the C test uses)
 * becomes one module of a single cargo crate (Debian's rustc and vendored libc crate, offline),
 * with a main that opens, loads and drops it and reports the maps and programs behind its fds
 * (test/loader/gen/rust-report.rs, runner.c's shape). Against runner.c's run of the same loader
 * (what the C skeleton test compares with):
 *  - loaded: the same maps and programs (names, types, sizes, flags, frozen, contents, PROG_ARRAY
 *    slots, xlated lengths, tags), each global-data struct's bytes equal the map's contents and
 *    each variable sits at its BTF offset; no fd left open after drop;
 *  - refused inside the loader: load() fails with the loader's errno, no fd left open.
 * For two objects, linux-6.18 loaders: signed, load() answers as the C standalone header with the
 * same signature does (EOPNOTSUPP without CONFIG_SYSTEM_DATA_VERIFICATION); with the signature
 * left out the in-loader metadata hash check passes and the objects equal runner.c's; with one
 * metadata byte flipped load() fails with EINVAL and leaves nothing open.
 */
import { spawnSync } from 'node:child_process';
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { constants } from 'node:os';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { parseObject } from '../../../src/loader/object/index.js';
import { emitLightSkeleton, type LightSkeletonInput } from '../../../src/loader/gen/index.js';
import { emitRustSkeleton } from '../../../src/loader/gen/rust.js';
import { rustIdent } from '../../../src/loader/gen/rust-types.js';
import { sanitizeIdent } from '../../../src/loader/gen/lskel.js';
import { hasBpfMapExcl } from '../../../src/kernel/profile/index.js';
import { buildLoader, type BuiltLoader } from '../../../src/service/loader.js';
import { createDevelopmentCa, signDetached, signedContent } from '../../../src/signing/index.js';
import { allObjects, readObject, ROOT, type TestObject } from '../../support/objects.js';
import { bpftoolObjName } from '../../kernel-runner/bpftool-lskel.js';
import { runLoader, runnerSkipReason, runSkeleton, skelMain, type RunnerReport } from '../../kernel-runner/harness.js';
import { hostOptionsFor } from '../../kernel-runner/host.js';
import { compareReports } from '../../kernel-runner/compare.js';
import { buildCrate, cargoSkipReason, rustcVersion, type BuildResult } from './rust-support.js';

const E = constants.errno;
const WHY = runnerSkipReason() ?? cargoSkipReason();
const SIGNED_OBJECTS = ['xdp_filter.clang-el.o', 'globals.clang-el.o'];

interface Case {
  mod: string;
  input: LightSkeletonInput;
  built: BuiltLoader;
}
interface RustReport extends RunnerReport {
  step?: string;
  views?: { map: number; bytes: string }[];
  offsets?: [string, number, number][];
}

const isBigEndian = (o: TestObject) => readObject(o)[5] === 2;

function buildFor(o: TestObject, scheme: 'unsigned' | 'linux-6.18', mapExcl = false): BuiltLoader {
  const bytes = readObject(o);
  const name = bpftoolObjName(o.path);
  const host = hostOptionsFor(parseObject(bytes, { name })).host;
  return buildLoader(bytes, o.name, { scheme, name, flavour: 'v1.7', standalone: false, mapExcl, host });
}

/** main.rs code for one module: open, load, report, drop, count fds. */
function runFn(c: Case): string {
  const n = c.input.name;
  const maps = c.input.maps.map((m) => `s.maps.${rustIdent(m.ident)}.map_fd`).join(', ');
  const progs = c.input.progs.map((p) => `s.progs.${rustIdent(p.name)}.prog_fd`).join(', ');
  const views: string[] = [];
  const offsets: string[] = [];
  c.input.maps.forEach((m, i) => {
    if (!m.mmap) return;
    const acc = rustIdent(m.ident);
    views.push(`(${i}, bytes_of(s.${acc}()))`);
    for (const v of m.mmap.vars) {
      const f = rustIdent(sanitizeIdent(v.name));
      offsets.push(
        `        format!("[\\"${m.ident}.${v.name}\\",{},${v.offset}]", ptr::addr_of!(s.${acc}().${f}) as usize - s.${acc}() as *const _ as usize),`,
      );
    }
  });
  return `
fn run_${n}() -> String {
    let before = report::count_fds() as i64;
    let mut s = match ${n}::${rustIdent(n)}::open() {
        Ok(s) => s,
        Err(e) => return format!("{{\\"stage\\":\\"open\\",\\"errno\\":{}}}", e.errno),
    };
    let offsets: Vec<String> = vec![
${offsets.join('\n')}
    ];
    if let Err(e) = s.load() {
        drop(s);
        let leaked = report::count_fds() as i64 - before;
        return format!("{{\\"stage\\":\\"load\\",\\"errno\\":{},\\"step\\":\\"{}\\",\\"leaked_fds\\":{},\\"maps\\":[],\\"progs\\":[]}}", e.errno, e.step, leaked);
    }
    let maps: Vec<i32> = vec![${maps}];
    let progs: Vec<i32> = vec![${progs}];
    let views: Vec<(usize, Vec<u8>)> = vec![${views.join(', ')}];
    let r = report::report(&maps, &progs, &views);
    drop(s);
    let leaked = report::count_fds() as i64 - before;
    format!("{{{},\\"offsets\\":[{}],\\"leaked_fds\\":{}}}", r, offsets.join(","), leaked)
}
`;
}

function mainRs(cases: Case[]): string {
  let s = '#![allow(unused_imports, unused_mut)]\nuse std::ptr;\n\nmod report;\n';
  for (const c of cases) s += `mod ${c.mod};\n`;
  s +=
    '\nfn bytes_of<T>(t: &T) -> Vec<u8> {\n    // SAFETY: a plain-old-data struct viewed as its bytes.\n    unsafe { std::slice::from_raw_parts(t as *const T as *const u8, std::mem::size_of::<T>()).to_vec() }\n}\n';
  for (const c of cases) s += runFn(c);
  s += '\nfn main() {\n    let which = std::env::args().nth(1).unwrap_or_default();\n    let out = match which.as_str() {\n';
  for (const c of cases) s += `        "${c.mod}" => run_${c.mod}(),\n`;
  return s + '        _ => String::from("{\\"stage\\":\\"usage\\"}"),\n    };\n    println!("{}", out);\n}\n';
}

function runRust(exe: string, mod: string): RustReport {
  const r = spawnSync(exe, [mod], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${mod}: exit ${r.status ?? r.signal}: ${r.stderr}`);
  return JSON.parse(r.stdout) as RustReport;
}

describe('Rust light skeletons on this kernel', () => {
  const cases: Case[] = [];
  const generated = new Map<string, BuiltLoader | { error: string }>();
  let crate: BuildResult = { ok: false, reason: 'not built' };
  let mapExcl = false;
  let buildSeconds = 0;

  before(async () => {
    if (WHY) return;
    mapExcl = existsSync('/sys/kernel/btf/vmlinux') && hasBpfMapExcl(parseBtf(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux'))));
    for (const o of allObjects()) {
      if (isBigEndian(o)) continue;
      try {
        const built = buildFor(o, 'unsigned');
        generated.set(o.name, built);
        cases.push({ mod: built.name, input: built.lskel, built });
      } catch (e) {
        generated.set(o.name, { error: `${(e as { code?: string }).code ?? 'Error'}: ${(e as Error).message}` });
      }
    }
    const ca = await createDevelopmentCa({ now: new Date() });
    for (const file of SIGNED_OBJECTS) {
      const o = allObjects().find((x) => x.name === file);
      if (!o) continue;
      const b = buildFor(o, 'linux-6.18', mapExcl);
      const sig = await signDetached(signedContent('linux-6.18', b.loader.insns, b.loader.data), ca.signer);
      const exclHash = b.loader.insnsHash;
      const flipped = b.loader.data.slice();
      flipped[flipped.length >> 1] ^= 0x01;
      cases.push({ mod: `${b.name}_signed`, input: { ...b.lskel, name: `${b.name}_signed`, signature: { sig, exclHash } }, built: b });
      cases.push({
        mod: `${b.name}_nosig`,
        input: { ...b.lskel, name: `${b.name}_nosig`, signature: { sig: new Uint8Array(0), exclHash } },
        built: b,
      });
      cases.push({
        mod: `${b.name}_flip`,
        input: { ...b.lskel, name: `${b.name}_flip`, data: flipped, signature: { sig: new Uint8Array(0), exclHash } },
        built: b,
      });
    }
    const modules = new Map(cases.map((c) => [`${c.mod}.rs`, emitRustSkeleton(c.input)]));
    modules.set('report.rs', readFileSync(join(ROOT, 'test/loader/gen/rust-report.rs'), 'utf8'));
    const t0 = Date.now();
    crate = buildCrate('rskels', modules, mainRs(cases));
    buildSeconds = (Date.now() - t0) / 1000;
  });

  it("builds one crate holding every object's skeleton module", (t) => {
    if (WHY) return t.skip(WHY);
    assert.ok(crate.ok, crate.ok ? '' : crate.reason);
    t.diagnostic(`${cases.length} modules, ${rustcVersion()}, built in ${buildSeconds.toFixed(1)} s`);
  });

  for (const o of allObjects()) {
    it(`${o.name}: the Rust skeleton leaves what runner.c's run of the loader leaves, or fails with its errno`, (t) => {
      if (WHY) return t.skip(WHY);
      if (isBigEndian(o)) return t.skip(`${o.name} is big-endian; this host is ${endianness()}`);
      const g = generated.get(o.name);
      if (!g || 'error' in g) return t.skip(`not generated: ${g && 'error' in g ? g.error : '?'}`);
      if (!crate.ok) return assert.fail(`the crate does not build: ${crate.reason}`);
      assert.equal(g.lskel.maps.length, g.loader.ctxLayout.maps.length, 'the skeleton has a map desc for every map the loader fills');
      const ref = runLoader(`rs-${g.name}`, g.loader.insns, g.loader.data, g.loader.ctxLayout.maps.length, g.loader.ctxLayout.progs.length);
      const rep = runRust(crate.exe, g.name);
      assert.equal(rep.leaked_fds, 0, 'fds left open after drop');
      if (ref.stage !== 'ok') {
        t.diagnostic(`runner.c: ${ref.stage} errno ${ref.errno}; rust: ${rep.stage} errno ${rep.errno} (${rep.step ?? ''})`);
        assert.equal(rep.stage, 'load', 'the loader fails, so load() must');
        assert.equal(rep.errno, ref.errno, "load() reports the loader's errno");
        return;
      }
      assert.equal(rep.stage, 'ok', JSON.stringify(rep));
      const cmp = compareReports(rep, ref);
      assert.deepEqual(cmp.diffs, [], `rust vs runner.c:\n${cmp.diffs.join('\n')}`);
      for (const v of rep.views ?? []) {
        const contents = rep.maps[v.map].contents ?? '';
        const n = Math.min(v.bytes.length, contents.length);
        assert.equal(v.bytes.slice(0, n), contents.slice(0, n), `map ${v.map}: the typed struct shows the map's contents`);
      }
      for (const [name, got, want] of rep.offsets ?? []) assert.equal(got, want, `${name} offset`);
      t.diagnostic(
        `identical: ${rep.maps.length} maps, ${rep.progs.filter((p) => p.fd > 0).length} programs, ${rep.views?.length ?? 0} typed global-data views, ${rep.offsets?.length ?? 0} variable offsets`,
      );
    });
  }

  describe('linux-6.18 loaders', () => {
    for (const file of SIGNED_OBJECTS) {
      const name = file.replace(/\.o$/, '').replace(/[^A-Za-z0-9_]/g, '_');
      it(`${file}: signed, load() answers as the C header does`, (t) => {
        if (WHY) return t.skip(WHY);
        if (!crate.ok) return assert.fail(`the crate does not build: ${crate.reason}`);
        const c = cases.find((x) => x.mod === `${name}_signed`);
        if (!c) return t.skip(`${file} not present`);
        const rep = runRust(crate.exe, c.mod);
        const header = emitLightSkeleton({ ...c.input, name }, { flavour: 'v1.7', standalone: true });
        const cRep = runSkeleton(`rs-c-${name}`, header, skelMain(name, c.input.maps, c.input.progs));
        t.diagnostic(`rust: ${rep.stage} errno ${rep.errno} (${rep.step ?? ''}); C: ${JSON.stringify(cRep)}`);
        assert.equal(rep.leaked_fds, 0);
        if (cRep.stage === 'ok') return assert.equal(rep.stage, 'ok');
        assert.equal(cRep.stage, 'load', JSON.stringify(cRep));
        assert.equal(rep.stage, 'load');
        assert.equal(rep.errno, -(cRep as { err: number }).err, 'the same errno as the C header');
        if (rep.errno === E.EOPNOTSUPP) t.diagnostic('EOPNOTSUPP: this kernel cannot verify PKCS#7 (no CONFIG_SYSTEM_DATA_VERIFICATION)');
      });

      it(`${file}: without the signature the in-loader hash check passes; one flipped metadata byte gives EINVAL`, (t) => {
        if (WHY) return t.skip(WHY);
        if (!crate.ok) return assert.fail(`the crate does not build: ${crate.reason}`);
        const c = cases.find((x) => x.mod === `${name}_nosig`);
        if (!c) return t.skip(`${file} not present`);
        const l = c.built.loader;
        const ref = runLoader(`rs-sig-${name}`, l.insns, l.data, l.ctxLayout.maps.length, l.ctxLayout.progs.length, {
          signed: true,
          excl: l.insnsHash,
        });
        assert.equal(ref.stage, 'ok', `runner.c: ${ref.stage} errno ${ref.errno}`);
        const good = runRust(crate.exe, c.mod);
        assert.equal(good.stage, 'ok', JSON.stringify(good));
        assert.deepEqual(compareReports(good, ref).diffs, [], 'the same objects as runner.c');
        assert.equal(good.leaked_fds, 0);
        const bad = runRust(crate.exe, `${name}_flip`);
        t.diagnostic(`flipped byte: ${bad.stage} errno ${bad.errno} (${bad.step ?? ''})`);
        assert.equal(bad.stage, 'load');
        assert.equal(bad.errno, E.EINVAL, 'the loader returns -EINVAL');
        assert.equal(bad.step, 'error returned by loader prog');
        assert.equal(bad.leaked_fds, 0);
      });
    }
  });
});
