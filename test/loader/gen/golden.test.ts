/**
 * Golden loaders: every fixture × scheme, disassembled (src/loader/isa, llvmCompat false) into
 * test/golden/loader/<fixture>.<scheme>.txt and hex-dumped into .hex; and libbpf v1.7.0's own
 * loaders (compat 'libbpf-1.7.0', unsigned and linux-6.18) into <fixture>.libbpf-1.7.0-<scheme>.*
 * for the fixtures libbpf can generate. Rewritten only with UPDATE_GOLDEN=1; otherwise compared
 * byte for byte.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoaderError } from '../../../src/loader/errors.js';
import { disassemble } from '../../../src/loader/isa/index.js';
import { generateLoader, type GeneratedLoader, type LoaderCompat, type LoaderScheme } from '../../../src/loader/gen/index.js';
import { fixtureObjects, ROOT } from '../../support/objects.js';
import { planFor } from './support.js';

const GOLDEN = join(ROOT, 'test/golden/loader');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const SCHEMES: LoaderScheme[] = ['unsigned', 'linux-6.18', 'linux-load-time'];
/** Schemes libbpf v1.7.0 generates (it has no load-time scheme). */
const LIBBPF_SCHEMES: LoaderScheme[] = ['unsigned', 'linux-6.18'];

function hexLines(b: Uint8Array): string {
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 32) out.push(Buffer.from(b.subarray(i, i + 32)).toString('hex'));
  return out.join('\n');
}

function render(g: GeneratedLoader, order: 'le' | 'be'): { txt: string; hex: string } {
  const lines = disassemble(g.insns, order, { llvmCompat: false }).map((l) => `${String(l.index).padStart(5)}: ${l.text}`);
  const head = [
    `; scheme ${g.scheme}${g.compat === 'bpfsign' ? '' : `, compat ${g.compat}`}, ${g.insns.length / 8} instructions, data ${g.data.length} bytes`,
    `; ctx size ${g.ctxLayout.size}; maps ${g.ctxLayout.maps.map((m) => `${m.ident}@${m.offset}`).join(' ') || '-'}; progs ${g.ctxLayout.progs.map((p) => `${p.name}@${p.offset}`).join(' ') || '-'}`,
  ];
  return {
    txt: [...head, ...lines, ''].join('\n'),
    hex: `insns ${g.insns.length}\n${hexLines(g.insns)}\ndata ${g.data.length}\n${hexLines(g.data)}\n`,
  };
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

describe('generateLoader golden files', () => {
  for (const o of fixtureObjects()) {
    const base = o.name.replace(/\.o$/, '');
    describe(base, () => {
      let plan: ReturnType<typeof planFor> | undefined;
      let planError: unknown;
      try {
        plan = planFor(o);
      } catch (e) {
        planError = e;
      }
      if (!plan) {
        it('cannot be planned: the error is a typed LoaderError saying why', (t) => {
          assert.ok(planError instanceof LoaderError, String(planError));
          if (planError.code === 'OBJECT_UNSUPPORTED') assert.ok(planError.details.field, 'details.field names the feature');
          else assert.equal(planError.code, 'OBJECT_MALFORMED', 'only the object reader may reject it as malformed');
          t.diagnostic(`${base}: ${planError.code}: ${planError.message}`);
        });
        return;
      }
      for (const scheme of SCHEMES) {
        it(`${scheme}: disassembly and bytes match the golden files`, () => {
          const g = generateLoader(plan!, { scheme });
          const { txt, hex } = render(g, plan!.byteOrder);
          check(join(GOLDEN, `${base}.${scheme}.txt`), txt);
          check(join(GOLDEN, `${base}.${scheme}.hex`), hex);
        });
      }
      const compat: LoaderCompat = 'libbpf-1.7.0';
      // libbpf rejects legacy `maps` definitions when it opens the object (the service refuses them
      // for the libbpf-1.7 flavour); the plan no longer says where a map came from.
      if (o.entry?.features?.includes('legacy_maps')) return;
      let refusal: unknown;
      try {
        generateLoader(plan, { scheme: 'unsigned', compat });
      } catch (e) {
        refusal = e;
      }
      if (refusal) {
        it(`${compat}: refused with a typed error (libbpf cannot generate it)`, (t) => {
          assert.ok(refusal instanceof LoaderError && refusal.code === 'OBJECT_UNSUPPORTED', String(refusal));
          t.diagnostic(`${base}: ${refusal.message}`);
        });
        return;
      }
      for (const scheme of LIBBPF_SCHEMES) {
        it(`${compat} ${scheme}: disassembly and bytes match the golden files`, () => {
          const g = generateLoader(plan!, { scheme, compat });
          const { txt, hex } = render(g, plan!.byteOrder);
          check(join(GOLDEN, `${base}.${compat}-${scheme}.txt`), txt);
          check(join(GOLDEN, `${base}.${compat}-${scheme}.hex`), hex);
        });
      }
    });
  }
});
