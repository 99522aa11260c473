/**
 * Byte identity with bpftool 7.7 / libbpf v1.7.0 (/work/shared/reference/bpftool-7.7): for every
 * reference light skeleton — unsigned, RSA-2048 and P-256 signed — the 'libbpf-1.7' flavour made
 * from the same object must give the same loader instructions, data blob, excl_prog_hash and
 * header text; our PKCS#7 over the instructions with the same RSA key must equal the header's
 * opts_sig (PKCS#1 v1.5 is deterministic); the P-256 signature (ECDSA is not) must verify over
 * our instructions with verifyDetached and with openssl. Objects bpftool refused have no header
 * there: the flavour must refuse them too, with a typed error saying why.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoaderError } from '../../../src/loader/errors.js';
import { loaderWeaknesses, parseLightSkeleton, type ParsedLightSkeleton } from '../../../src/loader/gen/index.js';
import { buildLoader, signedHeader, type BuiltLoader } from '../../../src/service/loader.js';
import { signDetached, signerFromPem, verifyDetached } from '../../../src/signing/index.js';
import { FIXTURES, XDP_TOOLS_DIR } from '../../support/objects.js';
import { OPENSSL_MISSING, openssl, tempDir } from '../../signing/helpers.js';

const REF = '/work/shared/reference/bpftool-7.7';
const NO_REF = existsSync(join(REF, 'README.md')) ? false : `reference headers not found at ${REF}`;
/** Host inputs libbpf probed when the references were made (README.md there). */
const HOST = { kernelVersion: (6 << 16) + (18 << 8) + 44, possibleCpus: 2, pageSize: 4096, usdtUprobeMulti: true };
const KINDS = ['unsigned', 'rsa2048', 'p256'] as const;
type Kind = (typeof KINDS)[number];

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const same = (a: Uint8Array | null, b: Uint8Array | null): boolean => !!a && !!b && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

interface RefObject {
  set: 'fixtures' | 'libxdp1';
  base: string;
  path: string;
  /** null when the object's bytes match SHA256SUMS.objects, else why its headers no longer apply. */
  stale: string | null;
  headers: Partial<Record<Kind, string>>;
}

function sums(set: string): Map<string, string> {
  const p = join(REF, set, 'SHA256SUMS.objects');
  if (!existsSync(p)) return new Map();
  return new Map(
    readFileSync(p, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .map(([h, f]) => [f, h]),
  );
}

function refObjects(): RefObject[] {
  if (NO_REF) return [];
  const out: RefObject[] = [];
  for (const set of ['fixtures', 'libxdp1'] as const) {
    const objDir = set === 'fixtures' ? join(FIXTURES, 'obj') : XDP_TOOLS_DIR;
    for (const [file, hash] of sums(set)) {
      const base = file.replace(/\.o$/, '');
      const path = join(objDir, file);
      let stale: string | null = null;
      if (!existsSync(path)) stale = `${path} is missing`;
      else if (sha256(readFileSync(path)) !== hash)
        stale = `${path} differs from SHA256SUMS.objects (rebuilt since the references were made)`;
      const headers: RefObject['headers'] = {};
      for (const kind of KINDS) {
        const h = join(REF, set, `${base}${kind === 'unsigned' ? '' : `.${kind}`}.lskel.h`);
        if (existsSync(h)) headers[kind] = h;
      }
      out.push({ set, base, path, stale, headers });
    }
  }
  return out;
}

function build(o: RefObject, name: string, kind: Kind): BuiltLoader {
  return buildLoader(new Uint8Array(readFileSync(o.path)), `${o.base}.o`, {
    scheme: kind === 'unsigned' ? 'unsigned' : 'linux-6.18',
    name,
    flavour: 'libbpf-1.7',
    standalone: false,
    mapExcl: false,
    host: HOST,
  });
}

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    if (a[i] !== b[i]) return `first difference at byte ${i} (instruction ${i >> 3}); lengths ${a.length} vs ${b.length}`;
  return 'identical';
}

function textDiff(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `first difference at line ${a.slice(0, i).split('\n').length}: ours ${JSON.stringify(a.slice(i, i + 60))} vs bpftool ${JSON.stringify(b.slice(i, i + 60))}`;
}

const objects = refObjects();
const identical = { headers: 0, of: 0 };

describe('the libbpf-1.7 flavour against bpftool 7.7 light skeletons', { skip: NO_REF }, () => {
  const keys = {
    rsa2048: { key: join(REF, 'keys/rsa2048.key.pem'), cert: join(REF, 'keys/rsa2048.cert.pem') },
    p256: { key: join(REF, 'keys/p256.key.pem'), cert: join(REF, 'keys/p256.cert.pem') },
  };

  for (const o of objects.filter((x) => Object.keys(x.headers).length)) {
    describe(`${o.set}/${o.base}`, () => {
      for (const kind of KINDS) {
        const file = o.headers[kind];
        if (!file) continue;
        it(`${kind}: instructions, data, excl_prog_hash and header text equal bpftool's`, { skip: o.stale ?? false }, async () => {
          identical.of++;
          const text = readFileSync(file, 'utf8');
          const ref: ParsedLightSkeleton = parseLightSkeleton(text);
          const built = build(o, ref.name, kind);
          assert.ok(same(built.loader.data, ref.data), `data: ${firstDiff(built.loader.data, ref.data)}`);
          assert.ok(same(built.loader.insns, ref.insns), `insns: ${firstDiff(built.loader.insns, ref.insns)}`);
          if (kind === 'unsigned') {
            assert.equal(ref.signature, null, 'an unsigned header has no opts_sig');
            assert.ok(built.header === text, `header: ${textDiff(built.header, text)}`);
          } else {
            assert.equal(
              Buffer.from(ref.exclProgHash!).toString('hex'),
              sha256(built.loader.insns),
              'opts_excl_hash is SHA-256 of our instructions',
            );
            const k = keys[kind];
            const signer = await signerFromPem({ privateKey: readFileSync(k.key), certificate: readFileSync(k.cert, 'utf8') });
            const ours = await signDetached(built.loader.insns, signer);
            if (kind === 'rsa2048') {
              assert.ok(same(ours, ref.signature), `opts_sig: our PKCS#7 differs: ${firstDiff(ours, ref.signature!)}`);
            } else {
              // ECDSA signatures differ each time: bpftool's must verify over our instructions.
              const v = verifyDetached(ref.signature!, built.loader.insns, [readFileSync(k.cert, 'utf8')]);
              assert.ok(v.ok, `bpftool's P-256 signature does not verify over our instructions: ${v.ok ? '' : v.error.message}`);
              assert.ok(verifyDetached(ours, built.loader.insns, [readFileSync(k.cert, 'utf8')]).ok, 'our P-256 signature verifies');
            }
            const header = signedHeader(built, kind === 'rsa2048' ? ours : ref.signature!);
            assert.ok(header === text, `header: ${textDiff(header, text)}`);
          }
          identical.headers++;
        });
      }
      const p256 = o.headers.p256;
      if (p256) {
        it("p256: openssl cms -verify accepts bpftool's signature over our instructions", { skip: o.stale ?? OPENSSL_MISSING }, () => {
          const ref = parseLightSkeleton(readFileSync(p256, 'utf8'));
          const built = build(o, ref.name, 'p256');
          const t = tempDir('lskel77');
          try {
            writeFileSync(join(t.dir, 'insns.bin'), built.loader.insns);
            writeFileSync(join(t.dir, 'sig.der'), ref.signature!);
            const r = openssl([
              'cms',
              '-verify',
              '-binary',
              '-inform',
              'DER',
              '-in',
              join(t.dir, 'sig.der'),
              '-content',
              join(t.dir, 'insns.bin'),
              '-noverify',
              '-certfile',
              keys.p256.cert,
              '-out',
              '/dev/null',
            ]);
            assert.equal(r.status, 0, `openssl: ${r.stderr}`);
          } finally {
            t.cleanup();
          }
        });
      }
    });
  }

  it('prints how many headers are identical (every one whose object is current)', { skip: NO_REF }, (t) => {
    const current = objects.filter((o) => !o.stale).reduce((n, o) => n + Object.keys(o.headers).length, 0);
    for (const o of objects.filter((x) => x.stale)) t.diagnostic(`${o.set}/${o.base}: not compared: ${o.stale}`);
    t.diagnostic(`${identical.headers}/${identical.of} reference headers identical (${current} with current objects)`);
    assert.equal(identical.of, current, 'every header with a current object was compared');
    assert.equal(identical.headers, identical.of);
  });

  describe('objects bpftool refused (no reference header)', () => {
    for (const o of objects.filter((x) => !Object.keys(x.headers).length)) {
      it(`${o.set}/${o.base}: refused with a typed error`, { skip: o.stale ?? false }, (t) => {
        for (const kind of ['unsigned', 'rsa2048'] as const) {
          let err: unknown;
          try {
            build(o, o.base.replace(/\W/g, '_'), kind);
          } catch (e) {
            err = e;
          }
          assert.ok(err instanceof LoaderError, `${kind}: the libbpf-1.7 flavour built a loader bpftool refused to make (${String(err)})`);
          if (kind === 'unsigned') t.diagnostic(`${o.base}: ${err.code}: ${err.message}`);
        }
      });
    }
  });
});

describe('loaderWeaknesses on bpftool 7.7 loaders', { skip: NO_REF }, () => {
  for (const o of objects.filter((x) => Object.keys(x.headers).length)) {
    for (const kind of KINDS) {
      const file = o.headers[kind];
      if (!file) continue;
      it(
        `${o.set}/${o.base} ${kind}: every map's max_entries and every initialised map's initial_value come from the ctx${kind === 'unsigned' ? '' : ' after the hash check; the metadata map need not be exclusive'}`,
        { skip: o.stale ?? false },
        () => {
          const ref = parseLightSkeleton(readFileSync(file, 'utf8'));
          const w = loaderWeaknesses(ref.insns, { header: ref });
          const built = build(o, ref.name, kind);
          const overrides = w.filter((x) => x.code === 'CTX_OVERRIDES_MAP');
          const fields = (f: string) =>
            overrides
              .filter((x) => x.details.field === f)
              .map((x) => x.details.mapIndex)
              .sort((a, b) => Number(a) - Number(b));
          assert.deepEqual(
            fields('max_entries'),
            built.plan.maps.map((m) => m.index),
            'max_entries read for every map',
          );
          assert.deepEqual(
            fields('initial_value'),
            built.plan.ops.flatMap((op) => (op.op === 'map_update' ? [op.mapIndex] : [])),
            'initial_value read for every map the loader initialises',
          );
          assert.equal(overrides.length, fields('max_entries').length + fields('initial_value').length, 'no other ctx reads');
          const excl = w.filter((x) => x.code === 'METADATA_MAP_NOT_EXCLUSIVE');
          if (kind === 'unsigned') {
            assert.equal(excl.length, 0);
          } else {
            assert.ok(
              overrides.every((x) => x.details.afterMetadataCheck === true),
              'the reads come after the hash check',
            );
            assert.deepEqual(
              excl.map((x) => x.details.source),
              ['insns'],
              'the loader checks map->sha but not map->excl; the header does ask for excl_prog_hash',
            );
          }
        },
      );
    }
  }
});
