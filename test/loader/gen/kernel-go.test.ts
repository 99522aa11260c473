/**
 * Go light skeletons on the real kernel, built with the real toolchain (go build, GOPATH mode,
 * offline, golang.org/x/sys/unix from Debian's golang-golang-x-sys-dev):
 *  1. for every object whose loader we generate (fixtures and xdp-tools' objects), the Go skeleton
 *     leaves the same maps and programs as the same loader run by test/kernel-runner/runner.c
 *     (names, types, sizes, flags, frozen state, contents, PROG_ARRAY slots, xlated lengths,
 *     tags), and as many as our standalone C skeleton; where the loader fails inside, the Go and
 *     C skeletons fail with the same errno; nothing stays open after Close;
 *  2. linux-6.18: a signed Go skeleton answers the signed BPF_PROG_LOAD as the signed C one does
 *     (EOPNOTSUPP on a kernel without signature verification); with the signature left out, the
 *     loader's own metadata hash check passes (exclusive map, frozen, hashed) and the objects are
 *     the unsigned loader's; one flipped metadata byte makes the loader return -EINVAL;
 *  3. Attach links a tp_btf program and Close closes the link.
 * Host inputs (CPUs, kconfig, kernel version, ksyms) are this machine's, as in kernel-ours.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { constants, endianness } from 'node:os';
import { join } from 'node:path';
import { parseElf } from '../../../src/loader/elf/index.js';
import { parseBtf } from '../../../src/loader/btf/index.js';
import { emitSkeleton, type LightSkeletonInput } from '../../../src/loader/gen/index.js';
import { parseObject } from '../../../src/loader/object/index.js';
import { buildLoader, skeletonFile, type BuiltLoader } from '../../../src/service/loader.js';
import { signBuilt } from '../../../src/service/sign.js';
import { signerFromPem } from '../../../src/signing/index.js';
import { allObjects, readObject, type TestObject } from '../../support/objects.js';
import { testKeysDir } from '../../support/test-keys.js';
import { bpftoolObjName } from '../../kernel-runner/bpftool-lskel.js';
import {
  opaqueTypes,
  runLoader,
  runnerSkipReason,
  runSkeleton,
  skelMain,
  type RunnerReport,
  type SkelReport,
} from '../../kernel-runner/harness.js';
import { hostOptionsFor } from '../../kernel-runner/host.js';
import { compareReports } from '../../kernel-runner/compare.js';
import { goSkipReason, runGoSkeletons, type GoSkelReport } from '../../kernel-runner/go-main.js';

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([k, v]) => [v, k]));
const errnoName = (e: number) => `${ERRNO_NAMES.get(e) ?? (e === 524 ? 'ENOTSUPP' : '?')} (${e})`;
const WHY = runnerSkipReason() ?? goSkipReason();
const isBigEndian = (o: TestObject) => readObject(o)[5] === 2;
const BE_SKIP = (o: TestObject) => `${o.name} is a big-endian object; this host is ${endianness() === 'LE' ? 'little' : 'big'}-endian`;

interface Built {
  name: string;
  built: BuiltLoader;
  btf: ReturnType<typeof parseBtf> | null;
}

function build(o: TestObject, scheme: 'unsigned' | 'linux-6.18'): Built | { error: string } {
  try {
    const bytes = readObject(o);
    const name = bpftoolObjName(o.path);
    const used = hostOptionsFor(parseObject(bytes, { name }));
    const built = buildLoader(bytes, o.name, { scheme, name, flavour: 'v1.7', standalone: true, mapExcl: false, host: used.host });
    const sec = parseElf(bytes).section('.BTF');
    return { name, built, btf: sec ? parseBtf(sec.data) : null };
  } catch (e) {
    return { error: `${(e as { code?: string }).code ?? 'Error'}: ${(e as Error).message}` };
  }
}

function direct(b: Built, tag: string, data = b.built.loader.data): RunnerReport {
  const ctx = b.built.loader.ctxLayout;
  return runLoader(`go-${tag}-${b.name}`, b.built.loader.insns, data, ctx.maps.length, ctx.progs.length);
}

/** Go skeletons of `b` for each input, built together (one go build) and run one after another. */
function goRun(
  b: Built,
  tag: string,
  inputs: Record<string, LightSkeletonInput>,
  opts: { attach?: boolean } = {},
): Record<string, GoSkelReport> {
  const names = Object.keys(inputs);
  const skels = names.map((n) => {
    const pkg = `${b.name}_${n}`;
    const f = emitSkeleton('go', inputs[n], b.built.headerOptions);
    return { pkg, fileName: f.fileName, text: f.text.replace(`package ${b.name}\n`, `package ${pkg}\n`) };
  });
  const reports = runGoSkeletons(`${b.name}_${tag}`, skels, opts);
  const out: Record<string, GoSkelReport> = {};
  names.forEach((n, i) => {
    const r = reports[i];
    if (r.stage === 'build') assert.fail(`the Go skeleton does not build or run: ${'reason' in r ? r.reason : ''}`);
    out[n] = r as GoSkelReport;
  });
  return out;
}

function cRun(b: Built, tag: string, signature: Uint8Array | null = null): SkelReport {
  const header = skeletonFile(b.built, 'c', signature).text;
  const { maps, progs } = b.built.lskel;
  const r = runSkeleton(`go-c-${tag}-${b.name}`, header, skelMain(b.name, maps, progs, opaqueTypes(b.btf, maps)));
  if (r.stage === 'build') assert.fail(`the C skeleton does not build: ${'reason' in r ? r.reason : ''}`);
  return r;
}

/** The Go report as a runner report, to compare with compareReports. */
function asRunner(g: GoSkelReport): RunnerReport {
  return {
    stage: g.stage,
    errno: g.errno,
    retval: 0,
    maps: g.maps ?? [],
    progs: g.progs ?? [],
    fds_before: 0,
    fds_after: g.leaked_fds,
    leaked_fds: g.leaked_fds,
  };
}

function describeGo(g: GoSkelReport): string {
  if (g.stage === 'ok')
    return `loaded: ${(g.maps ?? []).filter((m) => m.fd > 0).length} maps, ${(g.progs ?? []).filter((p) => p.fd > 0).length} programs, ${g.mmapped} mmapped`;
  return `${g.stage}: ${g.op ?? ''}: ${errnoName(g.errno)}`;
}

const tally = { compared: 0, sameFailure: [] as string[], skipped: [] as string[], signed: [] as string[] };

describe('Go light skeletons on this kernel', () => {
  describe('unsigned: the same maps and programs as the loader run directly and the C skeleton', () => {
    for (const o of allObjects()) {
      it(`${o.name}: loads as the C skeleton does, or fails with its errno`, (t) => {
        if (WHY) return t.skip(WHY);
        if (isBigEndian(o)) return t.skip(BE_SKIP(o));
        const b = build(o, 'unsigned');
        if ('error' in b) {
          tally.skipped.push(`${o.name}: not generated`);
          return t.skip(`not generated: ${b.error}`);
        }
        assert.equal(b.built.lskel.maps.length, b.built.loader.ctxLayout.maps.length, 'the skeleton has one map desc per ctx map');
        const ref = direct(b, 'plain');
        const c = cRun(b, 'plain');
        const { plain: g } = goRun(b, 'plain', { plain: b.built.lskel });
        t.diagnostic(`go: ${describeGo(g)}; C: ${JSON.stringify(c)}; runner: ${ref.stage} ${errnoName(ref.errno)}`);
        assert.equal(g.leaked_fds, 0, 'the Go skeleton left fds open after Close');
        if (ref.stage !== 'ok') {
          const want = ref.stage === 'loader_retval' ? -ref.retval : ref.errno;
          assert.equal(c.stage, 'load');
          assert.equal(g.stage, 'load');
          assert.equal(g.errno, -(c.err ?? 0), "the Go skeleton fails with the C skeleton's errno");
          assert.equal(g.errno, want, "and with the loader's");
          tally.sameFailure.push(`${o.name}: ${errnoName(g.errno)}`);
          return;
        }
        assert.equal(c.stage, 'ok', JSON.stringify(c));
        assert.equal(g.stage, 'ok', describeGo(g));
        const cmp = compareReports(asRunner(g), ref);
        assert.deepEqual(cmp.diffs, [], `go vs the loader run directly:\n${cmp.diffs.join('\n')}`);
        assert.equal((g.maps ?? []).filter((m) => m.fd > 0).length, c.maps, 'maps with an fd: Go = C');
        assert.equal((g.progs ?? []).filter((p) => p.fd > 0).length, c.progs, 'programs with an fd: Go = C');
        assert.equal(g.mmapped, c.mmapped, 'mmapped maps: Go = C');
        tally.compared++;
      });
    }
  });

  describe('linux-6.18 scheme', () => {
    for (const o of allObjects()) {
      it(`${o.name}: signed answers as the signed C skeleton; unsigned with excl_prog_hash loads; a flipped byte gives -EINVAL`, async (t) => {
        if (WHY) return t.skip(WHY);
        if (isBigEndian(o)) return t.skip(BE_SKIP(o));
        const u = build(o, 'unsigned');
        const b = build(o, 'linux-6.18');
        if ('error' in b || 'error' in u) return t.skip('not generated');
        const plain = direct(u, 'u618');
        if (plain.stage !== 'ok') return t.skip(`the unsigned loader does not load here either: ${plain.stage} ${errnoName(plain.errno)}`);
        const dir = testKeysDir();
        const certificate = readFileSync(join(dir, 'p256.cert.pem'), 'utf8');
        const signer = await signerFromPem({ privateKey: readFileSync(join(dir, 'p256.key.pem')), certificate });
        const { signature } = await signBuilt(b.built, signer, [certificate]);
        const exclHash = b.built.loader.insnsHash;

        const data = b.built.loader.data.slice();
        data[data.length >> 1] ^= 0x01;
        const noSig = { sig: new Uint8Array(), exclHash };
        const runs = goRun(b, '618', {
          signed: { ...b.built.lskel, signature: { sig: signature, exclHash } },
          nosig: { ...b.built.lskel, signature: noSig },
          flip: { ...b.built.lskel, data, signature: noSig },
        });
        const c = cRun(b, 'signed', signature);
        const g = runs.signed;
        t.diagnostic(`signed: go ${describeGo(g)}; C ${JSON.stringify(c)}`);
        assert.equal(g.leaked_fds, 0);
        if (c.stage === 'load') {
          assert.equal(g.stage, 'load');
          assert.equal(g.op, 'failed to load loader prog');
          assert.equal(g.errno, -(c.err ?? 0), 'the signed Go skeleton answers as the signed C one');
        } else {
          assert.equal(g.stage, c.stage);
        }

        const nosig = runs.nosig;
        t.diagnostic(`signature left out: ${describeGo(nosig)}`);
        assert.equal(nosig.stage, 'ok', describeGo(nosig));
        assert.deepEqual(compareReports(asRunner(nosig), plain).diffs, [], "the 6.18 loader leaves the unsigned loader's objects");
        assert.equal(nosig.leaked_fds, 0);

        const flipped = runs.flip;
        t.diagnostic(`one metadata byte flipped at ${data.length >> 1}: ${describeGo(flipped)}`);
        assert.equal(flipped.stage, 'load');
        assert.equal(flipped.op, 'error returned by loader prog');
        assert.equal(flipped.errno, constants.errno.EINVAL);
        assert.equal(
          (flipped.maps ?? []).filter((m) => m.fd > 0).length + (flipped.progs ?? []).filter((p) => p.fd > 0).length,
          0,
          'nothing was created',
        );
        assert.equal(flipped.leaked_fds, 0);
        tally.signed.push(`${o.name}: signed ${g.stage === 'ok' ? 'ok' : errnoName(g.errno)}`);
      });
    }
  });

  it('maps.clang-el.o: Attach links its tp_btf program as NAME__attach does, and Close closes the link', (t) => {
    if (WHY) return t.skip(WHY);
    const o = allObjects().find((x) => x.name === 'maps.clang-el.o');
    if (!o) return t.skip('maps.clang-el.o not present');
    const b = build(o, 'unsigned');
    if ('error' in b) assert.fail(b.error);
    const { plain: g } = goRun(b, 'attach', { plain: b.built.lskel }, { attach: true });
    t.diagnostic(`${describeGo(g)}; links ${g.links}${g.stage === 'attach' ? `: ${g.op ?? ''} ${errnoName(g.errno)}` : ''}`);
    assert.equal(g.leaked_fds, 0, 'Close closed the link with everything else');
    assert.equal(g.stage, 'ok', `Attach: ${g.error ?? ''}`);
    assert.equal(g.links, b.built.lskel.progs.filter((p) => p.attach.kind !== 'none').length, 'one link per program with an auto-attach');
  });

  it('prints the totals', (t) => {
    if (WHY) return t.skip(WHY);
    t.diagnostic(`${tally.compared} objects loaded by the Go skeleton and compared with the loader run directly and the C skeleton`);
    t.diagnostic(`${tally.sameFailure.length} failed inside with the C skeleton's errno: ${tally.sameFailure.join('; ')}`);
    t.diagnostic(`${tally.skipped.length} not generated: ${tally.skipped.join('; ')}`);
    t.diagnostic(`linux-6.18 on ${tally.signed.length} objects: ${tally.signed.join('; ')}`);
  });
});
