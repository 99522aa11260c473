/**
 * A Go or Rust light skeleton in a gen directory is held to its bundle as strictly as the C
 * header: printed again from the signed loader, signature, plan and the BTF in the loader's blob,
 * it must be the file byte for byte. One flipped byte in any embedded byte string, one changed
 * line of code or variable type, a renamed, missing or second skeleton is named with the first
 * differing line — signed under either scheme and unsigned, with and without the object. Every
 * fixture's directory passes in each flavour. The CLI exits 0 for such a directory as gen wrote
 * it and 1 for a tampered one.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBundleFiles, type FilesCheck } from '../../src/service/verify-files.js';
import { buildLoader, plainJson, skeletonFile, type BuiltLoader } from '../../src/service/loader.js';
import { signBuilt, unsignedBundle } from '../../src/service/sign.js';
import { canonicalBytes, signerFromPem, type Signer } from '../../src/signing/index.js';
import { parseBundle } from '../../src/signing/bundle.js';
import { FIXTURES, ROOT } from '../support/objects.js';
import { testKeysDir } from '../support/test-keys.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const KEYS = testKeysDir();
const CERT = join(KEYS, 'p256.cert.pem');
const GLOBALS = join(FIXTURES, 'obj/globals.clang-el.o');
const PROG_TYPES = join(FIXTURES, 'obj/prog_types.clang-el.o');
const canReplay = existsSync('/sys/kernel/btf/vmlinux');

type Lang = 'go' | 'rust';
const EXT: Record<Lang, string> = { go: '.lskel.go', rust: '.rs' };
const SCHEMES = [
  { scheme: 'linux-6.18', signed: true },
  { scheme: 'linux-load-time', signed: true },
  { scheme: 'unsigned', signed: false },
] as const;

/** Every directory made here, removed when the file's tests are done. */
const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'bpfsign-files-lang-'));
  made.push(d);
  return d;
};

function genDir(obj: string, lang: Lang, scheme: string, signed: boolean): string {
  const dir = tmp();
  const args = [CLI, 'gen', obj, '-o', dir, '--scheme', scheme, '--lang', lang];
  if (signed) args.push('--key', join(KEYS, 'p256.key.pem'), '--cert', CERT);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

function readDir(dir: string): Map<string, Uint8Array> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]),
  );
}

const bundleOf = (files: Map<string, Uint8Array>) => parseBundle(JSON.parse(Buffer.from(files.get('bundle.json')!).toString('utf8')));
const textOf = (files: Map<string, Uint8Array>, f: string) => Buffer.from(files.get(f)!).toString('utf8');
const withText = (files: Map<string, Uint8Array>, f: string, text: string) =>
  new Map(files).set(f, new Uint8Array(Buffer.from(text, 'utf8')));
const problemsOf = (r: FilesCheck) => r.problems.map((p) => [p.file, p.problem]);

/** The 1-based line of character offset `at`. */
const lineAt = (text: string, at: number) => text.slice(0, at).split('\n').length;

/** The text with the embedded byte at hex digit `at` changed (another hex digit), and that line. */
function flipDigit(text: string, at: number): { text: string; line: number } {
  assert.match(text[at], /[0-9a-f]/, `offset ${at} is not a hex digit`);
  return { text: text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1), line: lineAt(text, at) };
}

/** The embedded byte strings of a skeleton, by their constant's name, each with the offset of a hex digit inside it. */
function byteStrings(lang: Lang, text: string, signed: boolean): [string, number][] {
  const names =
    lang === 'go'
      ? ['optsData', 'optsInsn', ...(signed ? ['optsSig', 'optsExclHash'] : []), 'data_bss', 'data_rodata']
      : ['OPTS_DATA', 'OPTS_INSN', ...(signed ? ['OPTS_SIG', 'OPTS_EXCL_HASH'] : []), 'INIT_0', 'INIT_1'];
  return names.map((n) => {
    const decl = lang === 'go' ? `\nconst ${n} = "` : `\nstatic ${n}: &[u8] = b"`;
    const start = text.indexOf(decl);
    assert.ok(start >= 0, `no ${n}`);
    // The last hex digit of the second escaped byte: past the line break a Rust string starts with.
    const esc = text.indexOf('\\x', text.indexOf('\\x', start + decl.length) + 1);
    return [n, esc + 3];
  });
}

/** A line of code changed: the mapped memory made executable. */
function codeEdit(lang: Lang, text: string): { text: string; line: number } {
  const [from, to] =
    lang === 'go'
      ? ['unix.PROT_READ|unix.PROT_WRITE, ', 'unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC, ']
      : ['prot |= libc::PROT_WRITE;', 'prot |= libc::PROT_WRITE | libc::PROT_EXEC;'];
  const at = text.indexOf(from);
  assert.ok(at >= 0, from);
  return { text: text.slice(0, at) + to + text.slice(at + from.length), line: lineAt(text, at) };
}

/** A variable's type changed (uint32 → int32 / u32 → i32): what the loaded BTF says decides. */
function typeEdit(lang: Lang, text: string): { text: string; line: number } {
  const re = lang === 'go' ? /\n\tData_counter +uint32\n/ : /\n    pub data_counter: u32,\n/;
  const m = re.exec(text);
  assert.ok(m, String(re));
  const edited = m[0].replace(lang === 'go' ? 'uint32' : 'u32', lang === 'go' ? 'int32' : 'i32');
  return { text: text.slice(0, m.index) + edited + text.slice(m.index + m[0].length), line: lineAt(text, m.index + 1) };
}

function assertLine(r: FilesCheck, file: string, line: number): void {
  assert.deepEqual(problemsOf(r), [[file, 'different']]);
  assert.match(r.problems[0].message, new RegExp(`^${file.replace(/\./g, '\\.')}: line ${line} differs`));
  const d = r.problems[0].details as { line: number; got: string; want: string };
  assert.equal(d.line, line);
  assert.notEqual(d.got, d.want);
}

for (const lang of ['go', 'rust'] as const) {
  for (const { scheme, signed } of SCHEMES) {
    describe(`a ${signed ? 'signed ' : ''}${scheme} directory with a ${lang} skeleton`, () => {
      const files = readDir(genDir(GLOBALS, lang, scheme, signed));
      const bundle = bundleOf(files);
      const skel = `globals_clang_el${EXT[lang]}`;
      const text = textOf(files, skel);

      it('passes as gen wrote it, the skeleton checked', () => {
        const r = checkBundleFiles(files, bundle);
        assert.deepEqual(r.problems, []);
        assert.ok(r.checked.includes(skel));
        assert.deepEqual(r.checked.sort(), [...files.keys()].sort());
      });

      for (const [name, at] of byteStrings(lang, text, signed)) {
        it(`names the line of a byte flipped in ${name}`, () => {
          const e = flipDigit(text, at);
          assertLine(checkBundleFiles(withText(files, skel, e.text), bundle), skel, e.line);
        });
      }

      it('names a changed line of code', () => {
        const e = codeEdit(lang, text);
        assertLine(checkBundleFiles(withText(files, skel, e.text), bundle), skel, e.line);
      });

      it("names a variable whose type is not the loaded BTF's", () => {
        const e = typeEdit(lang, text);
        assertLine(checkBundleFiles(withText(files, skel, e.text), bundle), skel, e.line);
      });

      it('names one byte appended after the last line', () => {
        const r = checkBundleFiles(withText(files, skel, `${text}\n`), bundle);
        assert.deepEqual(problemsOf(r), [[skel, 'different']]);
      });

      it('names a renamed skeleton as extra, and the skeleton as missing', () => {
        const copy = new Map(files);
        copy.delete(skel);
        copy.set(`other${EXT[lang]}`, files.get(skel)!);
        const r = checkBundleFiles(copy, bundle);
        assert.deepEqual(problemsOf(r).sort(), [
          ['globals_clang_el.lskel.h', 'missing'],
          [`other${EXT[lang]}`, 'extra'],
        ]);
        assert.match(r.problems.find((p) => p.problem === 'missing')!.message, new RegExp(skel.replace(/\./g, '\\.')));
      });

      it('names a missing skeleton by every name it may have', () => {
        const copy = new Map(files);
        copy.delete(skel);
        const r = checkBundleFiles(copy, bundle);
        assert.deepEqual(problemsOf(r), [['globals_clang_el.lskel.h', 'missing']]);
        assert.match(r.problems[0].message, /globals_clang_el\.lskel\.h is missing .*globals_clang_el\.lskel\.go, globals_clang_el\.rs/);
      });

      it('refuses a second skeleton beside it, naming both', () => {
        const other = lang === 'go' ? 'globals_clang_el.rs' : 'globals_clang_el.lskel.go';
        const r = checkBundleFiles(new Map(files).set(other, files.get(skel)!), bundle);
        assert.deepEqual(
          problemsOf(r).sort(),
          [
            [other, 'extra'],
            [skel, 'extra'],
          ].sort(),
        );
        assert.match(r.problems[0].message, /holds 2/);
      });

      it('refuses the C header beside it', () => {
        const r = checkBundleFiles(new Map(files).set('globals_clang_el.lskel.h', new Uint8Array(Buffer.from('/* header */\n'))), bundle);
        assert.deepEqual(
          problemsOf(r).sort(),
          [
            ['globals_clang_el.lskel.h', 'extra'],
            [skel, 'extra'],
          ].sort(),
        );
      });

      it("is gen's own bytes when the object is given", () => {
        const built = buildLoader(new Uint8Array(readFileSync(GLOBALS)), 'globals.clang-el.o', {
          scheme: scheme as 'linux-6.18',
          name: 'globals_clang_el',
          flavour: 'v1.7',
          standalone: false,
          mapExcl: false,
          host: {},
        });
        assert.deepEqual(checkBundleFiles(files, bundle, built).problems, []);
        const e = codeEdit(lang, text);
        const r = checkBundleFiles(withText(files, skel, e.text), bundle, built);
        assertLine(r, skel, e.line);
        assert.match(r.problems[0].message, /gen writes for this object/);
      });
    });
  }

  describe(`a ${lang} skeleton's attaches (raw tracepoint, tracing, iterator, not loaded)`, () => {
    for (const { scheme, signed } of [SCHEMES[0], SCHEMES[2]]) {
      const files = readDir(genDir(PROG_TYPES, lang, scheme, signed));
      const bundle = bundleOf(files);
      const skel = `prog_types_clang_el${EXT[lang]}`;
      const text = textOf(files, skel);

      it(`pass as gen wrote them (${scheme})`, () => {
        assert.deepEqual(checkBundleFiles(files, bundle).problems, []);
      });

      it(`are the plan's: an iterator made a raw tracepoint is named (${scheme})`, () => {
        const [from, to] =
          lang === 'go'
            ? ['linkCreate(s.Progs.Pt_iter_task.ProgFd, bpfTraceIter)', 'rawTracepointOpen("task", s.Progs.Pt_iter_task.ProgFd)']
            : ['let fd = link_create(prog_fd, BPF_TRACE_ITER)?;', 'let fd = raw_tracepoint_open(Some(b"task\\0"), prog_fd)?;'];
        assert.ok(text.includes(from), from);
        const r = checkBundleFiles(withText(files, skel, text.replace(from, to)), bundle);
        assert.deepEqual(problemsOf(r), [[skel, 'different']]);
      });

      if (signed) {
        it("hold a raw tracepoint's target to the signed summary's section", () => {
          const r = checkBundleFiles(withText(files, skel, text.replaceAll('sched_switch', 'sched_waking')), bundle);
          assert.deepEqual(problemsOf(r), [[skel, 'different']]);
        });
      }
    }
  });
}

describe('bpfsign verify DIR with a Go or Rust skeleton', { skip: canReplay ? false : 'no kernel BTF for the replay' }, () => {
  for (const lang of ['go', 'rust'] as const) {
    const dir = genDir(GLOBALS, lang, 'linux-6.18', true);
    const skel = `globals_clang_el${EXT[lang]}`;
    const verify = (d: string) => spawnSync(process.execPath, [CLI, 'verify', d, '--trust', CERT, '--offline'], { encoding: 'utf8' });

    it(`exits 0 for the ${lang} directory gen wrote`, () => {
      const r = verify(dir);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`pass files .*${skel.replace(/\./g, '\\.')}`));
    });

    it(`exits 1 naming the ${lang} skeleton and its line after one flipped byte in its loader`, () => {
      const d = tmp();
      cpSync(dir, d, { recursive: true });
      const text = readFileSync(join(d, skel), 'utf8');
      const e = flipDigit(text, byteStrings(lang, text, true)[1][1]);
      writeFileSync(join(d, skel), e.text);
      const r = verify(d);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`FAIL files .*\\[MISMATCH\\] ${skel.replace(/\./g, '\\.')}: line ${e.line} differs`));
    });
  }
});

/** gen's files for a built loader, in memory, signed with the P-256 test key when `signer` is given. */
async function genFiles(built: BuiltLoader, lang: Lang, signer: Signer | null): Promise<Map<string, Uint8Array>> {
  const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  const files = new Map<string, Uint8Array>([
    ['insns.bin', built.loader.insns],
    ['data.bin', built.loader.data],
    ['loader.json', enc(`${plainJson(built.manifest)}\n`)],
  ]);
  for (const [i, v] of built.inits) files.set(`init.${i}.bin`, v);
  let signature: Uint8Array | null = null;
  if (signer) {
    const signed = await signBuilt(built, signer, [readFileSync(CERT, 'utf8')]);
    signature = signed.signature;
    files.set('signature.p7s', signed.signature);
    files.set('manifest.json', new Uint8Array([...canonicalBytes(signed.manifest), 0x0a]));
    files.set('bundle.json', enc(JSON.stringify(signed.bundle)));
  } else {
    files.set('bundle.json', enc(JSON.stringify(unsignedBundle(built))));
  }
  const skel = skeletonFile(built, lang, signature);
  files.set(skel.fileName, enc(skel.text));
  return files;
}

describe("every fixture's gen files with a Go or Rust skeleton pass without the object, libbpf-1.7's signed loader.json included", () => {
  const objects = readdirSync(join(FIXTURES, 'obj'))
    .filter((f) => f.endsWith('.o'))
    .sort();
  for (const flavour of ['v1.7', 'bpftool-7.1', 'libbpf-1.7'] as const) {
    it(`for flavour ${flavour}, unsigned and linux-6.18 signed`, async () => {
      const signer = await signerFromPem({ privateKey: readFileSync(join(KEYS, 'p256.key.pem')), certificate: readFileSync(CERT, 'utf8') });
      let checked = 0;
      for (const obj of objects) {
        for (const scheme of ['unsigned', 'linux-6.18'] as const) {
          let built: BuiltLoader;
          try {
            built = buildLoader(new Uint8Array(readFileSync(join(FIXTURES, 'obj', obj))), obj, {
              scheme,
              name: 'skel',
              flavour,
              standalone: false,
              mapExcl: false,
              host: {},
            });
          } catch {
            continue; // an object this flavour cannot load (gen refuses it too)
          }
          for (const lang of ['go', 'rust'] as const) {
            const files = await genFiles(built, lang, scheme === 'unsigned' ? null : signer);
            const r = checkBundleFiles(files, bundleOf(files));
            assert.deepEqual(r.problems, [], `${obj} ${scheme} ${lang}`);
            assert.ok(r.checked.includes(`skel${EXT[lang]}`), `${obj} ${scheme} ${lang}`);
            checked++;
          }
        }
      }
      assert.ok(checked >= 40, `${checked} skeletons checked`);
    });
  }
});
