/**
 * Static checks of a final program: what the kernel refuses cheaply, before
 * (or without) symbolic execution. Each finding names the pc (slot), the
 * opcode, a literal-union code and a message with got/want.
 *
 * Sound for CFG-level facts (opcodes, jump and call targets, fall-through,
 * map indices): the kernel checks those on every instruction. Helper and
 * stack findings are about instructions the verifier may prove dead (a
 * branch on a constant) and then skip; see the README of this folder.
 */
import {
  type Insn,
  validateInsn,
  helperName,
  OP_LD_IMM64,
  OP_CALL,
  OP_EXIT,
  OP_JA,
  OP_JA32,
  BPF_JMP,
  BPF_JMP32,
  BPF_LDX,
  BPF_ST,
  BPF_STX,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  opClass,
  opCode,
  opSize,
  sizeBytes,
  BPF_CALL,
  BPF_EXIT,
  BPF_MEM,
  BPF_MEMSX,
  BPF_ATOMIC,
  opMode,
} from '../../loader/isa/index.js';
import type { KernelProfile } from '../profile/index.js';
import { CORE_POISON_IMM } from '../core/index.js';

export type FindingCode =
  | 'INVALID_OPCODE' // validateInsn refuses the encoding
  | 'JUMP_OUT_OF_RANGE' // a jump leaves its subprogram (or the program)
  | 'JUMP_INTO_LD_IMM64' // a jump lands on the second slot of an ld_imm64
  | 'TRUNCATED_LD_IMM64' // the program ends in the middle of an ld_imm64
  | 'FALL_THROUGH' // a subprogram's last instruction is not exit or goto
  | 'CALL_TARGET_INVALID' // a bpf-to-bpf call or ld_imm64 func address outside the program / into an ld_imm64
  | 'HELPER_UNKNOWN' // helper id the kernel does not define
  | 'HELPER_NOT_ALLOWED' // helper the program type may not call (profile table)
  | 'CORE_POISONED' // the `call 0xbad2310` of a CO-RE relocation that could not be satisfied
  | 'MAP_IDX_OUT_OF_RANGE' // BPF_PSEUDO_MAP_IDX(_VALUE) index past fd_array
  | 'PSEUDO_NOT_ALLOWED' // ld_imm64 pseudo source the caller does not allow
  | 'STACK_OUT_OF_BOUNDS' // r10-relative access outside [-512, 0)
  | 'EMPTY_PROGRAM';

export interface Finding {
  pc: number;
  opcode: number;
  code: FindingCode;
  severity: 'error' | 'warning';
  message: string;
  got?: unknown;
  want?: unknown;
}

export interface CheckOptions {
  /** Program type name (PROG_TYPE key) for the helper table. */
  progType?: string;
  profile?: KernelProfile;
  /** Number of fds in attr.fd_array: MAP_IDX immediates must be below it. */
  fdArrayLength?: number;
  /** ld_imm64 src values allowed (default: all the kernel defines, 0..6). */
  allowedPseudo?: readonly number[];
}

export const MAX_BPF_STACK = 512;

function hex(op: number): string {
  return `0x${op.toString(16).padStart(2, '0')}`;
}

function isJump(i: Insn): boolean {
  const cls = opClass(i.opcode);
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return false;
  const code = opCode(i.opcode);
  return code !== BPF_CALL && code !== BPF_EXIT;
}

/** Runs every check; findings sorted by pc. */
export function checkProgram(insns: readonly Insn[], opts: CheckOptions = {}): Finding[] {
  const out: Finding[] = [];
  const add = (
    pc: number,
    i: Insn,
    code: FindingCode,
    message: string,
    got?: unknown,
    want?: unknown,
    severity: 'error' | 'warning' = 'error',
  ) => out.push({ pc, opcode: i.opcode, code, severity, message: `pc ${pc} (opcode ${hex(i.opcode)}): ${message}`, got, want });
  if (insns.length === 0) {
    out.push({
      pc: 0,
      opcode: 0,
      code: 'EMPTY_PROGRAM',
      severity: 'error',
      message: 'the program has no instructions',
      got: 0,
      want: '>= 1',
    });
    return out;
  }
  const pcs: number[] = [];
  let slots = 0;
  for (const i of insns) {
    pcs.push(slots);
    slots += i.width;
  }
  const second = new Set<number>();
  insns.forEach((i, k) => {
    if (i.width === 2) second.add(pcs[k] + 1);
  });

  // Subprogram starts: 0, bpf-to-bpf call targets, ld_imm64 function addresses.
  const starts = new Set<number>([0]);
  insns.forEach((i, k) => {
    const pc = pcs[k];
    const isCall = i.opcode === OP_CALL && i.src === BPF_PSEUDO_CALL;
    const isFunc = i.opcode === OP_LD_IMM64 && i.src === BPF_PSEUDO_FUNC;
    if (!isCall && !isFunc) return;
    const target = pc + i.imm + 1;
    if (target < 0 || target >= slots || second.has(target)) {
      add(
        pc,
        i,
        'CALL_TARGET_INVALID',
        `${isCall ? 'call' : 'function address'} target ${target} is ${second.has(target) ? 'the second slot of an ld_imm64' : 'outside the program'}`,
        target,
        `0..${slots - 1}`,
      );
    } else starts.add(target);
  });
  const sorted = [...starts].sort((a, b) => a - b);
  const subOf = (pc: number): number => {
    let lo = 0;
    for (const s of sorted) if (s <= pc) lo = s;
    return lo;
  };
  const subEnd = (start: number): number => sorted.find((s) => s > start) ?? slots;

  const allowedPseudo = new Set(opts.allowedPseudo ?? [0, 1, 2, 3, 4, 5, 6]);
  const helpers = opts.progType && opts.profile ? opts.profile.helpers[opts.progType] : undefined;

  insns.forEach((i, k) => {
    const pc = pcs[k];
    // The kernel does not check the (reserved) off field of exit; neither do we.
    const bad = validateInsn(i.opcode === OP_EXIT ? { ...i, off: 0 } : i);
    if (bad !== null) {
      add(pc, i, 'INVALID_OPCODE', bad, i.opcode, 'a defined instruction');
      return;
    }
    if (i.width === 2 && pc + 1 >= slots) add(pc, i, 'TRUNCATED_LD_IMM64', 'ld_imm64 has no second slot', slots - pc, 2);
    if (isJump(i)) {
      const delta = i.opcode === OP_JA32 ? i.imm : i.off;
      const target = pc + delta + 1;
      const start = subOf(pc),
        end = subEnd(start);
      if (target < start || target >= end)
        add(pc, i, 'JUMP_OUT_OF_RANGE', `jump to ${target} leaves the subprogram [${start}, ${end})`, target, `${start}..${end - 1}`);
      else if (second.has(target))
        add(pc, i, 'JUMP_INTO_LD_IMM64', `jump to ${target}, the second slot of an ld_imm64`, target, 'an instruction start');
    }
    if (i.opcode === OP_CALL && i.src === 0) {
      if (i.imm >>> 0 === CORE_POISON_IMM) {
        add(
          pc,
          i,
          'CORE_POISONED',
          'poisoned CO-RE relocation (call 0xbad2310): the kernel refuses it unless the code is dead',
          i.imm,
          'unreachable',
          'warning',
        );
      } else if (helperName(i.imm) === undefined) {
        add(pc, i, 'HELPER_UNKNOWN', `helper #${i.imm} does not exist`, i.imm, 'a helper id');
      } else if (helpers && !helpers.includes(i.imm)) {
        add(
          pc,
          i,
          'HELPER_NOT_ALLOWED',
          `program type ${opts.progType} may not call bpf_${helperName(i.imm)}#${i.imm}`,
          i.imm,
          `one of ${helpers.length} helpers`,
        );
      }
    }
    if (i.opcode === OP_LD_IMM64) {
      if (!allowedPseudo.has(i.src))
        add(pc, i, 'PSEUDO_NOT_ALLOWED', `ld_imm64 pseudo source ${i.src} is not allowed here`, i.src, [...allowedPseudo]);
      else if (
        (i.src === BPF_PSEUDO_MAP_IDX || i.src === BPF_PSEUDO_MAP_IDX_VALUE) &&
        opts.fdArrayLength !== undefined &&
        (i.imm < 0 || i.imm >= opts.fdArrayLength)
      ) {
        add(
          pc,
          i,
          'MAP_IDX_OUT_OF_RANGE',
          `map index ${i.imm} is past fd_array (${opts.fdArrayLength} fds)`,
          i.imm,
          `0..${opts.fdArrayLength - 1}`,
        );
      }
    }
    const cls = opClass(i.opcode),
      mode = opMode(i.opcode);
    const mem =
      (cls === BPF_LDX && (mode === BPF_MEM || mode === BPF_MEMSX)) ||
      ((cls === BPF_ST || cls === BPF_STX) && (mode === BPF_MEM || mode === BPF_ATOMIC));
    const base = cls === BPF_LDX ? i.src : i.dst;
    if (mem && base === 10) {
      const size = sizeBytes(opSize(i.opcode));
      if (i.off < -MAX_BPF_STACK || i.off + size > 0) {
        add(
          pc,
          i,
          'STACK_OUT_OF_BOUNDS',
          `stack access r10${i.off >= 0 ? '+' : ''}${i.off} size ${size} is outside [-${MAX_BPF_STACK}, 0)`,
          { off: i.off, size },
          `-${MAX_BPF_STACK} <= off, off + size <= 0`,
        );
      }
    }
  });
  checkSubprogramEnds(insns, pcs, sorted, subEnd, add);
  return out.sort((a, b) => a.pc - b.pc);
}

type AddFinding = (pc: number, i: Insn, code: FindingCode, message: string, got?: unknown, want?: unknown) => void;

/** Each subprogram must end in exit or an unconditional jump. */
function checkSubprogramEnds(
  insns: readonly Insn[],
  pcs: readonly number[],
  starts: readonly number[],
  subEnd: (start: number) => number,
  add: AddFinding,
): void {
  for (const s of starts) {
    const end = subEnd(s);
    const lastK = pcs.findIndex((p, k) => p < end && p + insns[k].width >= end);
    if (lastK < 0) continue;
    const last = insns[lastK];
    if (validateInsn(last.opcode === OP_EXIT ? { ...last, off: 0 } : last) !== null) continue;
    if (last.opcode !== OP_EXIT && last.opcode !== OP_JA && last.opcode !== OP_JA32) {
      add(pcs[lastK], last, 'FALL_THROUGH', `subprogram at ${s} ends without exit or goto`, hex(last.opcode), 'exit or goto');
    }
  }
}

/** Only the findings of severity 'error'. */
export function errorsOf(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === 'error');
}
