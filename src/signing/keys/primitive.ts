/**
 * The signing primitive under file and WebCrypto keys: SHA-256 of the data, then RSA PKCS#1 v1.5
 * or ECDSA with a DER Ecdsa-Sig-Value. Two implementations with the same output format:
 *
 * - `native`: the optional addon in native/sign (N-API, C, built by `npm ci`), which keeps the
 *   key as an EVP_PKEY with a sign-initialised EVP_PKEY_CTX and signs the digest with
 *   EVP_PKEY_sign, using the OpenSSL inside node itself. No per-call context setup or key
 *   lookup, which is most of the gap between node's crypto.sign and `openssl speed`.
 * - `node`: node:crypto's one-shot sign, used when the addon is not built or refuses the key.
 *
 * PKCS#11 keys do not come here: they sign inside their token.
 */
import { constants, createPublicKey, privateEncrypt, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { signerDigest, type SignerAlgorithm } from '../algorithms.js';
import { SigningError } from '../errors.js';

export type SignPath = 'native' | 'node';
/** 'auto' takes the addon when it is loadable, else node:crypto. */
export type SignPathChoice = 'auto' | SignPath;

export interface SignPrimitive {
  readonly path: SignPath;
  /** SHA-256 of `data`, signed; CMS encoding (PKCS#1 v1.5 bytes or DER Ecdsa-Sig-Value) */
  sign(data: Uint8Array): Uint8Array;
  /** signs a precomputed SHA-256 digest (32 bytes); same encoding */
  signDigest(digest: Uint8Array): Uint8Array;
}

interface NativeHandle {
  readonly __nativeSignKey: unique symbol;
}
interface NativeAddon {
  load(pkcs8: Uint8Array, digest: 'sha256' | 'sha384'): NativeHandle;
  sign(handle: NativeHandle, data: Uint8Array): Buffer;
  signDigest(handle: NativeHandle, digest: Uint8Array): Buffer;
  info(handle: NativeHandle): { type: 'rsa' | 'ec'; bits: number; digest: string };
  readonly openssl: string;
}

export type NativeSignStatus = { available: true; file: string; openssl: string } | { available: false; reason: string };

/** Where the addon is, relative to this module in dist/src/signing/keys (built) or src/signing/keys (sources). */
const ADDON_CANDIDATES = [
  '../../../../native/sign/build/Release/bpfsign_sign.node',
  '../../../native/sign/build/Release/bpfsign_sign.node',
];

let loaded: { addon: NativeAddon | null; status: NativeSignStatus } | undefined;

function loadAddon(): { addon: NativeAddon | null; status: NativeSignStatus } {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  for (const rel of ADDON_CANDIDATES) {
    const file = new URL(rel, import.meta.url).pathname;
    let addon: NativeAddon;
    try {
      addon = require(file) as NativeAddon;
    } catch (e) {
      errors.push(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      continue;
    }
    // The addon resolves OpenSSL against the node binary; a different version means it got some other libcrypto.
    if (!addon.openssl.includes(` ${process.versions.openssl} `) && !addon.openssl.endsWith(` ${process.versions.openssl}`)) {
      loaded = {
        addon: null,
        status: { available: false, reason: `${file} runs against "${addon.openssl}", node has OpenSSL ${process.versions.openssl}` },
      };
      return loaded;
    }
    loaded = { addon, status: { available: true, file, openssl: addon.openssl } };
    return loaded;
  }
  loaded = {
    addon: null,
    status: { available: false, reason: `native signer not built (npm ci builds native/sign): ${errors.join('; ')}` },
  };
  return loaded;
}

/** Whether the native addon is loadable here, and why not. */
export function nativeSignStatus(): NativeSignStatus {
  return loadAddon().status;
}

function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** PKCS#1 v1.5 DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

function nodePrimitive(key: KeyObject, algorithm: SignerAlgorithm): SignPrimitive {
  const digest = signerDigest(algorithm);
  // A bare KeyObject: EC signatures default to DER, and node skips parsing an options object per call.
  return {
    path: 'node',
    sign: (data) => view(cryptoSign(digest, data, key)),
    signDigest: (d) => {
      if (d.length !== 32) throw new SigningError('SIGN_FAILED', 'keys: digest must be 32 bytes (SHA-256)', { got: d.length, want: 32 });
      if (key.asymmetricKeyType !== 'rsa') {
        throw new SigningError('SIGN_FAILED', 'keys: node:crypto cannot sign a precomputed ECDSA digest; the native signer can', {
          field: 'signPath',
        });
      }
      // PKCS#1 v1.5 over a given digest: EMSA-PKCS1-v1_5 is type-1 padding of DigestInfo(digest).
      return view(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, d])));
    },
  };
}

function nativePrimitive(addon: NativeAddon, key: KeyObject, algorithm: SignerAlgorithm): SignPrimitive {
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  let handle: NativeHandle;
  try {
    handle = addon.load(pkcs8, signerDigest(algorithm));
  } finally {
    pkcs8.fill(0);
  }
  const p: SignPrimitive = {
    path: 'native',
    sign: (data) => view(addon.sign(handle, data)),
    signDigest: (d) => view(addon.signDigest(handle, d)),
  };
  // One signature checked by node:crypto before the key is put to use: a mis-built addon fails here, not in the kernel.
  const probe = new Uint8Array(32).fill(0x5a);
  if (!cryptoVerify(signerDigest(algorithm), probe, createPublicKey(key), p.sign(probe))) {
    throw new SigningError('SIGN_FAILED', 'keys: the native signer produced a signature node:crypto does not verify', {
      field: 'signPath',
    });
  }
  return p;
}

/**
 * The signing primitive for a private KeyObject of `algorithm`. With 'auto' (the default), the
 * native addon when it loads and accepts the key, else node:crypto; 'native' throws
 * SIGN_FAILED when the addon is unavailable; 'node' never uses it.
 */
export function signPrimitive(key: KeyObject, algorithm: SignerAlgorithm, choice: SignPathChoice = 'auto'): SignPrimitive {
  if (key.type !== 'private')
    throw new SigningError('KEY_INVALID', 'keys: signing needs a private key', { got: key.type, want: 'private' });
  if (choice === 'node') return nodePrimitive(key, algorithm);
  const { addon, status } = loadAddon();
  if (!addon) {
    if (choice === 'native')
      throw new SigningError('SIGN_FAILED', `keys: ${(status as { reason: string }).reason}`, { field: 'signPath', want: 'native' });
    return nodePrimitive(key, algorithm);
  }
  try {
    return nativePrimitive(addon, key, algorithm);
  } catch (e) {
    if (choice === 'native') {
      if (e instanceof SigningError) throw e;
      throw new SigningError(
        'SIGN_FAILED',
        `keys: native signer refused the key: ${(e as Error).message}`,
        { field: 'signPath', want: 'native' },
        { cause: e },
      );
    }
    return nodePrimitive(key, algorithm);
  }
}
