/**
 * A light skeleton's initial images and global-variable declarations, which its text check prints
 * back as read, are compared with what the signed loader loads: every header we generate (v1.7 and
 * libbpf-1.7, unsigned and signed) and every bpftool 7.7 reference header passes; a flipped image
 * byte, a duplicated declaration, a changed type, size assert or pad fails, naming the map. With
 * no kernel profile the check says it did not compare them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLightSkeletonText } from '../../src/loader/gen/lskel-reread.js';
import { checkHeaderContents, type HeaderContentsCheck } from '../../src/service/header-contents.js';
import { verifyHeader } from '../../src/service/verify-header.js';
import { buildLoader, signedHeader } from '../../src/service/loader.js';
import { loadProfile } from '../../src/service/verify.js';
import { parsePolicy, STRICT } from '../../src/signing/policy.js';
import { allObjects, FIXTURES, readObject, ROOT } from '../support/objects.js';

const REFERENCE = join(ROOT, '../shared/reference/bpftool-7.7');
const PROFILE = join(FIXTURES, 'profiles/linux-6.18-min/vmlinux.btf');
const profile = existsSync(PROFILE) ? loadProfile(PROFILE) : null;

interface Header {
  name: string;
  text: string;
  scheme: 'unsigned' | 'linux-6.18' | 'linux-load-time';
}

function ourHeaders(): Header[] {
  const out: Header[] = [];
  for (const o of allObjects()) {
    for (const flavour of ['v1.7', 'libbpf-1.7'] as const) {
      for (const scheme of ['unsigned', 'linux-6.18', 'linux-load-time'] as const) {
        if (flavour === 'libbpf-1.7' && scheme === 'linux-load-time') continue;
        let built;
        try {
          built = buildLoader(readObject(o), o.name, {
            scheme,
            name: 'skel',
            flavour,
            standalone: false,
            mapExcl: false,
            host: { ksymAddresses: {} },
          });
        } catch {
          continue; // objects a flavour refuses are refused with their own error elsewhere
        }
        // The signature's bytes do not matter here: only the loader's effects are compared.
        out.push({
          name: `${o.name} ${flavour} ${scheme}`,
          text: scheme === 'unsigned' ? built.header : signedHeader(built, new Uint8Array([0x30, 0x00])),
          scheme,
        });
      }
    }
  }
  return out;
}

function referenceHeaders(): Header[] {
  const out: Header[] = [];
  for (const sub of ['fixtures', 'libxdp1']) {
    const dir = join(REFERENCE, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.lskel.h'))
        out.push({
          name: `${sub}/${f}`,
          text: readFileSync(join(dir, f), 'utf8'),
          scheme: /\.(rsa2048|p256)\.lskel\.h$/.test(f) ? 'linux-6.18' : 'unsigned',
        });
    }
  }
  return out;
}

function contentsOf(h: Header): HeaderContentsCheck {
  const c = checkLightSkeletonText(h.text);
  assert.ok(c.ok, `${h.name}: ${c.ok ? '' : c.message}`);
  return checkHeaderContents(c.reread, h.text, { scheme: h.scheme, profile });
}

/** Tampered variants of a header's declarations: each keeps the text check passing. */
function declarationEdits(text: string): { what: string; text: string }[] {
  const out: { what: string; text: string }[] = [];
  const lines = text.split('\n');
  const member = lines.findIndex((l) => /^\t\t(__u32|__u64|__s32|int|unsigned int|char) [A-Za-z_][A-Za-z0-9_]*(\[\d+\])?;$/.test(l));
  if (member >= 0) {
    out.push({
      what: 'a declaration duplicated',
      text: [...lines.slice(0, member + 1), lines[member]!.replace(/ ([A-Za-z_][A-Za-z0-9_]*)/, ' $1_2'), ...lines.slice(member + 1)].join(
        '\n',
      ),
    });
    const l = lines[member]!;
    const wider = l.includes('__u32')
      ? l.replace('__u32', '__u64')
      : l.includes('__u64')
        ? l.replace('__u64', '__u32')
        : l.replace(/^\t\t\S+( int)?/, '\t\tlong long');
    out.push({ what: 'a type changed', text: [...lines.slice(0, member), wider, ...lines.slice(member + 1)].join('\n') });
  }
  const assertAt = lines.findIndex((l) => /_Static_assert\(sizeof\(s->\w+->\w+\) == \d+/.test(l));
  if (assertAt >= 0)
    out.push({
      what: 'an assert size changed',
      text: [
        ...lines.slice(0, assertAt),
        lines[assertAt]!.replace(/== (\d+)/, (_, n) => `== ${Number(n) * 2}`),
        ...lines.slice(assertAt + 1),
      ].join('\n'),
    });
  const padAt = lines.findIndex((l) => /^\t\tchar __pad\d+\[\d+\];$/.test(l));
  if (padAt >= 0)
    out.push({
      what: 'a pad changed',
      text: [...lines.slice(0, padAt), lines[padAt]!.replace(/\[(\d+)\]/, (_, n) => `[${Number(n) + 4}]`), ...lines.slice(padAt + 1)].join(
        '\n',
      ),
    });
  return out;
}

/** The header with the first byte of every map's initial image changed (one variant per map). */
function imageEdits(text: string): { what: string; text: string }[] {
  const out: { what: string; text: string }[] = [];
  const re = /static const char data\[\] __attribute__\(\(__aligned__\(8\)\)\) = "\\\n/g;
  for (const m of text.matchAll(re)) {
    const at = m.index! + m[0].length;
    const first = text.startsWith('\\0', at) ? '\\0' : /^\\x[0-9a-f]{2}/.exec(text.slice(at))?.[0];
    if (!first) continue;
    const next = first === '\\x01' ? '\\x02' : '\\x01';
    out.push({ what: `image at ${at} flipped`, text: text.slice(0, at) + next + text.slice(at + first.length) });
  }
  return out;
}

describe('checkHeaderContents', { skip: profile ? false : `no kernel profile at ${PROFILE}` }, () => {
  const ours = ourHeaders();
  const refs = referenceHeaders();

  it('passes every header we generate and every bpftool 7.7 reference header', () => {
    assert.ok(ours.length >= 60, `only ${ours.length} headers generated`);
    const bad: string[] = [];
    let compared = 0;
    for (const h of [...ours, ...refs]) {
      const r = contentsOf(h);
      if (r.status === 'fail') bad.push(`${h.name}: ${r.message}`);
      if (r.status === 'pass') compared++;
    }
    assert.deepEqual(bad, []);
    // Some loaders stop in the model (BTF it refuses, big-endian objects): those are reported as
    // not compared, never as a pass; most are compared in full.
    assert.ok(compared * 2 > ours.length + refs.length, `only ${compared} headers compared in full`);
  });

  it('fails a changed declaration, assert or pad, naming the map', () => {
    let tried = 0;
    const accepted: string[] = [];
    for (const h of [...ours, ...refs]) {
      for (const e of declarationEdits(h.text)) {
        const c = checkLightSkeletonText(e.text);
        if (!c.ok) continue; // the text check refuses it already
        const r = checkHeaderContents(c.reread, e.text, { scheme: h.scheme, profile });
        if (r.status === 'unchecked' && r.reason.includes('declarations')) continue;
        tried++;
        if (r.status !== 'fail') accepted.push(`${h.name}: ${e.what}`);
        else
          assert.ok(
            r.problems.some((p) => p.what === 'declarations' && p.line! > 0),
            `${h.name}: ${e.what}: ${r.message}`,
          );
      }
    }
    assert.ok(tried >= 100, `only ${tried} declaration edits tried`);
    assert.deepEqual(accepted, []);
  });

  it('fails a flipped image byte with the map and the offset', () => {
    let tried = 0;
    const accepted: string[] = [];
    for (const h of [...ours, ...refs]) {
      for (const e of imageEdits(h.text)) {
        const c = checkLightSkeletonText(e.text);
        if (!c.ok) continue; // an escape that no longer spells one byte: the text check refuses it
        const r = checkHeaderContents(c.reread, e.text, { scheme: h.scheme, profile });
        if (r.status === 'unchecked') continue;
        tried++;
        if (r.status !== 'fail') {
          accepted.push(`${h.name}: ${e.what}`);
          continue;
        }
        const p = r.problems.find((x) => x.what === 'image');
        assert.ok(p && p.map && p.offset === 0, `${h.name}: ${r.message}`);
      }
    }
    // Fewer headers without the bpftool reference folder (a fresh clone): ours alone give some 70.
    assert.ok(tried >= (refs.length ? 100 : 50), `only ${tried} image edits tried`);
    assert.deepEqual(accepted, []);
  });

  it('says the contents were not compared when there is no profile', () => {
    const h = ours.find((x) => x.name.startsWith('globals.clang-el.o v1.7 unsigned'))!;
    const c = checkLightSkeletonText(h.text);
    assert.ok(c.ok);
    const r = checkHeaderContents(c.reread, h.text, { scheme: 'unsigned', profile: null });
    assert.equal(r.status, 'unchecked');
    assert.match(r.message, /not checked: no kernel profile/);
  });
});

describe(
  'verifyHeader with the contents check',
  { skip: !profile ? `no kernel profile at ${PROFILE}` : existsSync(REFERENCE) ? false : `no reference keys under ${REFERENCE}` },
  () => {
    const policy = parsePolicy({
      version: 1,
      name: 'unsigned',
      roots: [readFileSync(join(REFERENCE, 'keys/rsa2048.cert.pem'), 'utf8')],
      allowUnsigned: true,
      checks: { ...STRICT, transparencyLog: 'skip', hardening: 'log' },
    });
    const at = new Date('2027-01-01T00:00:00Z');
    const text = ourHeaders().find((x) => x.name === 'globals.clang-el.o v1.7 unsigned')!.text;

    it('passes the files check of a genuine header and says what it compared', () => {
      const v = verifyHeader(text, policy, { at, profile });
      const files = v.verdict.checks.find((c) => c.check === 'files')!;
      assert.equal(files.status, 'pass');
      assert.match(files.message, /initial images and \d+ variable declarations are the signed loader's/);
      assert.equal(v.contents?.status, 'pass');
    });

    it('fails the files check with MISMATCH on a widened field, naming the line', () => {
      const edited = text.replace(/\t\t__u32 data_counter;\n/, '\t\t__u64 data_counter;\n');
      assert.notEqual(edited, text);
      const v = verifyHeader(edited, policy, { at, profile });
      const files = v.verdict.checks.find((c) => c.check === 'files')!;
      assert.equal(files.status, 'fail');
      assert.equal(v.verdict.verdict, 'MISMATCH');
      assert.match(files.message, /is not the declaration the loaded BTF gives/);
    });

    it('says in the files check that nothing was compared without a profile', () => {
      const v = verifyHeader(text, policy, { at, profile: null });
      const files = v.verdict.checks.find((c) => c.check === 'files')!;
      assert.equal(files.status, 'pass');
      assert.match(files.message, /not checked: no kernel profile/);
      assert.deepEqual(files.details, { contents: 'unchecked', reason: 'no kernel profile to replay the loader' });
    });
  },
);
