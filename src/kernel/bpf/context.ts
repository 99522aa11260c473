/**
 * What a bpf() command handler (PROG_LOAD and its CO-RE relocations) needs from the model:
 * user memory, the kernel profile, byte order, the fd table, object ids and the signature
 * check. `BpfModel` implements it. Handlers take this view rather than the class so that
 * model.ts, which dispatches to them, is the only module that knows the class: the model
 * imports its handlers and no handler imports the model.
 */
import type { KernelProfile } from '../profile/index.js';
import type { UserMemory } from './attr.js';
import { E, fail } from './errno.js';
import type { FdTable } from './objects.js';

/**
 * Checks a PKCS#7 signature over `content` against the keys keyring `keyringId` holds: 0, or
 * -errno as verify_pkcs7_signature answers (ENOKEY: no key matches the signer, EKEYREJECTED: a
 * key matches but the signature does not verify, EBADMSG: not a detached PKCS#7, ENOPKG: an
 * algorithm the kernel lacks). Called only for a keyring_id that resolves (resolveKeyringId).
 */
export type SignatureVerifier = (signature: Uint8Array, content: Uint8Array, keyringId: number) => number;

/** The model as a command handler sees it. */
export interface ModelContext {
  /** Attr pointers and the buffers they name, read and written in the model's memory. */
  readonly um: UserMemory;
  readonly profile: KernelProfile;
  readonly order: 'le' | 'be';
  /** order === 'le'. */
  readonly le: boolean;
  readonly fds: FdTable;
  /** Absent: every keyring is empty (BpfModelOptions.verifySignature). */
  readonly verifySignature: SignatureVerifier | undefined;
  readonly keyringSerials: readonly number[];
  /** The next object id (the kernel's idr: creation order). */
  newId(): number;
}

const NAME_RE = /^[A-Za-z0-9_.]*$/;

/** bpf_obj_name_cpy: the 16-byte name must be NUL-terminated and made of [A-Za-z0-9_.]. */
export function objName(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  if (nul < 0) fail(E.EINVAL, 'object name is not NUL-terminated');
  const s = String.fromCharCode(...bytes.subarray(0, nul));
  if (!NAME_RE.test(s)) fail(E.EINVAL, `object name '${s}' has invalid characters`);
  return s;
}
