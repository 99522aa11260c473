/**
 * The `.kconfig` map image: libbpf's values for kconfig externs, from explicit host inputs.
 */
import { LoaderError } from '../errors.js';
import type { ExternSpec } from '../object/index.js';
import type { Endian } from '../uapi/index.js';

export interface KconfigInputs {
  kconfig: Readonly<Record<string, string>>;
  kernelVersion: number;
  hostByteOrder: Endian;
}

function unsupported(e: ExternSpec, why: string): LoaderError {
  return new LoaderError('OBJECT_UNSUPPORTED', `kconfig extern '${e.name}': ${why}`, { symbol: e.name, field: 'kconfig' });
}

function writeInt(out: Uint8Array, off: number, size: number, v: bigint, order: Endian): void {
  const x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    const byte = Number((x >> BigInt(8 * i)) & 0xffn);
    out[order === 'le' ? off + i : off + size - 1 - i] = byte;
  }
}

/** Builds the initial value of the .kconfig map (size bytes). */
export function kconfigImage(externs: readonly ExternSpec[], size: number, inp: KconfigInputs): Uint8Array {
  const out = new Uint8Array(size);
  for (const e of externs) {
    const k = e.kconfig;
    if (e.kind !== 'kconfig' || !k) continue;
    if (k.offset + k.size > size)
      throw new LoaderError('OBJECT_MALFORMED', `kconfig extern '${e.name}' past end of .kconfig (${size})`, {
        symbol: e.name,
        offset: k.offset,
      });
    let raw: string | undefined;
    if (e.name === 'LINUX_KERNEL_VERSION') raw = String(inp.kernelVersion);
    else if (e.name === 'LINUX_HAS_BPF_COOKIE' || e.name === 'LINUX_HAS_SYSCALL_WRAPPER') raw = 'y';
    else if (e.name.startsWith('LINUX_')) {
      if (!e.weak) throw unsupported(e, 'unknown LINUX_ extern must be weak');
      continue;
    } else if (e.name.startsWith('CONFIG_')) {
      raw = inp.kconfig[e.name];
      if (raw === undefined) {
        if (!e.weak)
          throw new LoaderError('OBJECT_UNSUPPORTED', `kconfig extern '${e.name}' (strong): no value given (options.kconfig)`, {
            symbol: e.name,
            field: 'kconfig',
          });
        continue;
      }
    } else {
      throw unsupported(e, 'name must start with CONFIG_ or LINUX_');
    }
    setValue(out, e, raw, inp.hostByteOrder);
  }
  return out;
}

function setValue(out: Uint8Array, e: ExternSpec, raw: string, order: Endian): void {
  const k = e.kconfig!;
  const tri = raw === 'y' || raw === 'n' || raw === 'm';
  switch (k.kind) {
    case 'bool':
      if (raw === 'm') throw unsupported(e, "value 'm' for a bool");
      if (tri) {
        out[k.offset] = raw === 'y' ? 1 : 0;
        return;
      }
      break;
    case 'tristate':
      if (tri) {
        writeInt(out, k.offset, k.size, raw === 'y' ? 1n : raw === 'm' ? 2n : 0n, order);
        return;
      }
      break;
    case 'char':
      if (tri) {
        out[k.offset] = raw.charCodeAt(0);
        return;
      }
      break;
    case 'char_array': {
      if (!raw.startsWith('"')) throw unsupported(e, `value ${raw} is not a string`);
      const s = new TextEncoder().encode(raw.slice(1, raw.endsWith('"') && raw.length > 1 ? -1 : undefined));
      out.set(s.subarray(0, k.size - 1), k.offset);
      return;
    }
    default:
      break;
  }
  if (k.kind === 'int' || k.kind === 'tristate' || k.kind === 'bool' || k.kind === 'char') {
    if (tri || raw.startsWith('"')) throw unsupported(e, `value ${raw} does not fit a ${k.kind}`);
    let v: bigint;
    try {
      v = BigInt(raw.trim());
    } catch {
      throw unsupported(e, `value ${raw} is not a number`);
    }
    if (k.kind !== 'int') {
      if (v !== 0n && v !== 1n) throw unsupported(e, `value ${raw} does not fit a ${k.kind}`);
    }
    writeInt(out, k.offset, k.size, v, order);
    return;
  }
  throw unsupported(e, `unsupported kconfig type ${k.kind}`);
}
