/**
 * Decodes a DER ContentInfo/SignedData into plain data, field by field, so both the verifier and
 * tests (and `inspect`) can see exactly what a signature contains. Throws
 * VerificationError('MALFORMED') when the bytes are not a CMS SignedData.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { OID } from '../algorithms.js';
import { VerificationError } from '../errors.js';
import { children, readTlv } from '../der.js';
import { toHex } from '../../shared/bytes.js';
import { Lru } from '../../shared/lru.js';
import { deepFreeze } from '../../shared/freeze.js';

export interface AlgorithmInfo {
  oid: string;
  /** 'absent' | 'null' | hex of the raw parameters */
  parameters: 'absent' | 'null' | string;
}

export type SignerId =
  | { $case: 'subjectKeyIdentifier'; keyId: string }
  | { $case: 'issuerAndSerialNumber'; issuer: Uint8Array; serialNumber: string };

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
 * Decoded signatures by their bytes (a pure function of them: a CI gate verifying the same
 * bundle again, or the tests' tamper matrix, skips the ASN.1 parse). Only signatures that parse,
 * of at most 4 KiB (what bpftool allows), 1,024 of them; the results are frozen and shared.
 */
const decoded = new Lru<string, DecodedSignedData>(1024);

export function decodeSignedData(der: Uint8Array): DecodedSignedData {
  if (der.length > 4096) return decodeSignedDataOnce(der);
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  return decoded.through(key, () => deepFreeze(decodeSignedDataOnce(der)));
}

function decodeSignedDataOnce(der: Uint8Array): DecodedSignedData {
  if (der.length === 0 || der.length > MAX_CMS_SIZE) {
    throw new VerificationError('MALFORMED', `cms: signature of ${der.length} bytes (want 1..${MAX_CMS_SIZE})`, { got: der.length });
  }
  let ci: ContentInfo;
  let sd: SignedData;
  try {
    ci = AsnConvert.parse(der, ContentInfo);
  } catch (e) {
    throw new VerificationError('MALFORMED', `cms: not a DER ContentInfo: ${(e as Error).message}`, {}, { cause: e });
  }
  if (ci.contentType !== OID.signedData) {
    throw new VerificationError('MALFORMED', `cms: contentType ${ci.contentType} is not signedData`, {
      field: 'contentType',
      got: ci.contentType,
      want: OID.signedData,
    });
  }
  try {
    sd = AsnConvert.parse(ci.content, SignedData);
  } catch (e) {
    throw new VerificationError('MALFORMED', `cms: SignedData does not parse: ${(e as Error).message}`, {}, { cause: e });
  }
  const rawAttrs = rawSignedAttributes(der);
  if (rawAttrs.length !== sd.signerInfos.length) throw new VerificationError('MALFORMED', 'cms: signerInfos do not parse consistently');
  const signerInfos = Array.from(sd.signerInfos).map((si, i): DecodedSignerInfo => {
    let sid: SignerId;
    if (si.sid.subjectKeyIdentifier) {
      sid = { $case: 'subjectKeyIdentifier', keyId: toHex(new Uint8Array(si.sid.subjectKeyIdentifier.buffer)) };
    } else if (si.sid.issuerAndSerialNumber) {
      sid = {
        $case: 'issuerAndSerialNumber',
        issuer: new Uint8Array(AsnConvert.serialize(si.sid.issuerAndSerialNumber.issuer)),
        serialNumber: toHex(new Uint8Array(si.sid.issuerAndSerialNumber.serialNumber)),
      };
    } else {
      throw new VerificationError('MALFORMED', `cms: signerInfos[${i}]: no signer identifier`, { field: 'sid' });
    }
    const signedAttrsDer = rawAttrs[i];
    if ((signedAttrsDer === undefined) !== (si.signedAttrs === undefined)) {
      throw new VerificationError('MALFORMED', `cms: signerInfos[${i}]: signed attributes do not parse consistently`, { field: 'signedAttrs' });
    }
    return {
      version: si.version,
      sid,
      digestAlgorithm: algorithm(si.digestAlgorithm),
      signedAttrsDer,
      signedAttrs: si.signedAttrs?.map((a) => ({ type: a.attrType, values: a.attrValues.map((v) => new Uint8Array(v)) })),
      signatureAlgorithm: algorithm(si.signatureAlgorithm),
      signature: new Uint8Array(si.signature.buffer),
      hasUnsignedAttrs: (si.unsignedAttrs?.length ?? 0) > 0,
    };
  });
  return {
    contentType: ci.contentType,
    version: sd.version,
    digestAlgorithms: Array.from(sd.digestAlgorithms, algorithm),
    eContentType: sd.encapContentInfo.eContentType,
    eContentPresent: sd.encapContentInfo.eContent !== undefined,
    certificateCount: sd.certificates?.length ?? 0,
    crlCount: sd.crls?.length ?? 0,
    signerInfos,
  };
}

/**
 * The DER of each SignerInfo's signedAttrs, re-tagged from [0] IMPLICIT to SET OF (0x31): the
 * bytes the signature covers (RFC 5652 §5.4). Walked by hand so the exact received bytes are used.
 */
function rawSignedAttributes(der: Uint8Array): (Uint8Array | undefined)[] {
  const ci = readTlv(der, 0);
  const [, explicit] = children(der, ci);
  if (!explicit || explicit.tag !== 0xa0) throw new VerificationError('MALFORMED', 'cms: ContentInfo.content is not [0]');
  const [sdSeq] = children(der, explicit);
  if (!sdSeq || sdSeq.tag !== 0x30) throw new VerificationError('MALFORMED', 'cms: SignedData is not a SEQUENCE');
  const fields = children(der, sdSeq);
  const infos = fields[fields.length - 1];
  if (!infos || infos.tag !== 0x31) throw new VerificationError('MALFORMED', 'cms: signerInfos is not a SET');
  return children(der, infos).map((info) => {
    const parts = children(der, info);
    const attrs = parts[3];
    if (!attrs || attrs.tag !== 0xa0) return undefined;
    const out = der.slice(attrs.start, attrs.end);
    out[0] = 0x31;
    return out;
  });
}
