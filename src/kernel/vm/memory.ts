/**
 * The VM's memory: named, typed regions in a synthetic 64-bit address space.
 *
 * Region number n lives at base (0x100 + n) << 32, so regions are 4 GiB apart,
 * a pointer's high 32 bits name its region and its low 32 bits the offset.
 * Address 0 and everything below 0x100_0000_0000 belong to no region (NULL
 * faults), and running off either end of a region lands in a gap or past the
 * end of a neighbour, which the bounds check rejects. Region numbers are not
 * reused, so a stale pointer to an unmapped region faults instead of aliasing.
 *
 * Every access is bounds-checked; stores into read-only regions fault. Faults
 * are `VmError`s naming the region and the address; the interpreter adds pc and
 * opcode.
 */

import { VmError } from '../errors.js';

export type RegionKind = 'ctx' | 'stack' | 'map_value' | 'data' | 'kernel' | 'packet' | 'memory';

export interface Region {
  readonly id: number;
  readonly kind: RegionKind;
  readonly name: string;
  readonly base: bigint;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly writable: boolean;
}

export interface MapOptions {
  /** Default true except for kind 'kernel'. */
  writable?: boolean;
  name?: string;
}

const FIRST = 0x100;
const LOW32 = 0xffffffffn;

/** Base address of region number n. */
export function regionBase(n: number): bigint {
  return BigInt(FIRST + n) << 32n;
}

function hex(a: bigint): string {
  return `0x${a.toString(16)}`;
}

export class Memory {
  private readonly regions: (Region | undefined)[] = [];
  readonly littleEndian: boolean;
  /** A region whose reads are reported (load, read, readCString), while set. */
  private watched: { region: Region; onRead: (offset: number, size: number) => void } | null = null;

  constructor(byteOrder: 'le' | 'be' = 'le') {
    this.littleEndian = byteOrder === 'le';
  }

  /** Maps `bytes` (not copied: the region aliases the caller's buffer) and returns its region. */
  map(kind: RegionKind, bytes: Uint8Array, opts: MapOptions = {}): Region {
    const id = this.regions.length;
    if (bytes.length > 0x1_0000_0000)
      throw new VmError('VM_MEMORY', `region ${opts.name ?? kind}: ${bytes.length} bytes is more than 4 GiB`);
    const region: Region = {
      id,
      kind,
      name: opts.name ?? `${kind}#${id}`,
      base: regionBase(id),
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      writable: opts.writable ?? kind !== 'kernel',
    };
    this.regions.push(region);
    return region;
  }

  /**
   * Reports every read of `region` through load, read and readCString to `onRead` until
   * `unwatch` (one watch at a time: a new one replaces the old).
   */
  watch(region: Region, onRead: (offset: number, size: number) => void): void {
    this.watched = { region, onRead };
  }

  unwatch(): void {
    this.watched = null;
  }

  /** Removes a region; later accesses through its addresses fault. */
  unmap(region: Region): void {
    if (this.regions[region.id] === region) this.regions[region.id] = undefined;
  }

  /** Every mapped region, in mapping order. */
  list(): Region[] {
    return this.regions.filter((r): r is Region => r !== undefined);
  }

  /** The region holding `addr`, or undefined. */
  regionOf(addr: bigint): Region | undefined {
    const n = Number(addr >> 32n) - FIRST;
    return n >= 0 && n < this.regions.length ? this.regions[n] : undefined;
  }

  /** The region and offset of [addr, addr+size), or a VM_MEMORY fault. */
  locate(addr: bigint, size: number, access: 'load' | 'store'): { region: Region; offset: number } {
    const region = this.regionOf(addr);
    if (region === undefined) {
      throw new VmError('VM_MEMORY', `${access} of ${size} bytes at ${hex(addr)}: no region there`, { address: addr, size });
    }
    const offset = Number(addr & LOW32);
    if (offset + size > region.bytes.length) {
      throw new VmError('VM_MEMORY', `${access} of ${size} bytes at ${region.name}+${offset}: past the end (size ${region.bytes.length})`, {
        region: region.name,
        address: addr,
        size,
        got: offset + size,
        want: `<= ${region.bytes.length}`,
      });
    }
    if (access === 'store' && !region.writable) {
      throw new VmError('VM_READ_ONLY', `store of ${size} bytes at ${region.name}+${offset}: region is read-only`, {
        region: region.name,
        address: addr,
        size,
      });
    }
    return { region, offset };
  }

  /** Unsigned load of 1, 2, 4 or 8 bytes in the VM's byte order. */
  load(addr: bigint, size: number): bigint {
    const { region, offset } = this.locate(addr, size, 'load');
    if (this.watched !== null && this.watched.region === region) this.watched.onRead(offset, size);
    const v = region.view;
    switch (size) {
      case 1:
        return BigInt(v.getUint8(offset));
      case 2:
        return BigInt(v.getUint16(offset, this.littleEndian));
      case 4:
        return BigInt(v.getUint32(offset, this.littleEndian));
      default:
        return v.getBigUint64(offset, this.littleEndian);
    }
  }

  /** Store of the low 1, 2, 4 or 8 bytes of `value` in the VM's byte order. */
  store(addr: bigint, size: number, value: bigint): void {
    const { region, offset } = this.locate(addr, size, 'store');
    const v = region.view;
    switch (size) {
      case 1:
        v.setUint8(offset, Number(value & 0xffn));
        return;
      case 2:
        v.setUint16(offset, Number(value & 0xffffn), this.littleEndian);
        return;
      case 4:
        v.setUint32(offset, Number(value & LOW32), this.littleEndian);
        return;
      default:
        v.setBigUint64(offset, BigInt.asUintN(64, value), this.littleEndian);
    }
  }

  /** A copy of `len` bytes at `addr`. */
  read(addr: bigint, len: number): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    const { region, offset } = this.locate(addr, len, 'load');
    if (this.watched !== null && this.watched.region === region) this.watched.onRead(offset, len);
    return region.bytes.slice(offset, offset + len);
  }

  /** Writes `bytes` at `addr`. */
  write(addr: bigint, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const { region, offset } = this.locate(addr, bytes.length, 'store');
    region.bytes.set(bytes, offset);
  }

  /** The NUL-terminated string at `addr` (at most `max` bytes before the NUL), as latin1. */
  readCString(addr: bigint, max: number): string {
    const { region, offset } = this.locate(addr, 1, 'load');
    const end = Math.min(region.bytes.length, offset + max + 1);
    const nul = region.bytes.subarray(offset, end).indexOf(0);
    if (this.watched !== null && this.watched.region === region) this.watched.onRead(offset, nul < 0 ? end - offset : nul + 1);
    if (nul < 0)
      throw new VmError('VM_MEMORY', `string at ${region.name}+${offset}: no NUL within ${max} bytes`, {
        region: region.name,
        address: addr,
      });
    let out = '';
    for (let i = 0; i < nul; i++) out += String.fromCharCode(region.bytes[offset + i]!);
    return out;
  }
}
