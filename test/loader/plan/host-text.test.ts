import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostOptionsOf, hostTextOf, HostTextError, kconfigLines, kernelVersionOf } from '../../../src/loader/plan/index.js';

describe('hostOptionsOf', () => {
  it('reads kconfig and ksym items given as a list or as one comma-separated string alike', () => {
    const list = hostOptionsOf({ kconfig: ['CONFIG_A=y', 'CONFIG_B="x=y"'], ksym: ['foo=0x10', 'bar=32'] });
    const joined = hostOptionsOf({ kconfig: 'CONFIG_A=y,CONFIG_B="x=y"', ksym: 'foo=0x10,bar=32' });
    assert.deepEqual(list, joined);
    assert.deepEqual(list, { kconfig: { CONFIG_A: 'y', CONFIG_B: '"x=y"' }, ksymAddresses: { foo: 16n, bar: 32n } });
  });

  it('reads the kernel version, CPUs and page size, in the order gen gives them', () => {
    const h = hostOptionsOf({ pageSize: '16384', cpus: '8', ksym: 'k=1', kernelVersion: '6.18.300', kconfig: 'CONFIG_X=1' });
    assert.deepEqual(Object.keys(h), ['kconfig', 'kernelVersion', 'ksymAddresses', 'possibleCpus', 'pageSize']);
    assert.equal(h.kernelVersion, (6 << 16) + (18 << 8) + 255, 'the patch level stops at 255, as libbpf packs it');
    assert.deepEqual([h.possibleCpus, h.pageSize], [8, 16384]);
  });

  it('lets its own kconfig items win over the base (a .config file), keeping the rest of it', () => {
    const base = { kconfig: kconfigLines('# comment\nCONFIG_A=y\nCONFIG_B=m\n  CONFIG_C=3  \nnot a line\n') };
    assert.deepEqual(base.kconfig, { CONFIG_A: 'y', CONFIG_B: 'm', CONFIG_C: '3' });
    assert.deepEqual(hostOptionsOf({ kconfig: ['CONFIG_B=n'] }, base).kconfig, { CONFIG_A: 'y', CONFIG_B: 'n', CONFIG_C: '3' });
  });

  it('refuses what does not read, naming the field as the caller calls it, the item and what it wants', () => {
    const refused = (t: Parameters<typeof hostOptionsOf>[0], re: RegExp) =>
      assert.throws(
        () => hostOptionsOf(t, {}, { kconfig: '--kconfig', ksym: '--ksym', kernelVersion: '--kernel-version', cpus: '--cpus' }),
        (e: unknown) => e instanceof HostTextError && re.test(e.message),
      );
    refused({ kconfig: ['=y'] }, /^--kconfig =y: want NAME=VALUE$/);
    refused({ kconfig: ['CONFIG_A'] }, /^--kconfig CONFIG_A: want NAME=VALUE$/);
    refused({ ksym: ['foo'] }, /^--ksym foo: want NAME=ADDRESS$/);
    refused({ ksym: ['foo=bar'] }, /^--ksym foo=bar: want NAME=ADDRESS, the address decimal or 0x hex/);
    refused({ ksym: ['foo=0x10000000000000000'] }, /^--ksym foo=0x10000000000000000: want/);
    refused({ ksym: ['foo=18446744073709551616'] }, /at most 64 bits/);
    refused({ kernelVersion: '6' }, /^--kernel-version 6: want A.B\[.C\]/);
    refused({ kernelVersion: '256.1' }, /A and B at most 255/);
    refused({ cpus: '0' }, /^--cpus 0: want a positive integer$/);
    refused({ cpus: '1.5' }, /^--cpus 1.5: want a positive integer$/);
    assert.equal(hostOptionsOf({ ksym: ['max=18446744073709551615'] }).ksymAddresses?.max, (1n << 64n) - 1n);
  });
});

describe('hostTextOf', () => {
  it("writes host options as the service's fields, which read back to the same options", () => {
    const host = hostOptionsOf({
      kconfig: 'CONFIG_A=y,CONFIG_B=7',
      kernelVersion: '6.1.5',
      ksym: 'a=0x10,b=3',
      cpus: '4',
      pageSize: '4096',
    });
    const t = hostTextOf(host);
    assert.deepEqual(t, { kconfig: 'CONFIG_A=y,CONFIG_B=7', ksym: 'a=0x10,b=0x3', kernelVersion: '6.1.5', cpus: '4', pageSize: '4096' });
    assert.deepEqual(hostOptionsOf(t), host);
    assert.deepEqual(hostTextOf({}), {});
    assert.equal(kernelVersionOf(t.kernelVersion!), host.kernelVersion);
  });
});
