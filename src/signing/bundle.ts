/**
 * The bundle: what a signing returns and a verification takes. Wire format (JSON):
 *   mediaType      application/vnd.bpfsign.bundle.v1+json
 *   scheme         linux-6.18 | linux-load-time | unsigned
 *   loader         { insns, data }                 base64
 *   signature      base64 DER CMS (kernel PKCS#7), null when unsigned
 *   certificates   PEM, signer first then intermediates
 *   manifest       DSSE envelope of an in-toto Statement whose predicate is the manifest
 *   tlog           { logIndex, treeSize, leafHash, hashes, checkpoint } | null
 */
import { z } from 'zod';
import { canonicalBase64 } from '../shared/bytes.js';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.bpfsign.bundle.v1+json';
export const MANIFEST_PREDICATE_TYPE = 'https://bpfsign.dev/manifest/v1';

const B64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * B64_PATTERN's test, answered first by a decode/re-encode round trip (several times faster on
 * the tens of kilobytes a bundle carries): text that re-encodes to itself is canonical padded
 * base64, which the pattern accepts; anything else gets the pattern.
 */
export function isBase64Text(s: string): boolean {
  return canonicalBase64(s) !== null || B64_PATTERN.test(s);
}

const B64 = z.string().refine(isBase64Text, 'base64').meta({ pattern: B64_PATTERN.source });

export const BundleSchema = z.object({
  mediaType: z.literal(BUNDLE_MEDIA_TYPE),
  scheme: z.enum(['linux-6.18', 'linux-load-time', 'unsigned']),
  loader: z.object({ insns: B64, data: B64 }),
  signature: B64.nullable(),
  certificates: z.array(z.string()),
  manifest: z.object({
    payload: B64, payloadType: z.string(),
    signatures: z.array(z.object({ keyid: z.string().optional(), sig: B64 })),
  }).nullable(),
  tlog: z.object({
    logIndex: z.string(), treeSize: z.string(), leafHash: B64, hashes: z.array(B64), checkpoint: z.string(),
  }).nullable(),
}).meta({ id: 'Bundle', description: 'a signed loader with its certificates, signed manifest and transparency-log proof' });

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
