/**
 * Decodes a DER ContentInfo/SignedData into plain data, field by field, so both the verifier and
 * tests (and `inspect`) can see exactly what a signature contains. Read straight from the DER
 * (definite lengths, as the kernel's and OpenSSL's signatures are), without an ASN.1 schema
 * library: through @peculiar/asn1-cms, decoding was most of a fresh verification's CPU. The tests
 * hold the two decoders to the same answers. Throws VerificationError('MALFORMED') naming the field and
 * offset when the bytes are not a CMS SignedData.
 */
import { OID } from '../algorithms.js';
import { VerificationError } from '../errors.js';
import { children, readTlv, type Tlv } from '../der.js';
import { toHex } from '../../shared/bytes.js';
import type { Memo } from '../caches.js';
import { deepFreeze } from '../../shared/freeze.js';

export interface AlgorithmInfo {
  oid: string;
  /** 'absent' | 'null' | hex of the raw parameters */
  parameters: 'absent' | 'null' | string;
}

export type SignerId =
  { $case: 'subjectKeyIdentifier'; keyId: string } | { $case: 'issuerAndSerialNumber'; issuer: Uint8Array; serialNumber: string };

export interface SignedAttribute {
  type: string;
  /** DER of each value */
  values: Uint8Array[];
}

export interface DecodedSignerInfo {
  version: number;
  sid: SignerId;
  digestAlgorithm: AlgorithmInfo;
  /** DER of the signed attributes re-tagged as SET OF (0x31), i.e. the bytes the signature covers */
  signedAttrsDer?: Uint8Array;
  signedAttrs?: SignedAttribute[];
  signatureAlgorithm: AlgorithmInfo;
  signature: Uint8Array;
  hasUnsignedAttrs: boolean;
}

export interface DecodedSignedData {
  contentType: string;
  version: number;
  digestAlgorithms: AlgorithmInfo[];
  eContentType: string;
  /** true when the content is embedded (kernel refuses: "PKCS#7 signature with non-detached data") */
  eContentPresent: boolean;
  certificateCount: number;
  crlCount: number;
  signerInfos: DecodedSignerInfo[];
}

/** Largest signature blob we parse (the kernel caps at KMALLOC_MAX_CACHE_SIZE; bpftool at 4096). */
export const MAX_CMS_SIZE = 64 * 1024;

function algorithm(a: { algorithm: string; parameters?: ArrayBuffer | null }): AlgorithmInfo {
  const p = a.parameters;
  return { oid: a.algorithm, parameters: p === undefined ? 'absent' : p === null ? 'null' : toHex(new Uint8Array(p)) };
}

/**
 * Decodes a CMS SignedData (the result is frozen). Decoding is a pure function of the bytes:
 * with `cache`, a CI gate verifying the same bundle again, or the tests' tamper matrix, skips the
 * ASN.1 parse. Only signatures that parse, of at most 4 KiB (what bpftool allows), are offered
 * to it, keyed by their base64; the results it keeps are shared.
 */
export function decodeSignedData(der: Uint8Array, cache?: Memo<string, DecodedSignedData>): DecodedSignedData {
  if (der.length > 4096) return decodeSignedDataOnce(der);
  if (cache === undefined) return deepFreeze(decodeSignedDataOnce(der), false);
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const v = deepFreeze(decodeSignedDataOnce(der));
  cache.set(key, v, key.length);
  return v;
}

function decodeSignedDataOnce(der: Uint8Array): DecodedSignedData {
  if (der.length === 0 || der.length > MAX_CMS_SIZE) {
    throw new VerificationError('MALFORMED', `cms: signature of ${der.length} bytes (want 1..${MAX_CMS_SIZE})`, { got: der.length });
  }
  const r = new DerFields(der);
  const ci = r.want(readTlv(der, 0), 0x30, 'ContentInfo');
  if (ci.end !== der.length) throw malformed(`${der.length - ci.end} bytes after the ContentInfo`, 'ContentInfo', ci.end);
  const [contentType, explicit, ...extraCi] = r.children(ci, 'ContentInfo');
  const ct = r.oid(contentType, 'ContentInfo.contentType');
  if (ct !== OID.signedData) {
    throw new VerificationError('MALFORMED', `cms: contentType ${ct} is not signedData`, {
      field: 'contentType',
      got: ct,
      want: OID.signedData,
    });
  }
  if (!explicit || explicit.tag !== 0xa0 || extraCi.length)
    throw malformed('ContentInfo.content is not one [0] EXPLICIT', 'ContentInfo.content', explicit?.start);
  const [sdSeq, ...extraSd] = r.children(explicit, 'ContentInfo.content');
  if (!sdSeq || sdSeq.tag !== 0x30 || extraSd.length) throw malformed('SignedData is not one SEQUENCE', 'SignedData', sdSeq?.start);

  // version, digestAlgorithms, encapContentInfo, [0] certificates?, [1] crls?, signerInfos
  const f = r.children(sdSeq, 'SignedData');
  let i = 0;
  const version = r.int(f[i++], 'SignedData.version');
  const digestAlgorithms = r
    .children(r.want(f[i++], 0x31, 'SignedData.digestAlgorithms'), 'SignedData.digestAlgorithms')
    .map((a, k) => r.algorithm(a, `SignedData.digestAlgorithms[${k}]`));
  const [eContentTypeTlv, eContent, ...extraEci] = r.children(
    r.want(f[i++], 0x30, 'SignedData.encapContentInfo'),
    'SignedData.encapContentInfo',
  );
  const eContentType = r.oid(eContentTypeTlv, 'encapContentInfo.eContentType');
  if ((eContent && eContent.tag !== 0xa0) || extraEci.length)
    throw malformed('encapContentInfo has fields other than eContentType and [0] eContent', 'encapContentInfo', eContent?.start);
  let certificateCount = 0,
    crlCount = 0;
  if (f[i]?.tag === 0xa0) certificateCount = r.children(f[i++], 'SignedData.certificates').length;
  if (f[i]?.tag === 0xa1) crlCount = r.children(f[i++], 'SignedData.crls').length;
  const infos = r.want(f[i++], 0x31, 'SignedData.signerInfos');
  if (i !== f.length) throw malformed('fields after signerInfos', 'SignedData', f[i].start);

  const signerInfos = r.children(infos, 'SignedData.signerInfos').map((info, k): DecodedSignerInfo => {
    const at = `signerInfos[${k}]`;
    // version, sid, digestAlgorithm, [0] signedAttrs?, signatureAlgorithm, signature, [1] unsignedAttrs?
    const p = r.children(r.want(info, 0x30, at), at);
    let j = 0;
    const siVersion = r.int(p[j++], `${at}.version`);
    const sidTlv = p[j++];
    let sid: SignerId;
    if (sidTlv?.tag === 0x80) {
      sid = { $case: 'subjectKeyIdentifier', keyId: toHex(der.subarray(sidTlv.contentStart, sidTlv.end)) };
    } else if (sidTlv?.tag === 0x30) {
      const [issuer, serial, ...extra] = r.children(sidTlv, `${at}.sid`);
      if (extra.length) throw malformed('issuerAndSerialNumber has extra fields', `${at}.sid`, sidTlv.start);
      r.want(issuer, 0x30, `${at}.sid.issuer`);
      r.want(serial, 0x02, `${at}.sid.serialNumber`);
      sid = {
        $case: 'issuerAndSerialNumber',
        issuer: der.slice(issuer.start, issuer.end),
        serialNumber: toHex(der.subarray(serial.contentStart, serial.end)),
      };
    } else {
      throw new VerificationError('MALFORMED', `cms: ${at}: no signer identifier`, { field: 'sid', offset: sidTlv?.start });
    }
    const digestAlgorithm = r.algorithm(p[j++], `${at}.digestAlgorithm`);
    let signedAttrsDer: Uint8Array | undefined, signedAttrs: SignedAttribute[] | undefined;
    if (p[j]?.tag === 0xa0) {
      const attrs = p[j++];
      signedAttrs = r.attributes(attrs, `${at}.signedAttrs`);
      // The bytes the signature covers: the attributes re-tagged as SET OF (RFC 5652 §5.4).
      signedAttrsDer = der.slice(attrs.start, attrs.end);
      signedAttrsDer[0] = 0x31;
    }
    const signatureAlgorithm = r.algorithm(p[j++], `${at}.signatureAlgorithm`);
    const sig = r.want(p[j++], 0x04, `${at}.signature`);
    let hasUnsignedAttrs = false;
    if (p[j]?.tag === 0xa1) hasUnsignedAttrs = r.attributes(p[j++], `${at}.unsignedAttrs`).length > 0;
    if (j !== p.length) throw malformed('fields after the signature', at, p[j].start);
    return {
      version: siVersion,
      sid,
      digestAlgorithm,
      signedAttrsDer,
      signedAttrs,
      signatureAlgorithm,
      signature: der.slice(sig.contentStart, sig.end),
      hasUnsignedAttrs,
    };
  });
  return {
    contentType: ct,
    version,
    digestAlgorithms,
    eContentType,
    eContentPresent: eContent !== undefined,
    certificateCount,
    crlCount,
    signerInfos,
  };
}

function malformed(why: string, field: string, offset?: number): VerificationError {
  return new VerificationError('MALFORMED', `cms: ${field}: ${why}${offset === undefined ? '' : ` at offset ${offset}`}`, {
    field,
    offset,
  });
}

/**
 * The fields of a SignedData read straight from its DER (definite lengths, one-byte tags), each
 * checked for the tag its place wants; every failure is MALFORMED naming the field and offset.
 */
class DerFields {
  constructor(readonly der: Uint8Array) {}

  want(t: Tlv | undefined, tag: number, field: string): Tlv {
    if (t === undefined) throw malformed(`missing (want tag 0x${tag.toString(16)})`, field);
    if (t.tag !== tag)
      throw new VerificationError(
        'MALFORMED',
        `cms: ${field}: tag 0x${t.tag.toString(16)} at offset ${t.start} (want 0x${tag.toString(16)})`,
        { field, offset: t.start, got: t.tag, want: tag },
      );
    return t;
  }

  children(t: Tlv, field: string): Tlv[] {
    // Only constructed encodings have children (bit 0x20 of the tag).
    if ((t.tag & 0x20) === 0) throw malformed(`tag 0x${t.tag.toString(16)} is not constructed`, field, t.start);
    return children(this.der, t);
  }

  /** A small INTEGER (versions), two's complement. */
  int(t: Tlv | undefined, field: string): number {
    const v = this.want(t, 0x02, field);
    const n = v.end - v.contentStart;
    if (n === 0 || n > 6) throw malformed(`INTEGER of ${n} bytes`, field, v.start);
    let x = this.der[v.contentStart] & 0x80 ? -1 : 0;
    for (let k = v.contentStart; k < v.end; k++) x = x * 256 + this.der[k];
    return x;
  }

  /** An OBJECT IDENTIFIER in dotted form. */
  oid(t: Tlv | undefined, field: string): string {
    const v = this.want(t, 0x06, field);
    const d = this.der;
    if (v.end === v.contentStart || d[v.end - 1] & 0x80)
      throw malformed('OBJECT IDENTIFIER is empty or ends inside an arc', field, v.start);
    const arcs: number[] = [];
    let x = 0;
    for (let k = v.contentStart; k < v.end; k++) {
      if (x === 0 && d[k] === 0x80) throw malformed('OBJECT IDENTIFIER arc with a leading 0x80', field, k);
      x = x * 128 + (d[k] & 0x7f);
      if (x > Number.MAX_SAFE_INTEGER / 128) throw malformed('OBJECT IDENTIFIER arc too large', field, k);
      if ((d[k] & 0x80) === 0) {
        arcs.push(x);
        x = 0;
      }
    }
    const first = arcs[0] < 80 ? Math.floor(arcs[0] / 40) : 2;
    return [first, arcs[0] - 40 * first, ...arcs.slice(1)].join('.');
  }

  algorithm(t: Tlv | undefined, field: string): AlgorithmInfo {
    const [oid, params, ...extra] = this.children(this.want(t, 0x30, field), field);
    if (extra.length) throw malformed('AlgorithmIdentifier has more than two fields', field, t!.start);
    const parameters =
      params === undefined
        ? 'absent'
        : params.tag === 0x05 && params.end === params.contentStart
          ? 'null'
          : toHex(this.der.subarray(params.start, params.end));
    return { oid: this.oid(oid, `${field}.algorithm`), parameters };
  }

  /** [n] IMPLICIT SET OF Attribute: SEQUENCE { attrType OID, attrValues SET OF ANY }. */
  attributes(t: Tlv, field: string): SignedAttribute[] {
    return this.children(t, field).map((a, k) => {
      const at = `${field}[${k}]`;
      const [type, values, ...extra] = this.children(this.want(a, 0x30, at), at);
      if (extra.length) throw malformed('Attribute has more than two fields', at, a.start);
      return {
        type: this.oid(type, `${at}.attrType`),
        values: this.children(this.want(values, 0x31, `${at}.attrValues`), `${at}.attrValues`).map((v) => this.der.slice(v.start, v.end)),
      };
    });
  }
}
