/**
 * The manifest: canonical JSON (RFC 8785) stating in plain data what the loader will create and
 * load — object digest and summary, the plan, loader digests, scheme, generator, kernel profile,
 * options — signed as a DSSE envelope holding an in-toto Statement whose subjects are the
 * loader's two files, so supply-chain tools can read it.
 */
import { toPlainJson } from '../shared/json.js';
import { sha256Hex as sha256 } from '../shared/bytes.js';
import type { JsonValue } from './canonical.js';
import { makeStatement, signStatement, type Statement } from './statement.js';
import type { Envelope } from './dsse.js';
import type { Signer } from './keys/index.js';
import { MANIFEST_PREDICATE_TYPE } from './bundle.js';

export interface ManifestInput {
  generator: { name: string; version: string; libbpfCompat: string };
  object: { name: string; file: string; sha256: string; size: number; summary: unknown };
  plan: unknown;
  loader: { insns: Uint8Array; data: Uint8Array };
  scheme: 'linux-6.18' | 'linux-load-time' | 'unsigned';
  kernelProfile: { name: string; mapExcl: boolean };
  options: unknown;
}

/** Plain JSON: bytes as hex, bigints as decimal strings, no undefined. */
export function toJsonValue(v: unknown): JsonValue {
  return toPlainJson<JsonValue>(v);
}

export function makeManifest(m: ManifestInput): JsonValue {
  return toJsonValue({
    version: 1,
    generator: m.generator,
    object: m.object,
    scheme: m.scheme,
    loader: {
      insns: { sha256: sha256(m.loader.insns), size: m.loader.insns.length },
      data: { sha256: sha256(m.loader.data), size: m.loader.data.length },
    },
    kernelProfile: m.kernelProfile,
    options: m.options,
    plan: m.plan,
  });
}

export function manifestStatement(manifest: JsonValue, loader: { insns: Uint8Array; data: Uint8Array }): Statement {
  return makeStatement(
    [
      { name: 'insns.bin', digest: { sha256: sha256(loader.insns) } },
      { name: 'data.bin', digest: { sha256: sha256(loader.data) } },
    ],
    MANIFEST_PREDICATE_TYPE,
    manifest,
  );
}

export async function signManifest(
  manifest: JsonValue,
  loader: { insns: Uint8Array; data: Uint8Array },
  signer: Signer,
): Promise<Envelope> {
  return signStatement(manifestStatement(manifest, loader), signer);
}
