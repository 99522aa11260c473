/**
 * The helpers a loader program calls, on top of the bpf() model: bpf_sys_bpf,
 * bpf_sys_close, bpf_btf_find_by_name_kind, bpf_kallsyms_lookup_name,
 * bpf_copy_from_user, bpf_probe_read_kernel and bpf_trace_printk. Ids from
 * src/loader/isa/helpers-table.ts; return values as the kernel's (-errno on failure).
 */
import { BTF_KIND_NAMES } from '../../loader/btf/index.js';
import { HELPER } from '../../loader/uapi/index.js';
import { isVmError } from '../errors.js';
import type { Helper, HelperEnv } from '../vm/index.js';
import { ksymAddress } from '../profile/index.js';
import { E } from './errno.js';
import type { BpfModel } from './model.js';

const neg = (errno: number): bigint => BigInt(-errno);
const s32 = (v: bigint): number => Number(BigInt.asIntN(32, v));

function tryRead(env: HelperEnv, addr: bigint, len: number): Uint8Array | null {
  try {
    return env.memory.read(addr, len);
  } catch (e) {
    if (isVmError(e)) return null;
    throw e;
  }
}

/** A NUL-terminated name of exactly name_sz bytes (the kernel's rule for both lookup helpers). */
function nameArg(env: HelperEnv, ptr: bigint, size: bigint): string | null {
  const n = Number(BigInt.asUintN(32, size));
  if (n <= 1 || n > 1024) return null;
  const b = tryRead(env, ptr, n);
  if (!b || b[n - 1] !== 0 || b.indexOf(0) !== n - 1) return null;
  return String.fromCharCode(...b.subarray(0, n - 1));
}

/** bpf_trace_printk's formatting (bpf_bprintf_prepare): %d %i %u %x %X %c %s %p %%, with l/ll/h modifiers, up to 3 arguments. */
export function formatPrintk(fmt: string, args: bigint[], readString: (p: bigint) => string): string {
  let k = 0;
  return fmt.replace(/%(-?\d*)(ll|l|h|hh|z)?([diuxXcsp%])/g, (_m, width: string, len: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const a = args[k++] ?? 0n;
    const bits = len === 'll' || len === 'l' || len === 'z' ? 64 : 32;
    let s: string;
    switch (conv) {
      case 'd':
      case 'i':
        s = BigInt.asIntN(bits, a).toString();
        break;
      case 'u':
        s = BigInt.asUintN(bits, a).toString();
        break;
      case 'x':
        s = BigInt.asUintN(bits, a).toString(16);
        break;
      case 'X':
        s = BigInt.asUintN(bits, a).toString(16).toUpperCase();
        break;
      case 'c':
        s = String.fromCharCode(Number(a & 0xffn));
        break;
      case 's':
        s = readString(a);
        break;
      default:
        s = `0x${BigInt.asUintN(64, a).toString(16)}`;
    }
    const w = Number(width || 0);
    return w < 0 ? s.padEnd(-w) : s.padStart(w);
  });
}

export interface LoaderHelpersOutput {
  printk: string[];
}

/** The helper table for a loader running against `model`. */
export function loaderHelpers(model: BpfModel, out: LoaderHelpersOutput): Map<number, Helper> {
  const h = new Map<number, Helper>();
  h.set(HELPER.sys_bpf, (cmd, attr, size, _r4, _r5, env) =>
    BigInt(model.sys(Number(cmd & 0xffffffffn), attr, Number(size & 0xffffffffn), 'loader', env.pc)),
  );
  h.set(HELPER.sys_close, (fd, _r2, _r3, _r4, _r5, env) => BigInt(model.close(s32(fd), 'loader', env.pc)));
  h.set(HELPER.btf_find_by_name_kind, (namePtr, nameSz, kind, flags, _r5, env) => {
    const name = nameArg(env, namePtr, nameSz);
    const args = { name: name ?? '?', kind: Number(kind), flags: Number(flags) };
    const done = (r: bigint, why?: string) => {
      model.record({
        caller: 'loader',
        op: 'btf_find_by_name_kind',
        args,
        result: r < 0n ? Number(r) : `0x${r.toString(16)}`,
        pc: env.pc,
        ...(why ? { reason: why } : {}),
      });
      return r;
    };
    if (flags !== 0n || name === null) return done(neg(E.EINVAL), 'flags or name');
    // Kind 0 (void, unknown) and kinds past the last are refused.
    const kindName = kind === 0n ? undefined : BTF_KIND_NAMES[Number(kind)];
    if (!kindName) return done(neg(E.EINVAL), 'kind');
    const p = model.profile;
    const vm = p.vmlinux?.findByName(name, kindName);
    if (p.vmlinux && vm !== undefined) return done(BigInt(vm));
    for (const mod of p.modules) {
      const id = mod.btf.findByName(name, kindName);
      if (id !== undefined && id >= mod.btf.startId) {
        const fd = model.fds.install(model.kernelBtf(mod.name, mod.btf));
        return done((BigInt(fd) << 32n) | BigInt(id));
      }
    }
    return done(neg(E.ENOENT));
  });
  h.set(HELPER.kallsyms_lookup_name, (namePtr, nameSz, flags, res, _r5, env) => {
    const name = nameArg(env, namePtr, nameSz);
    let r: bigint;
    if (flags !== 0n || name === null) r = neg(E.EINVAL);
    else {
      const addr = ksymAddress(model.profile, name) ?? 0n;
      try {
        env.memory.store(res, 8, addr);
      } catch (e) {
        if (!isVmError(e)) throw e;
        return neg(E.EFAULT);
      }
      r = addr ? 0n : neg(E.ENOENT);
    }
    model.record({ caller: 'loader', op: 'kallsyms_lookup_name', args: { name: name ?? '?' }, result: Number(r), pc: env.pc });
    return r;
  });
  const copy = (dst: bigint, size: bigint, src: bigint, env: HelperEnv): bigint => {
    const n = Number(BigInt.asUintN(32, size));
    const bytes = src === 0n ? null : tryRead(env, src, n);
    env.memory.write(dst, bytes ?? new Uint8Array(n));
    return bytes ? 0n : neg(E.EFAULT);
  };
  h.set(HELPER.copy_from_user, (dst, size, src, _r4, _r5, env) => copy(dst, size, src, env));
  h.set(HELPER.probe_read_kernel, (dst, size, src, _r4, _r5, env) => copy(dst, size, src, env));
  h.set(HELPER.trace_printk, (fmt, fmtSize, a1, a2, a3, env) => {
    const n = Number(BigInt.asUintN(32, fmtSize));
    const raw = tryRead(env, fmt, n);
    if (!raw || raw[n - 1] !== 0) return neg(E.EINVAL);
    const text = formatPrintk(String.fromCharCode(...raw.subarray(0, raw.indexOf(0))), [a1, a2, a3], (p) => {
      try {
        return env.memory.readCString(p, 256);
      } catch {
        return '(efault)';
      }
    });
    out.printk.push(text);
    return BigInt(text.length);
  });
  return h;
}
