/**
 * The interpreter: one loop, one `switch` over the decoded instruction kinds.
 *
 * State: eleven u64 registers in a BigUint64Array (stores wrap mod 2^64), a
 * 512-byte stack region per call frame (r10 points one past its end), and the
 * caller's `Memory` with its regions. Bounded: the pc (falling off the end
 * faults), the number of executed instructions (budget), the call depth and
 * every memory access. Every fault is a VmError naming the pc and opcode.
 *
 * bpf-to-bpf calls save r6-r9 and r10 in the frame and restore them on exit,
 * so callees see their own stack and callers keep their callee-saved
 * registers; r0 carries the result back and r1-r5 are left as the callee left
 * them (the kernel's verifier forbids reading them). Helper calls leave r1-r5
 * unchanged too.
 */
import { VmError, isVmError } from '../errors.js';
import { alu32, alu64, condition, endian } from './alu.js';
import { callHelper } from './helpers.js';
import { Memory } from './memory.js';
export const DEFAULT_BUDGET = 1_000_000;
export const DEFAULT_STACK_SIZE = 512;
/** Frames including the main program's (the kernel's MAX_CALL_FRAMES). */
export const DEFAULT_MAX_CALL_DEPTH = 8;
const M32 = 0xffffffffn;
const SIZE_BIGINT_BITS = [0, 8, 16, 0, 32, 0, 0, 0, 64];
function packetLoad(packet, offset, size) {
    if (packet === undefined)
        throw new VmError('VM_UNSUPPORTED', 'legacy packet load without a packet');
    if (offset < 0 || offset + size > packet.length)
        return null;
    let v = 0;
    for (let j = 0; j < size; j++)
        v = v * 256 + packet[offset + j];
    return BigInt(v);
}
/** Runs a compiled program to its final exit. Throws VmError on any fault. */
export function run(prog, opts = {}) {
    const mem = opts.memory ?? new Memory('le');
    const budget = opts.budget ?? DEFAULT_BUDGET;
    const maxDepth = opts.maxCallDepth ?? DEFAULT_MAX_CALL_DEPTH;
    const stackSize = opts.stackSize ?? DEFAULT_STACK_SIZE;
    const { views, target, k, insns, pcOf } = prog;
    const n = views.length;
    const regs = new BigUint64Array(11);
    (opts.args ?? []).slice(0, 5).forEach((a, j) => (regs[j + 1] = BigInt.asUintN(64, a)));
    const stacks = [];
    const stackAt = (depth) => {
        let s = stacks[depth];
        if (s === undefined) {
            s = mem.map('stack', new Uint8Array(stackSize), { name: `stack[${depth}]` });
            stacks[depth] = s;
        }
        else {
            s.bytes.fill(0);
        }
        return s;
    };
    regs[10] = stackAt(0).base + BigInt(stackSize);
    const frames = [];
    let ended = 'exit';
    let steps = 0;
    let i = 0;
    const env = () => ({ memory: mem, pc: pcOf[i], depth: frames.length + 1 });
    try {
        loop: for (;;) {
            if (i >= n)
                throw new VmError('VM_PC', `execution ran past the last instruction (pc ${prog.slots})`, { pc: prog.slots });
            if (++steps > budget)
                throw new VmError('VM_BUDGET', `instruction budget of ${budget} exhausted`, { got: steps, want: budget });
            const v = views[i];
            switch (v.kind) {
                case 'alu': {
                    const b = v.srcReg !== undefined ? regs[v.srcReg] : k[i];
                    regs[v.dst] = v.is64 ? alu64(v.op, regs[v.dst], b, v.signed, v.movsx) : alu32(v.op, regs[v.dst], b, v.signed, v.movsx);
                    i++;
                    break;
                }
                case 'neg':
                    regs[v.dst] = v.is64 ? -regs[v.dst] : -regs[v.dst] & M32;
                    i++;
                    break;
                case 'endian':
                    regs[v.dst] = endian(regs[v.dst], v.bits, v.to, mem.littleEndian);
                    i++;
                    break;
                case 'jmp': {
                    const b = v.srcReg !== undefined ? regs[v.srcReg] : k[i];
                    i = condition(v.op, regs[v.dst], b, v.is32) ? target[i] : i + 1;
                    break;
                }
                case 'ja':
                    i = target[i];
                    break;
                case 'call':
                    if (v.target === 'bpf') {
                        if (frames.length + 1 >= maxDepth)
                            throw new VmError('VM_CALL_DEPTH', `call depth would exceed ${maxDepth} frames`, { got: frames.length + 2, want: maxDepth });
                        frames.push({ ret: i + 1, r6: regs[6], r7: regs[7], r8: regs[8], r9: regs[9], fp: regs[10] });
                        regs[10] = stackAt(frames.length).base + BigInt(stackSize);
                        i = target[i];
                    }
                    else {
                        const kf = v.target === 'kfunc';
                        regs[0] = callHelper(kf ? opts.kfuncs : opts.helpers, v.imm, kf ? 'kfunc' : 'helper', regs, env());
                        i++;
                    }
                    break;
                case 'callx':
                    regs[0] = callHelper(opts.helpers, Number(regs[v.reg] & M32), 'helper', regs, env());
                    i++;
                    break;
                case 'exit': {
                    const f = frames.pop();
                    if (f === undefined)
                        break loop;
                    regs[6] = f.r6;
                    regs[7] = f.r7;
                    regs[8] = f.r8;
                    regs[9] = f.r9;
                    regs[10] = f.fp;
                    i = f.ret;
                    break;
                }
                case 'ldimm64':
                    if (v.pseudo === 0)
                        regs[v.dst] = v.value;
                    else if (opts.ldImm64)
                        regs[v.dst] = opts.ldImm64(v.pseudo, insns[i], pcOf[i]);
                    else
                        throw new VmError('VM_UNSUPPORTED', `ld_imm64 with pseudo src ${v.pseudo} and no resolver`, { got: v.pseudo });
                    i++;
                    break;
                case 'ldabs':
                case 'ldind': {
                    const off = v.kind === 'ldabs' ? v.imm : (Number(regs[v.srcReg] & M32) + v.imm) | 0;
                    const got = packetLoad(opts.packet, off, v.size);
                    if (got === null) {
                        regs[0] = 0n;
                        ended = 'packet';
                        break loop;
                    }
                    regs[0] = got;
                    i++;
                    break;
                }
                case 'load': {
                    const x = mem.load(BigInt.asUintN(64, regs[v.srcReg] + BigInt(v.off)), v.size);
                    regs[v.dst] = v.signed ? BigInt.asIntN(SIZE_BIGINT_BITS[v.size], x) : x;
                    i++;
                    break;
                }
                case 'store':
                    mem.store(BigInt.asUintN(64, regs[v.dst] + BigInt(v.off)), v.size, v.srcReg !== undefined ? regs[v.srcReg] : k[i]);
                    i++;
                    break;
                case 'atomic':
                    atomic(mem, regs, v);
                    i++;
                    break;
                case 'invalid':
                    throw new VmError('VM_INVALID_PROGRAM', v.reason);
            }
        }
    }
    catch (e) {
        if (isVmError(e)) {
            if (i >= n)
                throw e;
            throw e.at(pcOf[i], insns[i].opcode);
        }
        throw e;
    }
    finally {
        for (const s of stacks)
            mem.unmap(s);
    }
    return { r0: regs[0], steps, regs: regs.slice(), stack: stacks[0].bytes.slice(), ended };
}
function atomic(mem, regs, v) {
    if (v.op === 'load_acquire') {
        regs[v.dst] = mem.load(BigInt.asUintN(64, regs[v.srcReg] + BigInt(v.off)), v.size);
        return;
    }
    const addr = BigInt.asUintN(64, regs[v.dst] + BigInt(v.off));
    if (v.op === 'store_release') {
        mem.store(addr, v.size, regs[v.srcReg]);
        return;
    }
    if (addr % BigInt(v.size) !== 0n) {
        throw new VmError('VM_MISALIGNED', `atomic ${v.op} of ${v.size} bytes at 0x${addr.toString(16)} is not aligned`, { address: addr, size: v.size });
    }
    const mask = v.size === 4 ? M32 : 0xffffffffffffffffn;
    mem.locate(addr, v.size, 'store');
    const old = mem.load(addr, v.size);
    const src = regs[v.srcReg] & mask;
    switch (v.op) {
        case 'add':
            mem.store(addr, v.size, old + src);
            break;
        case 'or':
            mem.store(addr, v.size, old | src);
            break;
        case 'and':
            mem.store(addr, v.size, old & src);
            break;
        case 'xor':
            mem.store(addr, v.size, old ^ src);
            break;
        case 'xchg':
            mem.store(addr, v.size, src);
            regs[v.srcReg] = old;
            return;
        case 'cmpxchg':
            if (old === (regs[0] & mask))
                mem.store(addr, v.size, src);
            regs[0] = old;
            return;
    }
    if (v.fetch)
        regs[v.srcReg] = old;
}
//# sourceMappingURL=exec.js.map