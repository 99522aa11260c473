/**
 * The two ways Linux checks a signed loader (kernel-signing.md §2, §3) as data:
 *
 * - `linux-6.18`: the CMS covers the loader instructions only. The loader itself compares the
 *   kernel-computed hash of its frozen metadata map with SHA-256(data) baked into its
 *   instructions; the metadata map is created with excl_prog_hash = SHA-256(insns); the program
 *   is loaded with fd_array_cnt = 0 (lazy binding of map index 0).
 * - `linux-load-time` (bpf-next, July 2026): the CMS covers insns ‖ data; the kernel folds the
 *   frozen exclusive metadata map into the verified buffer; there is no in-loader check; the
 *   program is loaded with fd_array_cnt = 1.
 */
import { sha256 } from '../shared/bytes.js';
import { SigningError } from './errors.js';

export type SigningScheme = 'linux-6.18' | 'linux-load-time';
export type Scheme = SigningScheme | 'unsigned';

export const SIGNING_SCHEMES: readonly SigningScheme[] = ['linux-6.18', 'linux-load-time'];

/** bpftool's MAX_SIG_SIZE: a larger CMS makes `bpftool prog sign` fail with -ENOSPC. */
export const MAX_SIGNATURE_SIZE = 4096;
/** load-time scheme: insns ‖ metadata is verified as one dynptr, capped at about 16 MiB. */
export const MAX_LOAD_TIME_CONTENT = 16 * 1024 * 1024;

export interface SchemeAttrs {
  scheme: Scheme;
  /** BPF_MAP_CREATE of `__loader.map`: excl_prog_hash (32 bytes) or undefined (unsigned) */
  exclProgHash?: Uint8Array;
  /** BPF_PROG_LOAD fd_array_cnt */
  fdArrayCnt: 0 | 1;
  /** linux-6.18 only: SHA-256(data), which the loader's own check compares with map->sha */
  inLoaderMetadataHash?: Uint8Array;
}

function assertScheme(scheme: string): asserts scheme is Scheme {
  if (scheme !== 'linux-6.18' && scheme !== 'linux-load-time' && scheme !== 'unsigned') {
    throw new SigningError('SCHEME_UNSUPPORTED', `scheme: unknown signing scheme "${scheme}"`, {
      got: scheme,
      want: [...SIGNING_SCHEMES, 'unsigned'],
    });
  }
}

/** The exact bytes the CMS signature covers under `scheme`. */
export function signedContent(scheme: SigningScheme, insns: Uint8Array, data: Uint8Array): Uint8Array {
  assertScheme(scheme);
  if (scheme === 'linux-6.18') return insns;
  if (scheme === 'linux-load-time') {
    const out = new Uint8Array(insns.length + data.length);
    out.set(insns, 0);
    out.set(data, insns.length);
    return out;
  }
  throw new SigningError('SCHEME_UNSUPPORTED', `scheme: "${scheme}" has no signed content`, { got: scheme });
}

/** The `bpf_attr` fields a scheme sets when the loader is loaded. */
export function schemeAttrs(scheme: Scheme, insns: Uint8Array, data: Uint8Array): SchemeAttrs {
  assertScheme(scheme);
  switch (scheme) {
    case 'linux-6.18':
      return { scheme, exclProgHash: sha256(insns), fdArrayCnt: 0, inLoaderMetadataHash: sha256(data) };
    case 'linux-load-time':
      return { scheme, exclProgHash: sha256(insns), fdArrayCnt: 1 };
    case 'unsigned':
      return { scheme, fdArrayCnt: 0 };
  }
}
