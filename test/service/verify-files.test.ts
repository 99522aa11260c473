/**
 * Every file of a gen directory is held to its signed bundle: as written, each is accepted; one
 * flipped byte in any of them, a missing one or an extra one is named, with and without the object.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBundleFiles } from '../../src/service/verify-files.js';
import { buildLoader } from '../../src/service/loader.js';
import { parseBundle } from '../../src/signing/bundle.js';
import { FIXTURES, ROOT } from '../support/objects.js';
import { testKeysDir } from '../support/test-keys.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const KEYS = testKeysDir();
const OBJ = join(FIXTURES, 'obj/globals.clang-el.o');

function gen(scheme: string, signed: boolean, lang = 'c'): Map<string, Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-files-'));
  const args = [CLI, 'gen', OBJ, '-o', dir, '--scheme', scheme, '--lang', lang];
  if (signed) args.push('--key', join(KEYS, 'p256.key.pem'), '--cert', join(KEYS, 'p256.cert.pem'));
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return new Map(
    readdirSync(dir)
      .sort()
      .map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]),
  );
}

const bundleOf = (files: Map<string, Uint8Array>) => parseBundle(JSON.parse(Buffer.from(files.get('bundle.json')!).toString('utf8')));

function flipped(files: Map<string, Uint8Array>, name: string, at: (b: Uint8Array) => number): Map<string, Uint8Array> {
  const copy = new Map(files);
  const b = new Uint8Array(files.get(name)!);
  const i = at(b);
  b[i] ^= 0x01;
  copy.set(name, b);
  return copy;
}

/** A byte inside the file's payload: a hex digit of the header's escapes, a JSON digit, else the middle byte. */
function payloadByte(name: string): (b: Uint8Array) => number {
  return (b) => {
    const text = Buffer.from(b).toString('latin1');
    if (name.endsWith('.lskel.h')) return text.indexOf('\\x', text.indexOf('opts_insn')) + 3;
    if (name.endsWith('.json')) {
      const m = /"[0-9a-f]{64}"/.exec(text);
      return m ? m.index + 5 : b.length >> 1;
    }
    return b.length >> 1;
  };
}

describe('checkBundleFiles', () => {
  for (const scheme of ['linux-6.18', 'linux-load-time']) {
    describe(`a signed ${scheme} directory`, () => {
      const files = gen(scheme, true);
      const bundle = bundleOf(files);

      it('accepts every file as gen wrote it', () => {
        const r = checkBundleFiles(files, bundle);
        assert.deepEqual(r.problems, []);
        assert.deepEqual(r.checked.sort(), [...files.keys()].sort());
      });

      for (const name of [...files.keys()].filter((f) => f !== 'bundle.json')) {
        it(`names ${name} when one of its bytes is flipped`, () => {
          const r = checkBundleFiles(flipped(files, name, payloadByte(name)), bundle);
          assert.equal(r.ok, false);
          assert.deepEqual(
            r.problems.map((p) => [p.file, p.problem]),
            [[name, 'different']],
          );
        });
        it(`names ${name} when it is missing`, () => {
          const copy = new Map(files);
          copy.delete(name);
          assert.deepEqual(
            checkBundleFiles(copy, bundle).problems.map((p) => [p.file, p.problem]),
            [[name, 'missing']],
          );
        });
      }

      it('names a file that is not part of the bundle', () => {
        const copy = new Map(files).set('evil.o', new Uint8Array([1]));
        assert.deepEqual(
          checkBundleFiles(copy, bundle).problems.map((p) => [p.file, p.problem]),
          [['evil.o', 'extra']],
        );
      });

      it("compares loader.json and the header byte for byte with gen's when the object is given", () => {
        const built = buildLoader(new Uint8Array(readFileSync(OBJ)), 'globals.clang-el.o', {
          scheme: scheme as 'linux-6.18',
          name: 'globals_clang_el',
          flavour: 'v1.7',
          standalone: false,
          mapExcl: false,
          host: {},
        });
        assert.deepEqual(checkBundleFiles(files, bundle, built).problems, []);
        const header = 'globals_clang_el.lskel.h';
        const text = Buffer.from(files.get(header)!).toString('utf8');
        const edited = new Map(files).set(header, new Uint8Array(Buffer.from(text.replace('\tint err;\n', '\tint err ;\n'))));
        const r = checkBundleFiles(edited, bundle, built);
        assert.deepEqual(
          r.problems.map((p) => p.file),
          [header],
        );
        assert.match(r.problems[0].message, /line \d+ differs/);
      });
    });
  }

  it("holds an unsigned directory's loader.json and header to its loader", () => {
    const files = gen('unsigned', false);
    const bundle = bundleOf(files);
    assert.deepEqual(checkBundleFiles(files, bundle).problems, []);
    const r = checkBundleFiles(flipped(files, 'globals_clang_el.lskel.h', payloadByte('x.lskel.h')), bundle);
    assert.deepEqual(
      r.problems.map((p) => p.file),
      ['globals_clang_el.lskel.h'],
    );
  });
});
