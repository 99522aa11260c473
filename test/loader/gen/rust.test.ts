/**
 * The Rust light skeleton: a golden module per fixture (test/golden/rust/<fixture>.rs, unsigned,
 * fixed host inputs) and one signed (linux-6.18, a fixed stand-in signature), rewritten only with
 * UPDATE_GOLDEN=1; the C header's names; typed errors for input it cannot print; rustfmt-clean
 * (Debian's rustfmt when installed) for every golden and for names that push lines past
 * rustfmt's width or are Rust keywords, and those edge cases and the README's example build with
 * cargo and the libc crate.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoaderError } from '../../../src/loader/errors.js';
import { emitSkeleton, type LightSkeletonInput } from '../../../src/loader/gen/index.js';
import { emitRustSkeleton } from '../../../src/loader/gen/rust.js';
import { buildLoader, type BuiltLoader } from '../../../src/service/loader.js';
import { runGen } from '../../../src/cli/gen.js';
import { testKeysDir } from '../../support/test-keys.js';
import { fixtureObjects, readObject, ROOT, type TestObject } from '../../support/objects.js';
import { bpftoolObjName } from './lskel-bytes.js';
import { FIXED_HOST } from './support.js';
import { buildCrate, cargoSkipReason, rustfmtDiff, rustfmtSkipReason } from './rust-support.js';

const GOLDEN = join(ROOT, 'test/golden/rust');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** A stand-in for a PKCS#7 signature: the emitter embeds bytes, it does not read them. */
const FAKE_SIG = new Uint8Array(Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff));

function build(o: TestObject, scheme: 'unsigned' | 'linux-6.18' = 'unsigned'): BuiltLoader {
  return buildLoader(readObject(o), o.name, {
    scheme,
    name: bpftoolObjName(o.path),
    flavour: 'v1.7',
    standalone: false,
    mapExcl: false,
    host: FIXED_HOST,
  });
}

function check(file: string, text: string): void {
  const path = join(GOLDEN, file);
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE) assert.fail(`golden ${path} missing; run with UPDATE_GOLDEN=1`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, text);
    return;
  }
  assert.equal(text, readFileSync(path, 'utf8'), `${path} differs (UPDATE_GOLDEN=1 rewrites it)`);
}

/** A skeleton input with long and reserved names, no loader behind it (format and build only). */
function edgeInput(): LightSkeletonInput {
  const long = 'data_a_custom_section_whose_name_goes_on_and_on_and_on_past_the_width';
  const int = (size: 1 | 2 | 4 | 8, signed = false) => ({ kind: 'int' as const, size, signed });
  return {
    name: 'a_skeleton_name_that_is_long_enough_to_push_lines_past_one_hundred_columns',
    insns: new Uint8Array(16),
    data: new Uint8Array(8),
    hasBtf: true,
    maps: [
      { name: 'type', ident: 'type', mmap: null },
      {
        name: '.data.long',
        ident: long,
        mmap: {
          initialValue: new Uint8Array(30),
          mmapSize: 4096,
          readOnly: true,
          vars: [
            { name: 'match', decl: '', offset: 0, size: 1, align: 1, typeSize: 1, type: int(1) },
            { name: 'packed_u32', decl: '', offset: 1, size: 4, align: 1, typeSize: 4, type: int(4) },
            {
              name: 'self',
              decl: '',
              offset: 8,
              size: 16,
              align: 8,
              typeSize: 16,
              type: {
                kind: 'struct',
                size: 16,
                fields: [
                  { name: 'fn', offset: 0, type: int(2, true) },
                  { name: '', offset: 8, type: { kind: 'float', size: 8 } },
                ],
              },
            },
            { name: '__pad0', decl: '', offset: 24, size: 1, align: 1, typeSize: 1, type: int(1) },
            { name: 'tail', decl: '', offset: 28, size: 2, align: 2, typeSize: 2, type: int(2) },
          ],
        },
      },
    ],
    progs: [
      { name: 'loop', attach: { kind: 'raw_tracepoint', target: 'sched_"switch' } },
      { name: 'it', attach: { kind: 'iter' } },
      { name: 'fentry_x', attach: { kind: 'tracing' } },
    ],
  };
}

describe('Rust light skeletons', () => {
  describe('golden modules', () => {
    for (const o of fixtureObjects()) {
      const base = o.name.replace(/\.o$/, '');
      it(`${base}: the module matches test/golden/rust/${base}.rs, or the object is refused with a typed error`, (t) => {
        let built: BuiltLoader;
        try {
          built = build(o);
        } catch (e) {
          assert.ok(e instanceof LoaderError, String(e));
          t.diagnostic(`${base}: ${e.code}: ${e.message}`);
          return;
        }
        const text = emitRustSkeleton(built.lskel);
        assert.equal(emitRustSkeleton(built.lskel), text, 'the same input prints the same text');
        check(`${base}.rs`, text);
      });
    }

    it('xdp_filter.clang-el (linux-6.18): embeds signature and excl_prog_hash and exposes keyring_id', () => {
      const o = fixtureObjects().find((x) => x.name === 'xdp_filter.clang-el.o');
      assert.ok(o);
      const built = build(o, 'linux-6.18');
      const text = emitRustSkeleton({ ...built.lskel, signature: { sig: FAKE_SIG, exclHash: built.loader.insnsHash } });
      assert.match(text, /static OPTS_SIG: &\[u8\] = b"\\\n\\x0b\\x30/);
      assert.match(text, /static OPTS_EXCL_HASH: &\[u8\]/);
      assert.match(text, /pub keyring_id: i32,/);
      assert.match(text, /excl_prog_hash: Some\(OPTS_EXCL_HASH\)/);
      check('xdp_filter.clang-el.linux-6.18.rs', text);
    });
  });

  it("uses the C header's names: the skeleton struct, map idents, programs and NAME__ident structs", () => {
    let checked = 0;
    for (const o of fixtureObjects()) {
      let built: BuiltLoader;
      try {
        built = build(o);
      } catch {
        continue;
      }
      const n = built.name;
      const rust = emitSkeleton('rust', built.lskel, built.headerOptions);
      assert.equal(rust.fileName, `${n}.rs`);
      const c = built.header;
      for (const [, s] of c.matchAll(/struct (\w+__\w+) \{/g))
        assert.match(rust.text, new RegExp(`pub struct ${s} \\{`), `${o.name}: ${s}`);
      assert.match(rust.text, new RegExp(`pub struct ${n} \\{`));
      for (const m of built.lskel.maps) {
        assert.match(c, new RegExp(`struct bpf_map_desc ${m.ident};`));
        assert.match(rust.text, new RegExp(`    pub ${m.ident}: bpf_map_desc,`), `${o.name}: map ${m.ident}`);
      }
      for (const p of built.lskel.progs) {
        assert.match(c, new RegExp(`struct bpf_prog_desc ${p.name};`));
        assert.match(rust.text, new RegExp(`    pub ${p.name}: bpf_prog_desc,`), `${o.name}: prog ${p.name}`);
        assert.match(rust.text, new RegExp(`    pub ${p.name}_fd: i32,`), `${o.name}: link ${p.name}_fd`);
      }
      checked++;
    }
    assert.ok(checked >= 20, `${checked} fixtures compared`);
  });

  it('gen --lang rust with a key: NAME.rs embeds data.bin, insns.bin, signature.p7s and SHA-256(insns.bin)', async () => {
    const o = fixtureObjects().find((x) => x.name === 'xdp_filter.clang-el.o');
    assert.ok(o);
    const keys = testKeysDir();
    const tmp = mkdtempSync(join(tmpdir(), 'bpfsign-rsgen-'));
    const out = join(tmp, 'out');
    try {
      await runGen(
        o.path,
        {
          scheme: 'linux-6.18',
          name: 'xdp_filter',
          out,
          flavour: 'v1.7',
          standalone: false,
          mapExcl: false,
          host: FIXED_HOST,
          lang: 'rust',
          key: join(keys, 'rsa2048.key.pem'),
          cert: join(keys, 'rsa2048.cert.pem'),
        },
        () => {},
      );
      const statics = rustByteStatics(readFileSync(join(out, 'xdp_filter.rs'), 'utf8'));
      const file = (f: string) => new Uint8Array(readFileSync(join(out, f)));
      assert.deepEqual(statics.get('OPTS_DATA'), file('data.bin'));
      assert.deepEqual(statics.get('OPTS_INSN'), file('insns.bin'));
      assert.deepEqual(statics.get('OPTS_SIG'), file('signature.p7s'));
      assert.deepEqual(statics.get('OPTS_EXCL_HASH'), new Uint8Array(createHash('sha256').update(file('insns.bin')).digest()));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('places every variable at its BTF offset: natural alignment, explicit padding where it would not, bytes for a misaligned one', () => {
    const text = emitRustSkeleton(edgeInput());
    const ds = /pub struct a_skeleton_name_\w+__data_a_custom_section_whose_name_goes_on_and_on_and_on_past_the_width\n\{\n([^}]*)\}/.exec(
      text,
    );
    assert.ok(ds, 'the datasec struct is declared');
    assert.deepEqual(
      ds[1]
        .trim()
        .split('\n')
        .map((l) => l.trim()),
      [
        'pub r#match: u8,',
        'pub packed_u32: [u8; 4],',
        'pub self_:',
        'a_skeleton_name_that_is_long_enough_to_push_lines_past_one_hundred_columns__data_a_custom_section_whose_name_goes_on_and_on_and_on_past_the_width__self,',
        'pub __pad0: u8,',
        'pub __pad1: [u8; 3],',
        'pub tail: u16,',
      ],
    );
    assert.match(text, /pub r#fn: i16,\n {4}pub __anon1: f64,/);
    assert.match(text, /pub r#type: bpf_map_desc,/);
    assert.match(text, /raw_tracepoint_open\(Some\(b"sched_\\x22switch\\0"\), prog_fd\)\?/);
  });

  it('refuses input it cannot print with a typed error naming the field', () => {
    const ok = edgeInput();
    const cases: [string, LightSkeletonInput][] = [
      ['name', { ...ok, name: 'not-an-ident' }],
      ['insns', { ...ok, insns: new Uint8Array(12) }],
      ['maps', { ...ok, maps: [ok.maps[0], ok.maps[0]] }],
      ['progs', { ...ok, progs: [ok.progs[0], ok.progs[0]] }],
      ['signature', { ...ok, signature: { sig: FAKE_SIG, exclHash: new Uint8Array(31) } }],
    ];
    for (const [field, input] of cases) {
      assert.throws(
        () => emitRustSkeleton(input),
        (e: unknown) => e instanceof LoaderError && e.code === 'OBJECT_UNSUPPORTED' && e.details.field === field,
        field,
      );
    }
    const overlap = structuredClone(ok);
    overlap.maps[1].mmap!.vars[1].offset = 0;
    assert.throws(
      () => emitRustSkeleton(overlap),
      (e: unknown) => e instanceof LoaderError && e.details.field === 'maps' && /overlaps/.test(e.message),
    );
  });

  describe('rustfmt and the compiler', () => {
    it('every golden module is rustfmt-clean', (t) => {
      const why = rustfmtSkipReason();
      if (why) return t.skip(why);
      const files = existsSync(GOLDEN)
        ? readdirSync(GOLDEN)
            .filter((f) => f.endsWith('.rs'))
            .sort()
        : [];
      assert.ok(files.length > 0, 'golden modules exist');
      for (const f of files) assert.equal(rustfmtDiff(readFileSync(join(GOLDEN, f), 'utf8')), null, f);
      t.diagnostic(`${files.length} modules checked`);
    });

    it('long and reserved names stay rustfmt-clean and the module builds without warnings', (t) => {
      const text = emitRustSkeleton(edgeInput());
      const why = rustfmtSkipReason();
      if (why) t.diagnostic(`rustfmt not run: ${why}`);
      else assert.equal(rustfmtDiff(text), null);
      const noCargo = cargoSkipReason();
      if (noCargo) return t.skip(noCargo);
      const main =
        'mod edge;\n\nfn main() {\n    let _ = edge::a_skeleton_name_that_is_long_enough_to_push_lines_past_one_hundred_columns::open;\n}\n';
      const r = buildCrate('edge', new Map([['edge.rs', text]]), main, true);
      assert.ok(r.ok, r.ok ? '' : r.reason);
    });

    it("the README's Rust example builds against the globals skeleton", (t) => {
      const noCargo = cargoSkipReason();
      if (noCargo) return t.skip(noCargo);
      const example = /```rust\n([\s\S]*?)\n```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'));
      assert.ok(example, 'the README has a Rust example');
      const o = fixtureObjects().find((x) => x.name === 'globals.clang-el.o');
      assert.ok(o);
      const module = emitRustSkeleton({ ...build(o).lskel, name: 'globals' });
      const r = buildCrate('readme', new Map([['globals.rs', module]]), `${example[1]}\n`, true);
      assert.ok(r.ok, r.ok ? '' : r.reason);
    });
  });
});

/** The `static NAME: &[u8] = b"..."` byte strings of a module, decoded (NUL and hex escapes, line continuations). */
function rustByteStatics(text: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const m of text.matchAll(/^static (\w+): &\[u8\] = b"([^"]*)";$/gm)) {
    const body = m[2].replace(/\\\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < body.length;) {
      if (body.startsWith('\\0', i)) {
        bytes.push(0);
        i += 2;
      } else if (body.startsWith('\\x', i)) {
        bytes.push(parseInt(body.slice(i + 2, i + 4), 16));
        i += 4;
      } else {
        bytes.push(body.charCodeAt(i));
        i++;
      }
    }
    out.set(m[1], new Uint8Array(bytes));
  }
  return out;
}
