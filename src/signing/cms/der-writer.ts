/**
 * A small, strict DER writer (X.690 §10): definite lengths in the fewest octets, single-octet
 * tags, minimal INTEGERs, OBJECT IDENTIFIERs checked arc by arc, SET OF sorted. A value is built
 * as a tree of nodes; `encode` measures the tree once and writes it into one buffer, so a
 * structure costs one allocation however deep it is. Constant sub-structures can be encoded once
 * and reused as `raw` nodes.
 *
 * Misuse (a bad tag, OID or integer) is a programming error and throws TypeError/RangeError.
 */

export type DerNode =
  /** already-encoded DER, copied as is */
  | { readonly kind: 'raw'; readonly bytes: Uint8Array }
  /** primitive: tag + content octets */
  | { readonly kind: 'prim'; readonly tag: number; readonly content: Uint8Array }
  /** constructed: tag + the encodings of the children, in order */
  | { readonly kind: 'cons'; readonly tag: number; readonly children: readonly DerNode[] };

export const TAG = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Largest content length we write (4 length octets). */
const MAX_LENGTH = 0xffffffff;

function checkTag(tag: number, constructed: boolean): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff) throw new RangeError(`der: tag ${tag} is not one octet`);
  if ((tag & 0x1f) === 0x1f) throw new RangeError(`der: tag 0x${tag.toString(16)} needs the high-tag-number form`);
  if (((tag & 0x20) !== 0) !== constructed) {
    throw new RangeError(
      `der: tag 0x${tag.toString(16)} is ${constructed ? 'primitive' : 'constructed'}, used as ${constructed ? 'constructed' : 'primitive'}`,
    );
  }
}

/** Octets of a definite length header (not counting the tag). */
export function lengthSize(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_LENGTH) throw new RangeError(`der: length ${n} out of range 0..${MAX_LENGTH}`);
  return n < 0x80 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : n <= 0xffffff ? 4 : 5;
}

function writeLength(out: Uint8Array, p: number, n: number): number {
  if (n < 0x80) {
    out[p] = n;
    return p + 1;
  }
  const k = lengthSize(n) - 1;
  out[p++] = 0x80 | k;
  for (let i = k - 1; i >= 0; i--) out[p++] = Math.floor(n / 2 ** (8 * i)) & 0xff;
  return p;
}

export function raw(bytes: Uint8Array): DerNode {
  return { kind: 'raw', bytes };
}

export function prim(tag: number, content: Uint8Array): DerNode {
  checkTag(tag, false);
  return { kind: 'prim', tag, content };
}

export function cons(tag: number, children: readonly DerNode[]): DerNode {
  checkTag(tag, true);
  return { kind: 'cons', tag, children };
}

export function sequence(...children: DerNode[]): DerNode {
  return cons(TAG.SEQUENCE, children);
}

/** SET OF: DER orders the elements by their encodings (X.690 §11.6), so this encodes them now. */
export function setOf(...children: DerNode[]): DerNode {
  if (children.length < 2) return cons(TAG.SET, children);
  const encoded = children.map(encode).sort(compareOctets);
  return cons(TAG.SET, encoded.map(raw));
}

/** X.690 §11.6 order: as octet strings, the shorter one padded at its end with zero octets. */
function compareOctets(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function octetString(bytes: Uint8Array): DerNode {
  return prim(TAG.OCTET_STRING, bytes);
}

export const NULL: DerNode = raw(Uint8Array.of(TAG.NULL, 0));

/** INTEGER from a safe, non-negative JS number, in the fewest two's-complement octets. */
export function smallInteger(v: number): DerNode {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`der: integer ${v} is not a safe non-negative integer`);
  const octets: number[] = [];
  let x = v;
  do {
    octets.unshift(x % 256);
    x = Math.floor(x / 256);
  } while (x > 0);
  if (octets[0] & 0x80) octets.unshift(0);
  return prim(TAG.INTEGER, Uint8Array.from(octets));
}

/** Content octets of an OBJECT IDENTIFIER in dotted form (X.690 §8.19), every arc checked. */
export function oidContent(dotted: string): Uint8Array {
  const parts = dotted.split('.');
  if (parts.length < 2 || parts.some((p) => !/^(0|[1-9][0-9]*)$/.test(p))) throw new TypeError(`der: "${dotted}" is not a dotted OID`);
  const arcs = parts.map(Number);
  if (arcs.some((a) => !Number.isSafeInteger(a))) throw new RangeError(`der: OID ${dotted} has an arc beyond 2^53`);
  const [first, second] = arcs;
  if (first > 2 || (first < 2 && second > 39)) throw new RangeError(`der: OID ${dotted} has an invalid first or second arc`);
  const out: number[] = [];
  const base128 = (v: number): void => {
    const groups: number[] = [v % 128];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) groups.unshift((x % 128) | 0x80);
    out.push(...groups);
  };
  base128(first * 40 + second);
  for (const a of arcs.slice(2)) base128(a);
  return Uint8Array.from(out);
}

export function objectIdentifier(dotted: string): DerNode {
  return prim(TAG.OBJECT_IDENTIFIER, oidContent(dotted));
}

/** Context-specific [n] IMPLICIT on a primitive value: 0x80 | n. */
export function implicitPrimitive(n: number, content: Uint8Array): DerNode {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`der: context tag [${n}] out of range 0..30`);
  return prim(0x80 | n, content);
}

/** Context-specific [n] EXPLICIT (or IMPLICIT on a constructed value): 0xa0 | n. */
export function contextConstructed(n: number, ...children: DerNode[]): DerNode {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`der: context tag [${n}] out of range 0..30`);
  return cons(0xa0 | n, children);
}

/** Content length of every constructed node, in pre-order (the order `write` meets them). */
function measure(node: DerNode, sizes: number[]): number {
  switch (node.kind) {
    case 'raw':
      return node.bytes.length;
    case 'prim':
      return 1 + lengthSize(node.content.length) + node.content.length;
    case 'cons': {
      const slot = sizes.length;
      sizes.push(0);
      let len = 0;
      for (const c of node.children) len += measure(c, sizes);
      sizes[slot] = len;
      return 1 + lengthSize(len) + len;
    }
  }
}

function write(node: DerNode, out: Uint8Array, p: number, sizes: number[], next: { i: number }): number {
  switch (node.kind) {
    case 'raw':
      out.set(node.bytes, p);
      return p + node.bytes.length;
    case 'prim':
      out[p++] = node.tag;
      p = writeLength(out, p, node.content.length);
      out.set(node.content, p);
      return p + node.content.length;
    case 'cons': {
      const len = sizes[next.i++];
      out[p++] = node.tag;
      p = writeLength(out, p, len);
      const end = p + len;
      for (const c of node.children) p = write(c, out, p, sizes, next);
      if (p !== end) throw new Error(`der: internal size mismatch (wrote ${p}, measured ${end})`);
      return p;
    }
  }
}

/** The DER encoding of `node`. */
export function encode(node: DerNode): Uint8Array {
  const sizes: number[] = [];
  const out = new Uint8Array(measure(node, sizes));
  const end = write(node, out, 0, sizes, { i: 0 });
  if (end !== out.length) throw new Error(`der: internal size mismatch (wrote ${end}, measured ${out.length})`);
  return out;
}
