/**
 * Reading a light skeleton back into the emitter's input: every header we generate, and every
 * header bpftool 7.7 wrote (unsigned and signed), prints again byte for byte; one changed line,
 * byte or statement anywhere is named by its line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLightSkeletonText, firstDifference, rereadLightSkeleton } from '../../../src/loader/gen/lskel-reread.js';
import { buildLoader } from '../../../src/service/loader.js';
import { allObjects, readObject, ROOT } from '../../support/objects.js';

const REFERENCE = join(ROOT, '../shared/reference/bpftool-7.7');

function referenceHeaders(): string[] {
  const out: string[] = [];
  for (const sub of ['fixtures', 'libxdp1']) {
    const dir = join(REFERENCE, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.lskel.h')) out.push(join(dir, f));
  }
  return out;
}

function ourHeaders(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const o of allObjects()) {
    for (const flavour of ['v1.7', 'bpftool-7.1'] as const) {
      for (const standalone of [false, true]) {
        let built;
        try {
          built = buildLoader(readObject(o), o.name, {
            scheme: 'unsigned',
            name: 'skel',
            flavour,
            standalone,
            mapExcl: false,
            host: { ksymAddresses: {} },
          });
        } catch {
          continue; // objects we refuse are refused with their own error elsewhere
        }
        out.push({ name: `${o.name} ${flavour}${standalone ? ' standalone' : ''}`, text: built.header });
      }
    }
  }
  return out;
}

describe('rereadLightSkeleton', () => {
  it('prints every header we generate again, byte for byte', () => {
    const headers = ourHeaders();
    assert.ok(headers.length >= 40, `only ${headers.length} headers generated`);
    const failed = headers.filter((h) => !checkLightSkeletonText(h.text).ok).map((h) => h.name);
    assert.deepEqual(failed, []);
  });

  it(
    'prints every bpftool 7.7 reference header again, unsigned and signed',
    { skip: referenceHeaders().length ? false : `no reference headers under ${REFERENCE}` },
    () => {
      const files = referenceHeaders();
      const failed = files.filter((f) => !checkLightSkeletonText(readFileSync(f, 'utf8')).ok);
      assert.deepEqual(failed, []);
      const signed = files.filter((f) => /\.(rsa2048|p256)\.lskel\.h$/.test(f));
      assert.ok(signed.length > 0);
      for (const f of signed)
        assert.ok(rereadLightSkeleton(readFileSync(f, 'utf8')).input.signature, `${f} reads back without its signature`);
    },
  );

  it('names the line of an edited statement, an added one and a changed byte', () => {
    const text = ourHeaders().find((h) => h.name.startsWith('globals.clang-el.o v1.7'))!.text;
    const edits: [string, string][] = [
      ['\terr = bpf_load_and_run(&opts);\n', '\terr = 0;\n'],
      ['\treturn ret < 0 ? ret : 0;\n', '\tsystem("true");\n\treturn ret < 0 ? ret : 0;\n'],
      ['PROT_READ | PROT_WRITE', 'PROT_READ | PROT_WRITE | PROT_EXEC'],
    ];
    for (const [from, to] of edits) {
      assert.ok(text.includes(from), from);
      const r = checkLightSkeletonText(text.replace(from, to));
      assert.equal(r.ok, false, `accepted after ${JSON.stringify(to)}`);
    }
    const at = text.indexOf('opts_insn[]');
    const esc = text.indexOf('\\x', at);
    const flipped = text.slice(0, esc + 2) + (text[esc + 2] === 'f' ? 'e' : 'f') + text.slice(esc + 3);
    const r = checkLightSkeletonText(flipped);
    // A flipped byte prints again as the flipped byte: the header is well formed, and the
    // verifier catches it by comparing the embedded loader with the signed one.
    assert.equal(r.ok, true);
    assert.notDeepEqual(r.ok && r.reread.input.insns, rereadLightSkeleton(text).input.insns);
  });

  it('reports a text that is not a light skeleton at line 1 with the reading error', () => {
    const r = checkLightSkeletonText('int main(void) { return 0; }\n');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.line, 1);
    assert.match(!r.ok ? r.message : '', /not a light skeleton/);
  });
});

describe('firstDifference', () => {
  it('gives the first differing line, and null for equal texts', () => {
    assert.equal(firstDifference('a\nb\n', 'a\nb\n'), null);
    assert.deepEqual(firstDifference('a\nb\nc', 'a\nx\nc'), { line: 2, got: 'b', want: 'x' });
    assert.deepEqual(firstDifference('a\n', 'a\nb'), { line: 2, got: '', want: 'b' });
    assert.deepEqual(firstDifference('a', 'a\nb'), { line: 2, got: '(end of file)', want: 'b' });
  });
});
