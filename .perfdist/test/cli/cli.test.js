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
const run = (...args) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
/** `index:<TAB>text` lines per section from llvm-objdump -d --no-show-raw-insn output. */
function instructionLines(text) {
    const out = new Map();
    let section = '';
    for (const line of text.split('\n')) {
        const h = /^Disassembly of section (.*):$/.exec(line);
        if (h) {
            section = h[1];
            out.set(section, []);
            continue;
        }
        const m = /^\s*(\d+):\t(.*)$/.exec(line);
        if (m && section)
            out.get(section).push(`${m[1]}:${m[2]}`);
    }
    return out;
}
describe('bpfsign disasm', { skip: hasTool('llvm-objdump') ? false : 'llvm-objdump not installed (scripts/install-deps.sh)' }, () => {
    for (const o of allObjects()) {
        it(`prints what llvm-objdump prints for ${o.origin} ${o.name}, line for line`, () => {
            const ours = run('disasm', o.path);
            assert.equal(ours.status, 0, ours.stderr);
            const theirs = execFileSync('llvm-objdump', ['-d', '--no-show-raw-insn', o.path], { encoding: 'utf8', maxBuffer: 64 << 20 });
            const a = instructionLines(ours.stdout), b = instructionLines(theirs);
            assert.deepEqual([...a.keys()], [...b.keys()], 'sections');
            for (const [sec, lines] of b) {
                const mine = a.get(sec);
                const i = lines.findIndex((l, k) => l !== mine[k]);
                assert.equal(mine.length === lines.length && i < 0, true, `section ${sec}: first difference at line ${i}: ours ${JSON.stringify(mine[i])}, llvm-objdump ${JSON.stringify(lines[i])} (${mine.length} vs ${lines.length} lines)`);
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
        const listing = JSON.parse(json.stdout);
        assert.deepEqual(listing.map((l) => l.section), ['xdp']);
        assert.deepEqual(instructionLines(text.stdout).get('xdp'), listing[0].lines.map((l) => `${l.index}:${l.text}`));
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
        for (const s of ['programs (', 'maps (', 'globals (', 'externs (', 'CO-RE relocations:', 'BTF:', 'features:', 'outer_array', 'ARRAY_OF_MAPS', '[0]=inner_a'])
            assert.ok(r.stdout.includes(s), s);
    });
    it('gives the same content as JSON with --json', () => {
        const r = run('inspect', obj, '--json');
        const s = JSON.parse(r.stdout);
        assert.equal(s.name, 'map_in_map_clan', 'object name from the file name, 15 chars');
        assert.deepEqual(s.maps.find((m) => m.name === 'outer_hash').slots.map((x) => x.index), [1, 5]);
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
//# sourceMappingURL=cli.test.js.map