/**
 * Section bytes -> listing, reproducing `llvm-objdump -d --no-show-raw-insn`
 * (LLVM 14) line for line when `llvmCompat` is on (the default):
 *
 * - the section is cut into chunks at its symbols (sorted by value, then
 *   name, then type; STT_SECTION, STT_FILE and unnamed symbols are ignored;
 *   when no symbol sits at offset 0 a dummy one named after the section is
 *   added). A chunk ends at the next symbol; empty chunks print nothing.
 *   Decoding may read past the chunk end (an ld_imm64 can straddle a symbol).
 * - inside a chunk, 8 or more zero bytes are skipped (rounded down to a
 *   multiple of 4, which can misalign what follows) and print as `...`;
 * - a slot LLVM cannot decode prints `<unknown>` and advances 8 bytes; an
 *   ld_imm64 with fewer than 16 bytes left, or fewer than 8 bytes left at
 *   all, advance 1 byte per `<unknown>`;
 * - chunks of STT_OBJECT symbols are dumped as data (hex + ASCII);
 * - branches get ` <sym>` or ` <sym+0xN>` naming the last symbol at or below
 *   the target (targets before the section wrap around as unsigned 64-bit).
 *
 * The index printed is the byte offset divided by 8, as llvm-objdump does.
 */
import { decodeAt, decodeSlot } from './decode.js';
import { llvm14Decode } from './format-llvm14.js';
import { branchDelta, formatModern, UNKNOWN_TEXT } from './format.js';
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
function compareNames(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
}
/** The symbols llvm-objdump would use for the section, sorted. */
export function sortSectionSymbols(options) {
    const raw = options.symbols;
    let list = [];
    if (raw instanceof Map) {
        for (const [index, name] of raw)
            list.push({ name, value: index * 8, type: STT_NOTYPE });
    }
    else if (raw) {
        list = raw.map((s) => ({ name: s.name, value: s.value, type: s.type ?? STT_NOTYPE }));
    }
    list = list.filter((s) => s.name !== '' && s.type !== STT_SECTION && s.type !== STT_FILE);
    list.sort((a, b) => a.value - b.value || compareNames(a.name, b.name) || a.type - b.type);
    if (list.length === 0 || list[0].value !== 0)
        list.unshift({ name: options.sectionName ?? '', value: 0, type: STT_FUNC });
    return list;
}
/** ` <name>` or ` <name+0xN>` for a byte target (taken modulo 2^64). */
export function targetLabel(syms, target) {
    const t = BigInt.asUintN(64, target);
    let lo = 0;
    let hi = syms.length;
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (BigInt(syms[mid].value) <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo === 0)
        return '';
    const s = syms[lo - 1];
    const disp = t - BigInt(s.value);
    return disp === 0n ? ` <${s.name}>` : ` <${s.name}+0x${disp.toString(16)}>`;
}
function dataLines(bytes, start, end, out) {
    for (let at = start; at < end; at += 8) {
        const n = Math.min(8, end - at);
        let hex = '';
        let ascii = '';
        for (let k = 0; k < n; k++) {
            const b = bytes[at + k];
            hex += ' ' + b.toString(16).padStart(2, '0');
            ascii += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.';
        }
        out.push({ index: Math.floor(at / 8), offset: at, kind: 'data', text: hex + ' '.repeat(3 * (8 - n)) + '         ' + ascii });
    }
}
function decodeStep(bytes, at, order, compat) {
    if (bytes.length - at < 8)
        return { size: 1, text: UNKNOWN_TEXT };
    if (compat) {
        const first = decodeSlot(bytes, at, order);
        const second = at + 16 <= bytes.length ? decodeSlot(bytes, at + 8, order) : null;
        const r = llvm14Decode(first, second);
        if (!r.ok)
            return { size: r.step, text: UNKNOWN_TEXT };
        const insn = decodeAt(bytes, at, order);
        return r.branch === undefined ? { size: r.width * 8, text: r.text, insn } : { size: r.width * 8, text: r.text, branch: r.branch, insn };
    }
    const insn = decodeAt(bytes, at, order);
    if (insn === null)
        return { size: 1, text: UNKNOWN_TEXT };
    const text = formatModern(insn);
    if (text === UNKNOWN_TEXT)
        return { size: 8, text };
    const delta = branchDelta(insn, { llvmCompat: false });
    return delta === null ? { size: insn.width * 8, text, insn } : { size: insn.width * 8, text, branch: delta, insn };
}
export function disassemble(bytes, order, options = {}) {
    const compat = options.llvmCompat !== false;
    const syms = sortSectionSymbols(options);
    const out = [];
    for (let si = 0; si < syms.length; si++) {
        const start = syms[si].value;
        const end = Math.min(bytes.length, si + 1 < syms.length ? syms[si + 1].value : bytes.length);
        if (start < 0 || start >= end)
            continue;
        if (syms[si].type === STT_OBJECT) {
            dataLines(bytes, start, end, out);
            continue;
        }
        let at = start;
        while (at < end) {
            let zeros = 0;
            while (at + zeros < end && bytes[at + zeros] === 0)
                zeros++;
            if (zeros >= 8) {
                out.push({ index: Math.floor(at / 8), offset: at, kind: 'skip', text: '...' });
                at += zeros & ~3;
                continue;
            }
            const step = decodeStep(bytes, at, order, compat);
            let text = step.text;
            if (step.branch !== undefined)
                text += targetLabel(syms, BigInt(at) + 8n + BigInt(step.branch) * 8n);
            const line = { index: Math.floor(at / 8), offset: at, kind: step.insn ? 'insn' : 'unknown', text };
            if (step.insn)
                line.insn = step.insn;
            out.push(line);
            at += step.size;
        }
    }
    return out;
}
//# sourceMappingURL=disassemble.js.map