/**
 * Helpers: functions a program calls by id (`call N`, and `callx rN` with the
 * id in a register) or, for kfuncs, by BTF id. They live in a
 * `Map<number, Helper>` that the interpreter consults at each call, so a
 * helper unknown at load time only faults if it is actually called.
 */

import { VmError, isVmError } from '../errors.js';
import type { Memory } from './memory.js';

/** What a helper sees besides its five arguments. */
export interface HelperEnv {
  readonly memory: Memory;
  /** pc (slot) of the call instruction. */
  readonly pc: number;
  /** 1 in the main program, 2 in a subprogram it called, ... */
  readonly depth: number;
}

/** A helper: arguments r1..r5 (u64), returns r0 (taken mod 2^64). Throw VmError to fault. */
export type Helper = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, env: HelperEnv) => bigint;

export type HelperTable = ReadonlyMap<number, Helper>;

/**
 * Calls helper `id` from `table`; faults VM_UNKNOWN_HELPER when it is not
 * there, and wraps anything but a VmError it throws as VM_HELPER.
 */
export function callHelper(
  table: HelperTable | undefined,
  id: number,
  what: 'helper' | 'kfunc',
  args: BigUint64Array,
  env: HelperEnv,
): bigint {
  const fn = table?.get(id);
  if (fn === undefined) throw new VmError('VM_UNKNOWN_HELPER', `${what} ${id} is not registered`, { helper: id, got: id });
  try {
    return fn(args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, env);
  } catch (e) {
    if (isVmError(e)) throw e;
    throw new VmError('VM_HELPER', `${what} ${id} failed: ${(e as Error)?.message ?? String(e)}`, { helper: id }, { cause: e });
  }
}
