/**
 * Golden loaders: every fixture × scheme, disassembled (src/loader/isa, llvmCompat false) into
 * test/golden/loader/<fixture>.<scheme>.txt and hex-dumped into .hex. Rewritten only with
 * UPDATE_GOLDEN=1; otherwise compared byte for byte.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoaderError } from '../../../src/loader/errors.js';
import { disassemble } from '../../../src/loader/isa/index.js';
import { generateLoader } from '../../../src/loader/gen/index.js';
import { fixtureObjects, ROOT } from '../../support/objects.js';
import { planFor } from './support.js';
const GOLDEN = join(ROOT, 'test/golden/loader');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const SCHEMES = ['unsigned', 'linux-6.18', 'linux-load-time'];
function hexLines(b) {
    const out = [];
    for (let i = 0; i < b.length; i += 32)
        out.push(Buffer.from(b.subarray(i, i + 32)).toString('hex'));
    return out.join('\n');
}
function render(g, order) {
    const lines = disassemble(g.insns, order, { llvmCompat: false }).map((l) => `${String(l.index).padStart(5)}: ${l.text}`);
    const head = [
        `; scheme ${g.scheme}, ${g.insns.length / 8} instructions, data ${g.data.length} bytes`,
        `; ctx size ${g.ctxLayout.size}; maps ${g.ctxLayout.maps.map((m) => `${m.ident}@${m.offset}`).join(' ') || '-'}; progs ${g.ctxLayout.progs.map((p) => `${p.name}@${p.offset}`).join(' ') || '-'}`,
    ];
    return {
        txt: [...head, ...lines, ''].join('\n'),
        hex: `insns ${g.insns.length}\n${hexLines(g.insns)}\ndata ${g.data.length}\n${hexLines(g.data)}\n`,
    };
}
function check(path, text) {
    if (UPDATE || !existsSync(path)) {
        if (!UPDATE)
            assert.fail(`golden ${path} missing; run with UPDATE_GOLDEN=1`);
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
            let plan;
            let planError;
            try {
                plan = planFor(o);
            }
            catch (e) {
                planError = e;
            }
            if (!plan) {
                it('cannot be planned: the error is a typed LoaderError saying why', (t) => {
                    assert.ok(planError instanceof LoaderError, String(planError));
                    if (planError.code === 'OBJECT_UNSUPPORTED')
                        assert.ok(planError.details.field, 'details.field names the feature');
                    else
                        assert.equal(planError.code, 'OBJECT_MALFORMED', 'only the object reader may reject it as malformed');
                    t.diagnostic(`${base}: ${planError.code}: ${planError.message}`);
                });
                return;
            }
            for (const scheme of SCHEMES) {
                it(`${scheme}: disassembly and bytes match the golden files`, () => {
                    const g = generateLoader(plan, { scheme });
                    const { txt, hex } = render(g, plan.byteOrder);
                    check(join(GOLDEN, `${base}.${scheme}.txt`), txt);
                    check(join(GOLDEN, `${base}.${scheme}.hex`), hex);
                });
            }
        });
    }
});
//# sourceMappingURL=golden.test.js.map