import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoaderError } from '../../../src/loader/errors.js';
import { assemble, decodeInsns, encodeInsns, insn } from '../../../src/loader/isa/index.js';
function throwsCode(fn, code, details) {
    assert.throws(fn, (e) => {
        assert.ok(e instanceof LoaderError, `not a LoaderError: ${String(e)}`);
        assert.equal(e.code, code);
        for (const [k, v] of Object.entries(details))
            assert.equal(e.details[k], v, `details.${k}`);
        return true;
    });
}
describe('decodeInsns', () => {
    describe('when the stream ends inside an ld_imm64', () => {
        it('throws INSN_INVALID naming the offset of the ld_imm64', () => {
            const bytes = encodeInsns([insn(0xb7, 0, 0, 0, 0), insn(0x18, 1, 0, 0, 5)], 'le');
            throwsCode(() => decodeInsns(bytes, 'le'), 'INSN_INVALID', { offset: 8, pc: 1 });
        });
    });
    describe('when the length is not a multiple of 8', () => {
        it('throws INSN_INVALID naming where the partial slot starts', () => {
            throwsCode(() => decodeInsns(new Uint8Array(13), 'be'), 'INSN_INVALID', { offset: 8, got: 13 });
        });
    });
    it('decodes an empty stream to nothing', () => assert.deepEqual(decodeInsns(new Uint8Array(0), 'le'), []));
});
describe('encodeInsns', () => {
    describe('when an instruction has a bad width', () => {
        it('throws INSN_INVALID naming the field', () => {
            throwsCode(() => encodeInsns([{ ...insn(0x95, 0, 0, 0, 0), width: 3 }], 'le'), 'INSN_INVALID', { field: 'width' });
        });
    });
});
describe('assemble', () => {
    describe('when a line cannot be parsed', () => {
        it('throws ASM_SYNTAX with line and column of the statement', () => {
            throwsCode(() => assemble('exit\n   r1 ?= 3\n'), 'ASM_SYNTAX', { line: 2, column: 4 });
        });
    });
    describe('when an immediate is out of range', () => {
        it('throws ASM_SYNTAX pointing at the number', () => {
            throwsCode(() => assemble('r1 += 4294967296'), 'ASM_SYNTAX', { line: 1, column: 7 });
        });
    });
    describe('when a branch offset does not fit 16 bits', () => {
        it('throws ASM_SYNTAX pointing at the offset', () => {
            throwsCode(() => assemble('  goto +32768'), 'ASM_SYNTAX', { line: 1, column: 8 });
        });
    });
    describe('when a label is undefined or defined twice', () => {
        it('throws ASM_SYNTAX', () => {
            throwsCode(() => assemble('goto nowhere'), 'ASM_SYNTAX', { line: 1, column: 6 });
            throwsCode(() => assemble('a:\na:\nexit'), 'ASM_SYNTAX', { line: 2, column: 1 });
        });
    });
    describe('when a register does not exist', () => {
        it('throws ASM_SYNTAX pointing at the register number', () => {
            throwsCode(() => assemble('r16 = 1'), 'ASM_SYNTAX', { line: 1, column: 2 });
        });
    });
});
describe('assemble with indentation', () => {
    it('reports the column of an undefined label in the original line', () => {
        throwsCode(() => assemble('\n    goto nowhere'), 'ASM_SYNTAX', { line: 2, column: 10 });
    });
});
//# sourceMappingURL=errors.test.js.map