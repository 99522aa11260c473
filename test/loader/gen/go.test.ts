/**
 * The Go light skeleton (src/loader/gen/go.ts): golden files for every fixture in
 * test/golden/go/<fixture>.go (rewritten only with UPDATE_GOLDEN=1), the same text on every run,
 * gofmt-clean and accepted by `go vet` (GOPATH mode, offline, golang.org/x/sys/unix from
 * /usr/share/gocode) — which also checks every variable's offset and size against BTF — and
 * typed errors for names Go cannot take.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoaderError } from '../../../src/loader/errors.js';
import { emitGoSkeleton, goBytes, goExport } from '../../../src/loader/gen/go.js';
import { emitSkeleton } from '../../../src/loader/gen/lang.js';
import type { LightSkeletonInput } from '../../../src/loader/gen/lskel.js';
import { objectNameFromPath } from '../../../src/loader/object/index.js';
import { buildLoader } from '../../../src/service/loader.js';
import { fixtureObjects, hasTool, readObject, ROOT, type TestObject } from '../../support/objects.js';

const GOLDEN = join(ROOT, 'test/golden/go');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** A stand-in signature: the emitter embeds bytes, it does not check them. */
const FAKE_SIG = new Uint8Array(Array.from({ length: 70 }, (_, i) => (i * 37 + 11) & 0xff));

function input(o: TestObject, signed = false): LightSkeletonInput {
  const name = objectNameFromPath(o.name);
  const built = buildLoader(readObject(o), o.name, {
    scheme: signed ? 'linux-6.18' : 'unsigned',
    name,
    flavour: 'v1.7',
    standalone: false,
    mapExcl: false,
    host: {},
  });
  if (!signed) return built.lskel;
  return { ...built.lskel, signature: { sig: FAKE_SIG, exclHash: built.loader.insnsHash } };
}

function check(path: string, text: string): void {
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE) assert.fail(`golden ${path} missing; run with UPDATE_GOLDEN=1`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, text);
    return;
  }
  assert.equal(text, readFileSync(path, 'utf8'), `${path} differs (UPDATE_GOLDEN=1 rewrites it)`);
}

/** Every golden, as package dir → file text, for the toolchain checks. */
const made = new Map<string, { file: string; text: string }>();

describe('Go light skeleton golden files', () => {
  for (const o of fixtureObjects()) {
    const base = o.name.replace(/\.o$/, '');
    it(`${base}: matches test/golden/go/${base}.go, or the object is refused with a typed error`, (t) => {
      let lskel: LightSkeletonInput;
      try {
        lskel = input(o);
      } catch (e) {
        assert.ok(e instanceof LoaderError, String(e));
        t.diagnostic(`${base}: ${e.code}: ${e.message}`);
        return;
      }
      const text = emitGoSkeleton(lskel);
      check(join(GOLDEN, `${base}.go`), text);
      made.set(lskel.name, { file: `${lskel.name}.lskel.go`, text });
    });
  }

  it('xdp_filter.clang-el: the signed skeleton embeds the signature, excl_prog_hash and a Keyring_id member', () => {
    const o = fixtureObjects().find((x) => x.name === 'xdp_filter.clang-el.o');
    assert.ok(o);
    const lskel = input(o, true);
    const text = emitGoSkeleton(lskel);
    check(join(GOLDEN, 'xdp_filter.clang-el.signed.go'), text);
    assert.match(text, /\n\tKeyring_id +int32\n/);
    assert.ok(text.includes(`const optsSig = ${goBytes(FAKE_SIG)}\n`), 'optsSig is the signature');
    assert.ok(text.includes(`const optsExclHash = ${goBytes(lskel.signature!.exclHash)}\n`), 'optsExclHash is SHA-256 of the instructions');
    assert.ok(text.includes('loadAndRun(s.state, &s.Ctx, s.Keyring_id)'), 'Load passes the keyring id');
    made.set(`${lskel.name}_signed`, {
      file: `${lskel.name}.lskel.go`,
      text: text.replace(`package ${lskel.name}\n`, `package ${lskel.name}_signed\n`),
    });
  });

  it('is the same text on every run and through the registry (lang go)', () => {
    const o = fixtureObjects().find((x) => x.name === 'globals.clang-el.o');
    assert.ok(o);
    const a = emitGoSkeleton(input(o));
    const b = emitSkeleton('go', input(o), { flavour: 'v1.7' });
    assert.equal(b.fileName, 'globals_clang_el.lskel.go');
    assert.equal(b.text, a);
  });

  it('types the global variables from BTF at their offsets, padding where C does', () => {
    const text =
      made.get('globals_clang_el')?.text ?? emitGoSkeleton(input(fixtureObjects().find((x) => x.name === 'globals.clang-el.o')!));
    assert.match(
      text,
      /type Globals_clang_el__bss struct \{\n\tBss_events +uint64\n\tBss_last_len +uint32\n\t_ +\[4\]byte\n\tBss_pair +Globals_clang_el__bss__bss_pair\n/,
    );
    assert.match(text, /type Globals_clang_el__bss__bss_pair struct \{\n\tA uint32\n\t_ \[4\]byte\n\tB uint64\n\}/);
    assert.match(text, /var _ = \[1\]struct\{\}\{\}\[unsafe\.Offsetof\(Globals_clang_el__bss\{\}\.Bss_pair\)-16\]/);
  });

  it('is gofmt-clean and passes go vet, offsets and sizes included (GOPATH mode, offline)', (t) => {
    if (!hasTool('go') || !hasTool('gofmt')) return t.skip('go/gofmt not installed (golang-go)');
    if (!existsSync('/usr/share/gocode/src/golang.org/x/sys/unix'))
      return t.skip('golang.org/x/sys/unix not installed (golang-golang-x-sys-dev)');
    assert.ok(made.size > 0, 'the golden tests ran first');
    const gopath = mkdtempSync(join(tmpdir(), 'bpfsign-go-'));
    try {
      for (const [pkg, f] of made) {
        mkdirSync(join(gopath, 'src', pkg), { recursive: true });
        writeFileSync(join(gopath, 'src', pkg, f.file), f.text);
      }
      const fmt = spawnSync('gofmt', ['-l', join(gopath, 'src')], { encoding: 'utf8' });
      assert.equal(fmt.status, 0, fmt.stderr);
      assert.equal(fmt.stdout, '', `gofmt would change: ${fmt.stdout}`);
      const env = {
        ...process.env,
        GOPATH: `${gopath}:/usr/share/gocode`,
        GO111MODULE: 'off',
        GOFLAGS: '',
        GOCACHE: join(gopath, 'cache'),
        CGO_ENABLED: '0',
      };
      const vet = spawnSync('go', ['vet', ...made.keys()], { cwd: gopath, env, encoding: 'utf8', timeout: 600_000 });
      assert.equal(vet.status, 0, vet.stderr);
      t.diagnostic(`${made.size} packages gofmt-clean and vetted`);
    } finally {
      rmSync(gopath, { recursive: true, force: true });
    }
  });
});

describe('Go names', () => {
  it('exports C identifiers by upper-casing the first letter, and prefixes a leading underscore', () => {
    assert.equal(goExport('counts'), 'Counts');
    assert.equal(goExport('handle_exec'), 'Handle_exec');
    assert.equal(goExport('_hidden'), 'X_hidden');
  });

  it('writes bytes as a string literal of 32 bytes a line', () => {
    assert.equal(goBytes(new Uint8Array()), '""');
    assert.equal(goBytes(new Uint8Array([0, 0xab])), '"\\x00\\xab"');
    assert.equal(goBytes(new Uint8Array(33)).split('\n').length, 2);
  });

  const tiny: LightSkeletonInput = { name: 'tiny', insns: new Uint8Array(8), data: new Uint8Array(4), maps: [], progs: [], hasBtf: false };
  const refused = (i: LightSkeletonInput, field: string) =>
    assert.throws(
      () => emitGoSkeleton(i),
      (e) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED' && e.details.field === field,
    );

  it('refuses a skeleton name that is a Go keyword, saying to choose another', () => {
    refused({ ...tiny, name: 'map' }, 'name');
  });

  it('refuses two maps whose Go names are the same', () => {
    refused(
      {
        ...tiny,
        maps: [
          { name: 'a', ident: 'a', mmap: null },
          { name: 'A', ident: 'A', mmap: null },
        ],
      },
      'maps',
    );
  });

  it("refuses a memory-mapped map that would take the skeleton's own member name", () => {
    refused(
      {
        ...tiny,
        maps: [{ name: 'links', ident: 'links', mmap: { initialValue: new Uint8Array(4), mmapSize: 4096, readOnly: false, vars: [] } }],
      },
      'maps',
    );
  });

  it('attaches as the C header does: one Attach_<prog> per program, raw tracepoints by name, Attach calling each', () => {
    const text = emitGoSkeleton({
      ...tiny,
      progs: [
        { name: 'on_enter', attach: { kind: 'raw_tracepoint', target: 'sys_enter' } },
        { name: 'xdp_main', attach: { kind: 'none' } },
      ],
    });
    assert.match(
      text,
      /func \(s \*Tiny\) Attach_on_enter\(\) \(int32, error\) \{\n\tfd, err := rawTracepointOpen\("sys_enter", s\.Progs\.On_enter\.ProgFd\)\n/,
    );
    assert.match(text, /func \(s \*Tiny\) Attach_xdp_main\(\) \(int32, error\) \{\n\treturn 0, nil\n\}/);
    assert.match(
      text,
      /func \(s \*Tiny\) Attach\(\) error \{\n\tif _, err := s\.Attach_on_enter\(\); err != nil \{\n\t\treturn err\n\t\}\n\tif _, err := s\.Attach_xdp_main\(\)/,
    );
  });

  it('refuses instructions that are not whole', () => {
    refused({ ...tiny, insns: new Uint8Array(7) }, 'insns');
  });
});
