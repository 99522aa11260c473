/**
 * check_core_relo in the bpf() model: the CO-RE records a loader passes at PROG_LOAD
 * (attr.core_relos, core_relo_cnt, core_relo_rec_size) are applied by the kernel itself
 * (bpf_core_apply) against its own BTF: vmlinux first, module BTF when vmlinux has no
 * candidate. Here src/kernel/core does that against the profile's BTF, with the kernel's
 * per-relocation candidate lists (no narrowing across relocations). A relocation that
 * cannot be satisfied poisons its instruction (`call 0xbad2310`); the verifier refuses it
 * only where it reaches it. Failures (bad records, ambiguity, an unexpected instruction)
 * answer EINVAL as the kernel does.
 */
import type { Btf } from '../../loader/btf/index.js';
import { decodeInsns, encodeInsns } from '../../loader/isa/index.js';
import { BPF_CORE_RELO, structReader } from '../../loader/uapi/index.js';
import { applyCoreRelocations, type CoreRelocation } from '../core/index.js';
import { isKernelError } from '../errors.js';
import { E, fail } from './errno.js';
import type { ModelContext } from './context.js';

/** sizeof(struct bpf_core_relo). */
export const CORE_RELO_SIZE = BPF_CORE_RELO.size;
const MAX_CORE_RELO_SIZE = 4096;

/** The CO-RE records of a PROG_LOAD, read and checked as check_core_relo does. */
export function readCoreRelos(m: ModelContext, local: Btf, ptr: bigint, recSize: number, n: number, insnCnt: number): CoreRelocation[] {
  if (recSize < CORE_RELO_SIZE || recSize > MAX_CORE_RELO_SIZE || recSize % 4) fail(E.EINVAL, `core_relo_rec_size ${recSize}`);
  const raw = m.um.read(ptr, recSize * n, 'core_relos');
  const out: CoreRelocation[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * recSize;
    for (let b = CORE_RELO_SIZE; b < recSize; b++)
      if (raw[at + b] !== 0) fail(E.E2BIG, `core_relo[${i}] has non-zero bytes past the known fields`);
    const r = structReader(BPF_CORE_RELO, raw, m.order, at);
    const insnOff = r.u32('insn_off'),
      typeId = r.u32('type_id'),
      strOff = r.u32('access_str_off'),
      kind = r.u32('kind');
    if (insnOff % 8 || insnOff / 8 >= insnCnt) fail(E.EINVAL, `Invalid core_relo[${i}].insn_off:${insnOff} prog->len:${insnCnt}`);
    if (strOff >= local.header.strLen) fail(E.EINVAL, `core_relo[${i}]: access string offset ${strOff} is past the string section`);
    out.push({ insn: insnOff / 8, typeId, accessStr: local.string(strOff), kind });
  }
  return out;
}

/** The program's instructions with its CO-RE relocations applied against the profile's kernel BTF. */
export function applyProgCoreRelos(m: ModelContext, insns: Uint8Array, local: Btf, ptr: bigint, recSize: number, n: number): Uint8Array {
  const relos = readCoreRelos(m, local, ptr, recSize, n, insns.length / 8);
  const vmlinux = m.profile.vmlinux;
  if (!vmlinux) fail(E.EINVAL, 'CO-RE relocations need the kernel BTF (the profile has none)');
  let decoded;
  try {
    decoded = decodeInsns(insns, m.order);
  } catch (e) {
    fail(E.EINVAL, `CO-RE: the instructions do not decode: ${(e as Error).message}`);
  }
  try {
    const r = applyCoreRelocations(
      decoded,
      relos,
      local,
      { vmlinux, modules: m.profile.modules.map((x) => ({ name: x.name, btf: x.btf })), names: m.profile.coreNames },
      {
        byteOrder: m.le ? 'little' : 'big',
        pruneCandidates: false,
      },
    );
    return encodeInsns(r.insns, m.order);
  } catch (e) {
    if (isKernelError(e)) fail(E.EINVAL, `CO-RE: ${e.message}`);
    throw e;
  }
}
