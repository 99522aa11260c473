import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatKallsyms, parseKallsyms, type KallsymsEntry } from '../../../src/kernel/profile/index.js';

/** The table a plain Map gives: one entry per line that parses, the first of a name kept. */
function plainMap(text: string): Map<string, KallsymsEntry> {
  const out = new Map<string, KallsymsEntry>();
  for (const line of text.split('\n')) {
    const f = line.split(/\s+/).filter((x) => x !== '');
    if (f.length < 3 || !/^[0-9a-fA-F]{1,16}$/.test(f[0]) || f[1].length !== 1 || out.has(f[2])) continue;
    const mod = f[3] && /^\[(\S+)\]$/.exec(f[3]);
    out.set(f[2], { address: BigInt(`0x${f[0]}`), type: f[1], module: mod ? mod[1] : null });
  }
  return out;
}

const SAMPLE = [
  'ffffffff81000000 T _stext',
  'ffffffff81000100 t dup',
  'ffffffff81000200 T dup',
  'ffffffffc0a01000 t xdp_mod_fn\t[xdp_mod]',
  'ffffffffc0b02000 d other_var\t[other]',
  'not a line',
  '',
  'ffffffffc0a01100 T zz_last\t[xdp_mod]',
  '0000000000000000 T hidden',
].join('\n');

describe('parseKallsyms', () => {
  it('finds every symbol a plain map of the same lines finds, with its address, type and module', () => {
    const table = parseKallsyms(SAMPLE),
      map = plainMap(SAMPLE);
    assert.equal(table.size, map.size);
    for (const [name, e] of map) assert.deepEqual(table.get(name), e, name);
    assert.deepEqual(table.get('xdp_mod_fn'), { address: 0xffffffffc0a01000n, type: 't', module: 'xdp_mod' });
  });

  it('keeps the first of two lines with one name, as libbpf does', () => {
    assert.equal(parseKallsyms(SAMPLE).get('dup')?.address, 0xffffffff81000100n);
  });

  it('answers undefined for a name it does not hold, and for names between and beyond its own', () => {
    const t = parseKallsyms(SAMPLE);
    for (const n of ['', 'a', '_stex', '_stext_', 'dupe', 'zzz', '\uffff']) {
      assert.equal(t.get(n), undefined, n);
      assert.equal(t.has(n), false, n);
    }
    assert.equal(parseKallsyms('').size, 0);
    assert.equal(parseKallsyms('').get('x'), undefined);
  });

  it('iterates its entries sorted by name, and formats back to the text of the same table', () => {
    const t = parseKallsyms(SAMPLE);
    const names = [...t.keys()];
    assert.deepEqual(names, [...names].sort());
    assert.deepEqual(
      [...t.entries()].map(([n]) => n),
      names,
    );
    assert.equal(formatKallsyms(t), formatKallsyms(plainMap(SAMPLE)));
    assert.deepEqual([...parseKallsyms(formatKallsyms(t))], [...t]);
  });

  it("agrees with a plain map on every symbol of this machine's /proc/kallsyms", (ctx) => {
    let text: string;
    try {
      text = readFileSync('/proc/kallsyms', 'utf8');
    } catch (e) {
      ctx.skip(`/proc/kallsyms cannot be read: ${(e as Error).message}`);
      return;
    }
    const table = parseKallsyms(text),
      map = plainMap(text);
    assert.equal(table.size, map.size);
    let differ = 0;
    for (const [name, e] of map) {
      const got = table.get(name);
      if (!got || got.address !== e.address || got.type !== e.type || got.module !== e.module) differ++;
    }
    assert.equal(differ, 0, `${differ} of ${map.size} symbols differ`);
  });
});
