/**
 * `bpfsign vm [MEMORY-HEX] [--budget N]`: the plugin protocol of the
 * bpf_conformance suite (Alan-Jowett/bpf_conformance, src/bpf_conformance.cc).
 *
 * - standard input: the program as hex bytes (the runner writes "b7  00  ...";
 *   any whitespace is allowed), little-endian instruction encoding;
 * - first argument, unless it starts with "--": the input memory as hex bytes,
 *   which r1 points to and whose length r2 holds (absent or empty: r1 = r2 = 0);
 *   legacy LD_ABS/LD_IND read the same bytes;
 * - standard output: r0 as lowercase hex without "0x", then a newline; exit 0;
 * - on a fault: one line on standard error (the runner compares it with the
 *   test's `-- error` line when standard output is empty), exit 1.
 * Usage errors (bad hex, unknown option) also go to standard error, exit 2.
 */
import { isVmError } from '../kernel/errors.js';
import { Memory, loadProgram, run } from '../kernel/vm/index.js';
class Usage extends Error {
}
/** Hex bytes with any whitespace between them ("b7 00", "b700", "b7\n00"). */
export function parseHexBytes(text, what) {
    const digits = text.replace(/\s+/g, '');
    if (!/^[0-9a-fA-F]*$/.test(digits))
        throw new Usage(`${what}: not hex bytes`);
    if (digits.length % 2 !== 0)
        throw new Usage(`${what}: odd number of hex digits (${digits.length})`);
    const out = new Uint8Array(digits.length / 2);
    for (let j = 0; j < out.length; j++)
        out[j] = parseInt(digits.slice(2 * j, 2 * j + 2), 16);
    return out;
}
function parseArgv(argv) {
    const args = [...argv];
    let memory = new Uint8Array(0);
    if (args.length > 0 && !args[0].startsWith('--'))
        memory = parseHexBytes(args.shift(), 'memory argument');
    let budget;
    while (args.length > 0) {
        const a = args.shift();
        if (a === '')
            continue;
        if (a === '--budget') {
            const v = Number(args.shift());
            if (!Number.isSafeInteger(v) || v <= 0)
                throw new Usage('--budget takes a positive integer');
            budget = v;
            continue;
        }
        throw new Usage(`unknown argument '${a}'`);
    }
    return budget === undefined ? { memory } : { memory, budget };
}
/** Runs one program as a bpf_conformance plugin; returns the exit status. */
export function runVm(argv, io) {
    let parsed;
    let bytes;
    try {
        parsed = parseArgv(argv);
        bytes = parseHexBytes(io.stdin, 'program on standard input');
    }
    catch (e) {
        if (e instanceof Usage) {
            io.stderr(`bpfsign vm: ${e.message}\n`);
            return 2;
        }
        throw e;
    }
    try {
        const prog = loadProgram(bytes, 'le');
        const memory = new Memory('le');
        const args = [0n, 0n];
        if (parsed.memory.length > 0) {
            args[0] = memory.map('memory', parsed.memory, { name: 'memory' }).base;
            args[1] = BigInt(parsed.memory.length);
        }
        const result = run(prog, { memory, args, packet: parsed.memory, ...(parsed.budget !== undefined ? { budget: parsed.budget } : {}) });
        io.stdout(`${result.r0.toString(16)}\n`);
        return 0;
    }
    catch (e) {
        if (isVmError(e)) {
            io.stderr(`${e.message}\n`);
            return 1;
        }
        throw e;
    }
}
//# sourceMappingURL=vm.js.map