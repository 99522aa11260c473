/**
 * Text -> instructions: the inverse of format.ts, accepting both the LLVM 14
 * and the modern syntax, one instruction per line. Labels: `name:` on its own
 * line; branch targets may be `+3`, `-2`, `+3 <LBB0_2>` (the annotation is
 * ignored) or a label name. Comments start with `;`, `#` or `//`.
 *
 * Not invertible: what LLVM 14 prints as `<unknown>` (the bytes are gone), and
 * fields LLVM 14 ignores when printing (`call N` loses the pseudo src,
 * `ld_pseudo` in compat mode shows only the low 32 bits, `callx rN` in compat
 * mode is read as the register in imm as LLVM 14 encodes it). The modern
 * syntax (`formatInsn(x, {llvmCompat:false})`) round-trips every valid
 * instruction.
 */

import { LoaderError } from '../errors.js';
import * as op from './opcode.js';
import { insn, ldImm64Insn, type Insn } from './instruction.js';
import { ALU_SYMBOL, ATOMIC_SYMBOL, JMP_SYMBOL } from './syntax.js';

const NUM = '([+-]?(?:0x[0-9a-fA-F]+|\\d+))';
const REG = '([rw])(\\d+)';
const MEM = '\\(\\s*r(\\d+)\\s*([+-])\\s*(0x[0-9a-fA-F]+|\\d+)\\s*\\)';
const SIZE = '([us])(8|16|32|64)';
const TARGET = '([+-]\\d+|[A-Za-z_.$][\\w.$]*)';

class Syntax extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

function num(text: string, min: bigint, max: bigint, what: string, at: number): bigint {
  const neg = text.startsWith('-');
  const body = text.replace(/^[+-]/, '');
  const v = (neg ? -1n : 1n) * BigInt(body);
  if (v < min || v > max) throw new Syntax(`${what} ${text} out of range [${min}, ${max}]`, at);
  return v;
}
const imm32 = (t: string, at: number): number => Number(BigInt.asIntN(32, num(t, -(1n << 31n), (1n << 32n) - 1n, 'immediate', at)));
const off16 = (t: string, at: number): number => Number(num(t, -32768n, 32767n, 'offset', at));

function reg(t: string, at: number): number {
  const n = Number(t);
  if (!Number.isInteger(n) || n > 15) throw new Syntax(`no register r${t}`, at);
  return n;
}

const SIZE_BITS: Record<string, number> = { '8': op.BPF_B, '16': op.BPF_H, '32': op.BPF_W, '64': op.BPF_DW };
const invert = (m: Readonly<Record<number, string>>): Map<string, number> => new Map(Object.entries(m).map(([k, v]) => [v, Number(k)]));
const ALU_BY_SYM = invert(ALU_SYMBOL);
const JMP_BY_SYM = invert(JMP_SYMBOL);
const ATOMIC_BY_NAME: ReadonlyMap<string, number> = new Map(Object.entries(ATOMIC_SYMBOL).map(([k, v]) => [v.name, Number(k)]));
const ATOMIC_BY_SYM: ReadonlyMap<string, number> = new Map(Object.entries(ATOMIC_SYMBOL).map(([k, v]) => [v.sym, Number(k)]));

function memOff(sign: string, value: string, at: number): number {
  return off16(sign === '-' ? `-${value}` : value, at);
}

/** A parsed line: an instruction, maybe with a symbolic branch target to resolve. */
interface Parsed {
  insn: Insn;
  label?: { name: string; field: 'off' | 'imm'; at: number };
}

type Handler = (m: RegExpExecArray, at: (group: number) => number) => Parsed;

function target(t: string, i: Insn, field: 'off' | 'imm', at: number): Parsed {
  if (/^[+-]\d+$/.test(t)) {
    if (field === 'off') i.off = off16(t, at);
    else i.imm = imm32(t, at);
    return { insn: i };
  }
  return { insn: i, label: { name: t, field, at } };
}

const RULES: [RegExp, Handler][] = [
  [/^exit$/, () => ({ insn: insn(op.OP_EXIT, 0, 0, 0, 0) })],
  [new RegExp(`^call ${NUM}$`), (m, at) => ({ insn: insn(op.OP_CALL, 0, 0, 0, imm32(m[1]!, at(1))) })],
  [/^call pc([+-]\d+)$/, (m, at) => ({ insn: insn(op.OP_CALL, 0, op.BPF_PSEUDO_CALL, 0, imm32(m[1]!, at(1))) })],
  [new RegExp(`^call kfunc ${NUM}$`), (m, at) => ({ insn: insn(op.OP_CALL, 0, op.BPF_PSEUDO_KFUNC_CALL, 0, imm32(m[1]!, at(1))) })],
  [/^callx r(\d+)$/, (m, at) => ({ insn: insn(op.OP_CALLX, reg(m[1]!, at(1)), 0, 0, 0) })],
  [new RegExp(`^goto ${TARGET}$`), (m, at) => target(m[1]!, insn(op.OP_JA, 0, 0, 0, 0), 'off', at(1))],
  [new RegExp(`^gotol ${TARGET}$`), (m, at) => target(m[1]!, insn(op.OP_JA32, 0, 0, 0, 0), 'imm', at(1))],
  [
    new RegExp(`^if ${REG} (==|!=|s?[<>]=?|&) (?:${REG}|${NUM}) goto ${TARGET}$`),
    (m, at) => {
      const cls = m[1] === 'w' ? op.BPF_JMP32 : op.BPF_JMP;
      const code = JMP_BY_SYM.get(m[3]!)!;
      const isX = m[4] !== undefined;
      if (isX && m[4] !== m[1]) throw new Syntax('mixed r and w registers', at(4));
      const i = isX
        ? insn(cls | code | op.BPF_X, reg(m[2]!, at(2)), reg(m[5]!, at(5)), 0, 0)
        : insn(cls | code, reg(m[2]!, at(2)), 0, 0, imm32(m[6]!, at(6)));
      return target(m[7]!, i, 'off', at(7));
    },
  ],
  [
    new RegExp(`^r(\\d+) = ${NUM} ll$`),
    (m, at) => ({ insn: ldImm64Insn(reg(m[1]!, at(1)), num(m[2]!, -(1n << 63n), (1n << 64n) - 1n, 'immediate', at(2))) }),
  ],
  [
    new RegExp(`^ld_pseudo\\s+r(\\d+),\\s*(\\d+),\\s*${NUM}$`),
    (m, at) => ({
      insn: ldImm64Insn(reg(m[1]!, at(1)), num(m[3]!, -(1n << 63n), (1n << 64n) - 1n, 'immediate', at(3)), reg(m[2]!, at(2))),
    }),
  ],
  [
    new RegExp(`^r0 = \\*\\(u(8|16|32) \\*\\)skb\\[(?:r(\\d+)|${NUM})\\]$`),
    (m, at) =>
      m[2] !== undefined
        ? { insn: insn(op.BPF_LD | op.BPF_IND | SIZE_BITS[m[1]!]!, 0, reg(m[2], at(2)), 0, 0) }
        : { insn: insn(op.BPF_LD | op.BPF_ABS | SIZE_BITS[m[1]!]!, 0, 0, 0, imm32(m[3]!, at(3))) },
  ],
  [
    new RegExp(`^[rw](\\d+) = \\*\\(${SIZE} \\*\\)${MEM}$`),
    (m, at) => {
      const mode = m[2] === 's' ? op.BPF_MEMSX : op.BPF_MEM;
      return { insn: insn(op.BPF_LDX | mode | SIZE_BITS[m[3]!]!, reg(m[1]!, at(1)), reg(m[4]!, at(4)), memOff(m[5]!, m[6]!, at(6)), 0) };
    },
  ],
  [
    new RegExp(`^\\*\\(u(8|16|32|64) \\*\\)${MEM} = (?:[rw](\\d+)|${NUM})$`),
    (m, at) => {
      const size = SIZE_BITS[m[1]!]!;
      const off = memOff(m[3]!, m[4]!, at(4));
      if (m[5] !== undefined) return { insn: insn(op.BPF_STX | op.BPF_MEM | size, reg(m[2]!, at(2)), reg(m[5], at(5)), off, 0) };
      return { insn: insn(op.BPF_ST | op.BPF_MEM | size, reg(m[2]!, at(2)), 0, off, imm32(m[6]!, at(6))) };
    },
  ],
  [
    new RegExp(`^lock \\*\\(u(32|64) \\*\\)${MEM} (\\+=|\\|=|&=|\\^=) [rw](\\d+)$`),
    (m, at) => ({
      insn: insn(
        op.BPF_STX | op.BPF_ATOMIC | SIZE_BITS[m[1]!]!,
        reg(m[2]!, at(2)),
        reg(m[6]!, at(6)),
        memOff(m[3]!, m[4]!, at(4)),
        ATOMIC_BY_SYM.get(m[5]!)!,
      ),
    }),
  ],
  [
    new RegExp(`^[rw](\\d+) = atomic_fetch_(add|or|and|xor)\\(\\(u(32|64) \\*\\)${MEM}, [rw](\\d+)\\)$`),
    (m, at) => {
      if (m[1] !== m[7]) throw new Syntax('atomic_fetch result must be its source register', at(1));
      const imm = ATOMIC_BY_NAME.get(m[2]!)! | op.BPF_FETCH;
      return {
        insn: insn(op.BPF_STX | op.BPF_ATOMIC | SIZE_BITS[m[3]!]!, reg(m[4]!, at(4)), reg(m[7]!, at(7)), memOff(m[5]!, m[6]!, at(6)), imm),
      };
    },
  ],
  [
    /^[rw](\d+) = xchg(_64|32_32)\(r(\d+) ([+-]) (0x[0-9a-fA-F]+|\d+), [rw](\d+)\)$/,
    (m, at) => {
      if (m[1] !== m[6]) throw new Syntax('xchg result must be its source register', at(1));
      const size = m[2] === '_64' ? op.BPF_DW : op.BPF_W;
      return {
        insn: insn(op.BPF_STX | op.BPF_ATOMIC | size, reg(m[3]!, at(3)), reg(m[6]!, at(6)), memOff(m[4]!, m[5]!, at(5)), op.BPF_XCHG),
      };
    },
  ],
  [
    /^[rw]0 = cmpxchg(_64|32_32)\(r(\d+) ([+-]) (0x[0-9a-fA-F]+|\d+), [rw]0, [rw](\d+)\)$/,
    (m, at) => {
      const size = m[1] === '_64' ? op.BPF_DW : op.BPF_W;
      return {
        insn: insn(op.BPF_STX | op.BPF_ATOMIC | size, reg(m[2]!, at(2)), reg(m[5]!, at(5)), memOff(m[3]!, m[4]!, at(4)), op.BPF_CMPXCHG),
      };
    },
  ],
  [
    new RegExp(`^[rw](\\d+) = load_acquire\\(\\(u(8|16|32|64) \\*\\)${MEM}\\)$`),
    (m, at) => ({
      insn: insn(
        op.BPF_STX | op.BPF_ATOMIC | SIZE_BITS[m[2]!]!,
        reg(m[1]!, at(1)),
        reg(m[3]!, at(3)),
        memOff(m[4]!, m[5]!, at(5)),
        op.BPF_LOAD_ACQ,
      ),
    }),
  ],
  [
    new RegExp(`^store_release\\(\\(u(8|16|32|64) \\*\\)${MEM}, [rw](\\d+)\\)$`),
    (m, at) => ({
      insn: insn(
        op.BPF_STX | op.BPF_ATOMIC | SIZE_BITS[m[1]!]!,
        reg(m[2]!, at(2)),
        reg(m[5]!, at(5)),
        memOff(m[3]!, m[4]!, at(4)),
        op.BPF_STORE_REL,
      ),
    }),
  ],
  [
    /^r(\d+) = (le|be|bswap)(16|32|64) r(\d+)$/,
    (m, at) => {
      if (m[1] !== m[4]) throw new Syntax('byte swap must use the same register', at(4));
      const opcode = m[2] === 'bswap' ? op.BPF_ALU64 | op.BPF_END : op.BPF_ALU | op.BPF_END | (m[2] === 'be' ? op.BPF_TO_BE : op.BPF_TO_LE);
      return { insn: insn(opcode, reg(m[1]!, at(1)), 0, 0, Number(m[3])) };
    },
  ],
  [
    /^([rw])(\d+) = -([rw])(\d+)$/,
    (m, at) => {
      if (m[1] !== m[3] || m[2] !== m[4]) throw new Syntax('neg must use the same register', at(3));
      return { insn: insn((m[1] === 'w' ? op.BPF_ALU : op.BPF_ALU64) | op.BPF_NEG, reg(m[2]!, at(2)), 0, 0, 0) };
    },
  ],
  [
    /^([rw])(\d+) = \(s(8|16|32)\)([rw])(\d+)$/,
    (m, at) => {
      if (m[1] !== m[4]) throw new Syntax('mixed r and w registers', at(4));
      const cls = m[1] === 'w' ? op.BPF_ALU : op.BPF_ALU64;
      return { insn: insn(cls | op.BPF_MOV | op.BPF_X, reg(m[2]!, at(2)), reg(m[5]!, at(5)), Number(m[3]), 0) };
    },
  ],
  [
    new RegExp(`^${REG} (s?/=|s?%=|\\+=|-=|\\*=|\\|=|&=|<<=|>>=|s>>=|\\^=|=) (?:${REG}|${NUM})$`),
    (m, at) => {
      const cls = m[1] === 'w' ? op.BPF_ALU : op.BPF_ALU64;
      const signed = m[3]!.startsWith('s') && m[3] !== 's>>=';
      const code = ALU_BY_SYM.get(signed ? m[3]!.slice(1) : m[3]!)!;
      const off = signed ? 1 : 0;
      if (m[4] !== undefined) {
        if (m[4] !== m[1]) throw new Syntax('mixed r and w registers', at(4));
        return { insn: insn(cls | code | op.BPF_X, reg(m[2]!, at(2)), reg(m[5]!, at(5)), off, 0) };
      }
      return { insn: insn(cls | code, reg(m[2]!, at(2)), 0, off, imm32(m[6]!, at(6))) };
    },
  ],
];

function columnOf(line: string, m: RegExpExecArray, base: number, group: number): number {
  const g = m[group];
  if (g === undefined) return base;
  const idx = line.indexOf(g, base);
  return idx < 0 ? base : idx;
}

/** Assembles a program; throws ASM_SYNTAX with `line` and `column` (1-based). */
export function assemble(source: string): Insn[] {
  const out: Parsed[] = [];
  const slots: number[] = [];
  const labels = new Map<string, number>();
  let slot = 0;
  const lines = source.split(/\r?\n/);
  const fail = (message: string, line: number, column: number): never => {
    throw new LoaderError('ASM_SYNTAX', `asm: line ${line} column ${column}: ${message}`, { line, column });
  };
  const lineOf: number[] = [];
  lines.forEach((raw, n) => {
    const noComment = raw.replace(/(;|#|\/\/).*$/, '');
    const start = noComment.search(/\S/);
    if (start < 0) return;
    let body = noComment.trim().replace(/\s+<[^<>]*>$/, '');
    const label = /^([A-Za-z_.$][\w.$]*):$/.exec(body);
    if (label) {
      if (labels.has(label[1]!)) fail(`label ${label[1]} defined twice`, n + 1, start + 1);
      labels.set(label[1]!, slot);
      return;
    }
    body = body.replace(/\t/g, ' ');
    for (const [re, handle] of RULES) {
      const m = re.exec(body);
      if (!m) continue;
      try {
        const p = handle(m, (g) => columnOf(body, m, 0, g));
        if (p.label) p.label.at += start;
        out.push(p);
        slots.push(slot);
        lineOf.push(n + 1);
        slot += p.insn.width;
      } catch (e) {
        if (e instanceof Syntax) fail(e.message, n + 1, start + e.at + 1);
        throw e;
      }
      return;
    }
    fail(`cannot parse instruction '${body}'`, n + 1, start + 1);
  });
  return out.map((p, k) => {
    if (!p.label) return p.insn;
    const dest = labels.get(p.label.name);
    if (dest === undefined) return fail(`undefined label ${p.label.name}`, lineOf[k]!, p.label.at + 1);
    const delta = dest - (slots[k]! + 1);
    if (p.label.field === 'off' && (delta < -32768 || delta > 32767))
      fail(`branch to ${p.label.name} out of range`, lineOf[k]!, p.label.at + 1);
    return { ...p.insn, [p.label.field]: delta };
  });
}
