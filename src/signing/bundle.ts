/**
 * The bundle: what a signing returns and a verification takes. Wire format (JSON; each field
 * checked for its form and length, unknown fields refused, base64 canonical and padded):
 *   mediaType      application/vnd.bpfsign.bundle.v1+json
 *   scheme         linux-6.18 | linux-load-time | unsigned
 *   loader         { insns, data }                 base64
 *   signature      base64 DER CMS (kernel PKCS#7), null when unsigned
 *   certificates   PEM, signer first then intermediates
 *   manifest       DSSE envelope of an in-toto Statement whose predicate is the manifest
 *   tlog           { logIndex, treeSize, leafHash, hashes, checkpoint } | null (decimal strings,
 *                  32-byte hashes)
 */
import { z } from 'zod';
import { canonicalBase64 } from '../shared/bytes.js';
import { MAX_LOAD_TIME_CONTENT, MAX_SIGNATURE_SIZE } from './schemes.js';
import { IN_TOTO_PAYLOAD_TYPE } from './statement.js';
import { MAX_PATH_LENGTH } from './x509/chain.js';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.bpfsign.bundle.v1+json';
export const MANIFEST_PREDICATE_TYPE = 'https://bpfsign.dev/manifest/v1';

/** Canonical padded base64's shape (documentation: the check is a round trip, which also refuses non-zero padding bits). */
const B64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Whether `s` is canonical padded base64: it decodes and re-encodes to itself. Everything else —
 * missing padding, URL-safe letters, whitespace, non-zero bits in the padding, text after the
 * padding — has another spelling of the same bytes, and a bundle field has exactly one.
 */
export function isBase64Text(s: string): boolean {
  return canonicalBase64(s) !== null;
}

/** Characters of the canonical base64 of `bytes` bytes. */
const b64Chars = (bytes: number) => 4 * Math.ceil(bytes / 3);

/** Canonical base64 of at most `maxBytes` bytes (one check, one issue: the length first, then the round trip). */
const B64 = (maxBytes: number) =>
  z
    .string()
    .refine((s) => s.length <= b64Chars(maxBytes) && isBase64Text(s), `canonical padded base64 of at most ${maxBytes} bytes`)
    .meta({ pattern: B64_PATTERN.source, maxLength: b64Chars(maxBytes) });

/** Canonical base64 of exactly 32 bytes (a SHA-256 tree hash). */
const HASH32 = z
  .string()
  .refine((s) => s.length === b64Chars(32) && canonicalBase64(s)?.length === 32, 'canonical base64 of 32 bytes')
  .meta({ pattern: '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$' });

/** 2^63 - 1: log indices and tree sizes are signed 64-bit numbers in the logs this reads. */
const INT63_MAX = (1n << 63n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/** An unsigned decimal in canonical form (no sign, no leading zero) within 2^63 - 1. */
const isUint63 = (s: string) => DECIMAL.test(s) && BigInt(s) <= INT63_MAX;
const UINT63 = z.string().refine(isUint63, 'an unsigned decimal without leading zeros, at most 2^63 - 1').meta({ pattern: DECIMAL.source });

/** One PEM certificate block, nothing around it but whitespace. */
const PEM_CERTIFICATE = /^\s*-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*$/;

/** Limits: the loader as the kernel takes it (1M instructions; load-time content within MAX_LOAD_TIME_CONTENT), the rest generous for what a signer makes. */
export const BUNDLE_LIMITS = {
  insnsBytes: 8 << 20,
  dataBytes: MAX_LOAD_TIME_CONTENT,
  signatureBytes: MAX_SIGNATURE_SIZE,
  certificates: MAX_PATH_LENGTH,
  certificateChars: 16 << 10,
  payloadBytes: 16 << 20,
  manifestSignatures: 8,
  keyidChars: 128,
  dsseSignatureBytes: 1024,
  proofHashes: 64,
  checkpointChars: 16 << 10,
} as const;
const L = BUNDLE_LIMITS;

export const BundleSchema = z
  .object({
    mediaType: z.literal(BUNDLE_MEDIA_TYPE),
    scheme: z.enum(['linux-6.18', 'linux-load-time', 'unsigned']),
    loader: z.object({ insns: B64(L.insnsBytes), data: B64(L.dataBytes) }).strict(),
    signature: B64(L.signatureBytes).nullable(),
    /** The signer's certificate first, then the intermediates up to (not including) a root. */
    certificates: z
      .array(
        z
          .string()
          .refine(
            (c) => c.length <= L.certificateChars && PEM_CERTIFICATE.test(c),
            `one PEM certificate of at most ${L.certificateChars} characters`,
          ),
      )
      .max(L.certificates),
    manifest: z
      .object({
        payload: B64(L.payloadBytes),
        payloadType: z
          .string()
          .max(64)
          .refine((t): boolean => t === IN_TOTO_PAYLOAD_TYPE, `${IN_TOTO_PAYLOAD_TYPE}`)
          .meta({ const: IN_TOTO_PAYLOAD_TYPE }),
        signatures: z
          .array(z.object({ keyid: z.string().max(L.keyidChars).optional(), sig: B64(L.dsseSignatureBytes) }).strict())
          .min(1)
          .max(L.manifestSignatures),
      })
      .strict()
      .nullable(),
    tlog: z
      .object({
        logIndex: UINT63,
        treeSize: UINT63,
        leafHash: HASH32,
        hashes: z.array(HASH32).max(L.proofHashes),
        checkpoint: z.string().min(1).max(L.checkpointChars),
      })
      .strict()
      .refine((t) => !isUint63(t.logIndex) || !isUint63(t.treeSize) || BigInt(t.logIndex) < BigInt(t.treeSize), {
        message: 'logIndex must be below treeSize',
        path: ['logIndex'],
      })
      .nullable(),
  })
  .strict()
  .meta({ id: 'Bundle', description: 'a signed loader with its certificates, signed manifest and transparency-log proof' });

export type Bundle = z.infer<typeof BundleSchema>;

export class BundleFormatError extends Error {
  override readonly name = 'BundleFormatError';
  readonly code = 'BUNDLE_INVALID' as const;
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid bundle: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  }
}

/** Validates bundle data, reporting every bad field at once. */
export function parseBundle(data: unknown): Bundle {
  const r = BundleSchema.safeParse(data);
  if (!r.success) throw new BundleFormatError(r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return r.data;
}

export const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
export const toB64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
