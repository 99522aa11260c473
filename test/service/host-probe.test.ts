/**
 * The host profile's probe: run once per kernel release and boot and cached, its answers
 * equal to what this kernel says when asked separately (the test's own attach probe, the
 * kernel config for signature support), and the kernel config alone when bpf() is not
 * permitted here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBtf } from '../../src/loader/btf/index.js';
import { hostProbe, kernelConfig, HOST_PROBE_FORMAT } from '../../src/service/host-probe.js';
import { readHostProfile } from '../../src/service/profile.js';
import { refusedAttachTypes } from '../kernel-runner/attach-probe.js';
import { runnerSkipReason } from '../kernel-runner/harness.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const noBtf = existsSync(VMLINUX) ? false : `${VMLINUX} does not exist`;

describe('the host probe', { skip: noBtf }, () => {
  const btf = () => new Uint8Array(readFileSync(VMLINUX));

  it('probes once, then answers from its cache for the same release and boot', (t) => {
    const why = runnerSkipReason();
    if (why) return t.skip(why);
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-probe-cache-'));
    try {
      const first = hostProbe(btf(), { cacheDir: dir });
      assert.equal(first.source, 'probe', first.reason);
      assert.ok(first.cacheFile && existsSync(first.cacheFile));
      const second = hostProbe(btf(), { cacheDir: dir });
      assert.equal(second.source, 'cache');
      assert.deepEqual(second.parts, first.parts);
      // Another boot's answers are not this boot's: a cache file that names another boot id is probed again.
      const j = JSON.parse(readFileSync(first.cacheFile!, 'utf8'));
      assert.equal(j.format, HOST_PROBE_FORMAT);
      writeFileSync(first.cacheFile!, JSON.stringify({ ...j, bootId: 'another-boot' }));
      assert.equal(hostProbe(btf(), { cacheDir: dir }).source, 'probe');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the attach types this kernel refuses, as a separate probe of the kernel does', (t) => {
    const why = runnerSkipReason();
    if (why) return t.skip(why);
    const p = hostProbe(btf(), { cacheDir: null });
    const key = (r: { progType: string; attachType: string; errno: string }) => `${r.progType}/${r.attachType}=${r.errno}`;
    const want = refusedAttachTypes(parseBtf(btf())).map(key).sort();
    t.diagnostic(`refused here: ${want.join(', ') || 'none'}`);
    assert.deepEqual((p.parts.refusedAttachTypes ?? []).map(key).sort(), want);
  });

  it('says signatures are verified exactly when the kernel config has CONFIG_SYSTEM_DATA_VERIFICATION', (t) => {
    const config = kernelConfig();
    if (!config) return t.skip('the kernel config cannot be read (/boot/config-RELEASE, /proc/config.gz)');
    const want = config.has('CONFIG_SYSTEM_DATA_VERIFICATION');
    for (const noProbe of [false, true]) {
      const p = hostProbe(btf(), { cacheDir: null, noProbe });
      t.diagnostic(`noProbe ${noProbe}: source ${p.source}${p.reason ? ` (${p.reason})` : ''}`);
      assert.equal(p.parts.signatureVerification, want, `noProbe ${noProbe}`);
    }
    const { profile } = readHostProfile({ cacheDir: null, noProbe: true });
    assert.equal(profile.signature, want ? 'insns' : 'no-verification');
  });

  it('leaves refused attach types and helpers unknown when it cannot probe', () => {
    const p = hostProbe(btf(), { cacheDir: null, noProbe: true });
    assert.ok(p.source === 'config' || p.source === 'none');
    assert.equal(p.parts.refusedAttachTypes, undefined);
    assert.equal(p.parts.helpers, undefined);
    assert.match(p.reason ?? '', /not asked for/);
  });
});
