/**
 * The `bpfsign` command end to end (spawned as a process, like a user runs it).
 * `disasm` is diffed against Debian's llvm-objdump on every object we have.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allObjects, hasTool, ROOT, FIXTURES } from '../support/objects.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

/** `index:<TAB>text` lines per section from llvm-objdump -d --no-show-raw-insn output. */
function instructionLines(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n')) {
    const h = /^Disassembly of section (.*):$/.exec(line);
    if (h) {
      section = h[1];
      out.set(section, []);
      continue;
    }
    const m = /^\s*(\d+):\t(.*)$/.exec(line);
    if (m && section) out.get(section)!.push(`${m[1]}:${m[2]}`);
  }
  return out;
}

describe('bpfsign disasm', { skip: hasTool('llvm-objdump') ? false : 'llvm-objdump not installed (scripts/install-deps.sh)' }, () => {
  for (const o of allObjects()) {
    it(`prints what llvm-objdump prints for ${o.origin} ${o.name}, line for line`, () => {
      const ours = run('disasm', o.path);
      assert.equal(ours.status, 0, ours.stderr);
      const theirs = execFileSync('llvm-objdump', ['-d', '--no-show-raw-insn', o.path], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const a = instructionLines(ours.stdout),
        b = instructionLines(theirs);
      assert.deepEqual([...a.keys()], [...b.keys()], 'sections');
      for (const [sec, lines] of b) {
        const mine = a.get(sec)!;
        const i = lines.findIndex((l, k) => l !== mine[k]);
        assert.equal(
          mine.length === lines.length && i < 0,
          true,
          `section ${sec}: first difference at line ${i}: ours ${JSON.stringify(mine[i])}, llvm-objdump ${JSON.stringify(lines[i])} (${mine.length} vs ${lines.length} lines)`,
        );
      }
      // Beyond the instruction lines, the whole text (headings, symbol lines, blank lines) matches too.
      assert.equal(ours.stdout, theirs);
    });
  }

  it('prints one section with --section and the same lines as data with --json', () => {
    const obj = join(FIXTURES, 'obj/xdp_filter.clang-el.o');
    const text = run('disasm', obj, '--section', 'xdp');
    const json = run('disasm', obj, '--section', 'xdp', '--json');
    assert.equal(text.status, 0);
    const listing = JSON.parse(json.stdout) as { section: string; lines: { index: number; text: string }[] }[];
    assert.deepEqual(
      listing.map((l) => l.section),
      ['xdp'],
    );
    assert.deepEqual(
      instructionLines(text.stdout).get('xdp'),
      listing[0].lines.map((l) => `${l.index}:${l.text}`),
    );
  });

  it('exits 2 naming the section when it does not exist', () => {
    const r = run('disasm', join(FIXTURES, 'obj/xdp_filter.clang-el.o'), '--section', 'nope');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no executable section named 'nope'/);
  });
});

describe('bpfsign inspect', () => {
  const obj = join(FIXTURES, 'obj/map_in_map.clang-el.o');
  it('prints programs, maps with every attribute, externs, BTF and the feature table', () => {
    const r = run('inspect', obj);
    assert.equal(r.status, 0, r.stderr);
    for (const s of [
      'programs (',
      'maps (',
      'globals (',
      'externs (',
      'CO-RE relocations:',
      'BTF:',
      'features:',
      'outer_array',
      'ARRAY_OF_MAPS',
      '[0]=inner_a',
    ])
      assert.ok(r.stdout.includes(s), s);
  });
  it('gives the same content as JSON with --json', () => {
    const r = run('inspect', obj, '--json');
    const s = JSON.parse(r.stdout);
    assert.equal(s.name, 'map_in_map_clan', 'object name from the file name, 15 chars');
    assert.deepEqual(
      s.maps.find((m: any) => m.name === 'outer_hash').slots.map((x: any) => x.index),
      [1, 5],
    );
    assert.ok(s.features.includes('map_in_map_slots'));
  });
  it('exits 2 with a typed error for a file that is not a BPF object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfsign-cli-'));
    const bad = join(dir, 'bad.o');
    writeFileSync(bad, readFileSync(obj).subarray(0, 100));
    const r = run('inspect', bad);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^bpfsign: ELF_MALFORMED: elf: /);
    const j = run('inspect', bad, '--json');
    assert.equal(JSON.parse(j.stderr).error.code, 'ELF_MALFORMED');
  });
  it('exits 2 for a missing file and for unknown commands', () => {
    assert.equal(run('inspect', '/nonexistent.o').status, 2);
    assert.equal(run('frobnicate').status, 2);
  });
});

describe('bpfsign btf', { skip: hasTool('bpftool') ? false : 'bpftool not installed (scripts/install-deps.sh)' }, () => {
  for (const file of [join(FIXTURES, 'obj/core.clang-eb.o'), join(FIXTURES, 'obj/ksyms.clang-el.o'), '/sys/kernel/btf/vmlinux']) {
    it(`prints what bpftool btf dump prints for ${file}`, (t) => {
      if (file.startsWith('/sys') && !existsSync(file)) {
        t.skip('no vmlinux BTF on this machine');
        return;
      }
      const ours = run('btf', file);
      assert.equal(ours.status, 0, ours.stderr);
      const theirs = execFileSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'raw'], { encoding: 'utf8', maxBuffer: 256 << 20 });
      assert.ok(ours.stdout === theirs || ours.stdout === theirs + '\n', 'output differs from bpftool');
    });
  }
});

describe('one meaning per flag', () => {
  const obj = join(FIXTURES, 'obj/xdp_filter.clang-el.o');
  const keys = () => {
    const d = mkdtempSync(join(tmpdir(), 'bpfsign-flags-'));
    assert.equal(run('keys', 'create', '--dir', d).status, 0);
    return d;
  };

  it('sign refuses --scheme unsigned in one line, pointing at gen', () => {
    const r = run('sign', obj, '--keys', keys(), '--scheme', 'unsigned', '-o', mkdtempSync(join(tmpdir(), 'bpfsign-flags-')));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^bpfsign sign: --scheme unsigned: want linux-6\.18 or linux-load-time \(unsigned loaders: bpfsign gen\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it("sign names its key by --key-id and its map check by --map-excl; --key (gen's PEM file) and --profile (a kernel profile) are not sign's", () => {
    const dir = keys();
    const out = mkdtempSync(join(tmpdir(), 'bpfsign-flags-'));
    const id = (JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')) as { keys: { id: string; active: boolean }[] }).keys.find(
      (k) => k.active,
    )!.id;
    const r = run('sign', obj, '--keys', dir, '--key-id', id, '--map-excl', '-o', out);
    assert.equal(r.status, 0, r.stderr);
    const bundle = JSON.parse(readFileSync(join(out, 'xdp_filter_clang_el.bundle.json'), 'utf8')) as {
      certificates: string[];
      manifest: { payload: string };
    };
    const statement = Buffer.from(bundle.manifest.payload, 'base64').toString('utf8');
    assert.match(statement, /"kernel":\{"mapExcl":true\}/, 'the map-exclusivity check is in the signed build options');
    assert.equal(bundle.certificates[0]?.trim(), readFileSync(join(dir, `${id}.pem`), 'utf8').trim(), 'signed by the key named');
    for (const flag of ['--key', '--profile']) {
      const e = run('sign', obj, '--keys', dir, flag, 'x', '-o', out);
      assert.equal(e.status, 2);
      assert.match(e.stderr, new RegExp(`^bpfsign sign: .*${flag}`));
    }
  });

  it('tokens create takes scopes joined by + as BPFSIGN_API_TOKENS writes them, or by commas', () => {
    const env = { ...process.env, BPFSIGN_DATA_DIR: mkdtempSync(join(tmpdir(), 'bpfsign-flags-')) };
    for (const scopes of ['sign+verify', 'sign,verify']) {
      const r = spawnSync(process.execPath, [CLI, 'tokens', 'create', '--scopes', scopes, '--json'], { encoding: 'utf8', env });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as { scopes: string[] }).scopes, ['sign', 'verify']);
    }
  });
});

describe("sign takes gen's build options", () => {
  const ksyms = join(FIXTURES, 'obj/ksyms.clang-el.o');
  const tmp = () => mkdtempSync(join(tmpdir(), 'bpfsign-signopts-'));

  it('offline, --ksym makes the loader gen --ksym makes, under the --name given', () => {
    const keys = tmp();
    assert.equal(run('keys', 'create', '--dir', keys).status, 0);
    const out = join(tmp(), 'out');
    const r = run('sign', ksyms, '--keys', keys, '--name', 'ks', '--ksym', 'bpf_prog_fops=0xffffffff81000000', '-o', out);
    assert.equal(r.status, 0, r.stderr);
    const g = join(tmp(), 'gen');
    const k = JSON.parse(readFileSync(join(keys, 'keys.json'), 'utf8')) as { keys: { privateKey: string; certificate: string }[] };
    assert.equal(
      run(
        'gen',
        ksyms,
        '-o',
        g,
        '--name',
        'ks',
        '--scheme',
        'linux-6.18',
        '--ksym',
        'bpf_prog_fops=0xffffffff81000000',
        '--key',
        join(keys, k.keys[0]!.privateKey),
        '--cert',
        join(keys, k.keys[0]!.certificate),
      ).status,
      0,
    );
    const bundle = JSON.parse(readFileSync(join(out, 'ks.bundle.json'), 'utf8')) as { loader: { insns: string; data: string } };
    assert.equal(bundle.loader.insns, readFileSync(join(g, 'insns.bin')).toString('base64'));
    assert.equal(bundle.loader.data, readFileSync(join(g, 'data.bin')).toString('base64'));
    assert.ok(existsSync(join(out, 'ks.lskel.h')));
  });

  it('refuses, before any request, what the service does not take, and --name for several objects', () => {
    const out = join(tmp(), 'out');
    const a = run('sign', ksyms, '--server', 'http://127.0.0.1:9', '--no-usdt-uprobe-multi', '-o', out);
    assert.equal(a.status, 2, a.stderr);
    assert.match(a.stderr, /--no-usdt-uprobe-multi is not an option of the service: sign offline with --keys DIR/);
    const b = run('sign', ksyms, ksyms, '--keys', tmp(), '--name', 'x', '-o', out);
    assert.equal(b.status, 2, b.stderr);
    assert.match(b.stderr, /--name names one object/);
    assert.equal(existsSync(out), false);
  });
});
