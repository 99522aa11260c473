/**
 * The BTF header: magic (decides byte order), version, flags, hdr_len and the
 * type and string section descriptors. Checked like the kernel does: a longer
 * header is accepted only if its unknown bytes are zero; sections must be
 * in bounds, non-overlapping, without gaps, and cover the data exactly.
 */

import { LoaderError } from '../errors.js';
import { BTF_HEADER_SIZE, BTF_MAGIC, BTF_MAX_NAME_OFFSET, BTF_VERSION, type ByteOrder } from './types.js';

export interface BtfHeader {
  byteOrder: ByteOrder;
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  /** Offsets are relative to the end of the header, as in the file. */
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

function malformed(message: string, details: Record<string, unknown>): LoaderError {
  return new LoaderError('BTF_MALFORMED', `btf: ${message}`, details);
}

/** Detects byte order from the magic at bytes[0..2]; undefined if neither order matches. */
export function detectByteOrder(bytes: Uint8Array): ByteOrder | undefined {
  if (bytes.length < 2) return undefined;
  if (bytes[0] === (BTF_MAGIC & 0xff) && bytes[1] === BTF_MAGIC >> 8) return 'little';
  if (bytes[0] === BTF_MAGIC >> 8 && bytes[1] === (BTF_MAGIC & 0xff)) return 'big';
  return undefined;
}

export function parseBtfHeader(bytes: Uint8Array, opts: { split: boolean }): BtfHeader {
  if (bytes.length < BTF_HEADER_SIZE) {
    throw malformed(`data too short for header (${bytes.length} < ${BTF_HEADER_SIZE} bytes)`, {
      field: 'header',
      offset: 0,
      got: bytes.length,
      want: BTF_HEADER_SIZE,
    });
  }
  const byteOrder = detectByteOrder(bytes);
  if (!byteOrder) {
    throw malformed(`bad magic 0x${((bytes[0] << 8) | bytes[1]).toString(16)}`, {
      field: 'magic',
      offset: 0,
      got: (bytes[0] << 8) | bytes[1],
      want: BTF_MAGIC,
    });
  }
  const le = byteOrder === 'little';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[2];
  const flags = bytes[3];
  const hdrLen = dv.getUint32(4, le);
  if (version !== BTF_VERSION) {
    throw malformed(`unsupported version ${version}`, { field: 'version', offset: 2, got: version, want: BTF_VERSION });
  }
  if (flags !== 0) {
    throw malformed(`unsupported flags 0x${flags.toString(16)}`, { field: 'flags', offset: 3, got: flags, want: 0 });
  }
  if (hdrLen < BTF_HEADER_SIZE || hdrLen > bytes.length) {
    throw malformed(`hdr_len ${hdrLen} invalid (data is ${bytes.length} bytes, minimum header ${BTF_HEADER_SIZE})`, {
      field: 'hdr_len',
      offset: 4,
      got: hdrLen,
      want: `${BTF_HEADER_SIZE}..${bytes.length}`,
    });
  }
  for (let i = BTF_HEADER_SIZE; i < hdrLen; i++) {
    if (bytes[i] !== 0) {
      throw malformed(`unknown header byte at offset ${i} is not zero`, { field: 'hdr_len', offset: i, got: bytes[i], want: 0 });
    }
  }
  const h: BtfHeader = {
    byteOrder,
    magic: BTF_MAGIC,
    version,
    flags,
    hdrLen,
    typeOff: dv.getUint32(8, le),
    typeLen: dv.getUint32(12, le),
    strOff: dv.getUint32(16, le),
    strLen: dv.getUint32(20, le),
  };
  checkLayout(h, bytes.length - hdrLen, opts.split);
  return h;
}

function checkLayout(h: BtfHeader, dataLen: number, split: boolean): void {
  if (h.typeOff % 4 !== 0) {
    throw malformed(`type section offset ${h.typeOff} is not 4-byte aligned`, { field: 'type_off', got: h.typeOff });
  }
  const secs = [
    { name: 'type', off: h.typeOff, len: h.typeLen },
    { name: 'str', off: h.strOff, len: h.strLen },
  ];
  for (const s of secs) {
    if (s.off + s.len > dataLen) {
      throw malformed(`${s.name} section [${s.off}, ${s.off + s.len}) past end of data (${dataLen} bytes after header)`, {
        field: `${s.name}_len`,
        got: s.off + s.len,
        want: `<= ${dataLen}`,
      });
    }
  }
  secs.sort((a, b) => a.off - b.off || a.len - b.len);
  let expected = 0;
  for (const s of secs) {
    if (s.len === 0 && s.off <= dataLen) continue;
    if (s.off < expected) {
      throw malformed(`${s.name} section at ${s.off} overlaps the previous section (ends at ${expected})`, {
        field: `${s.name}_off`,
        got: s.off,
        want: `>= ${expected}`,
      });
    }
    if (s.off > expected) {
      throw malformed(`gap before ${s.name} section (at ${s.off}, previous section ends at ${expected})`, {
        field: `${s.name}_off`,
        got: s.off,
        want: expected,
      });
    }
    expected = s.off + s.len;
  }
  if (expected !== dataLen) {
    throw malformed(`sections cover ${expected} of ${dataLen} data bytes`, { field: 'str_len', got: expected, want: dataLen });
  }
  if (h.strLen > BTF_MAX_NAME_OFFSET) {
    throw malformed(`string section too large (${h.strLen} bytes)`, { field: 'str_len', got: h.strLen, want: `<= ${BTF_MAX_NAME_OFFSET}` });
  }
  if (h.strLen === 0 && !split) {
    throw malformed('string section is empty', { field: 'str_len', got: 0, want: '> 0' });
  }
}

/** Writes a header of h.hdrLen bytes (unknown tail zeroed) at the start of `out`. */
export function writeBtfHeader(out: DataView, h: BtfHeader): void {
  const le = h.byteOrder === 'little';
  out.setUint16(0, BTF_MAGIC, le);
  out.setUint8(2, h.version);
  out.setUint8(3, h.flags);
  out.setUint32(4, h.hdrLen, le);
  out.setUint32(8, h.typeOff, le);
  out.setUint32(12, h.typeLen, le);
  out.setUint32(16, h.strOff, le);
  out.setUint32(20, h.strLen, le);
  for (let i = BTF_HEADER_SIZE; i < h.hdrLen; i++) out.setUint8(i, 0);
}
