/**
 * keyring_id at a signed BPF_PROG_LOAD (Linux 6.18 bpf_prog_verify_signature): which keyring
 * the id names, or none. The kernel takes 0, 1 and 2 as system keyring selectors
 * (system_keyring_id_check compares the id as a u64, so negative ids are not selectors) and
 * hands every other id to bpf_lookup_user_key(id, 0); a NULL from either lookup fails the load
 * with EINVAL before the signature is read or verified. Which keys each keyring holds is not
 * the kernel model's business: the verifier the service injects knows that.
 */

/** KEY_SPEC_* of linux/keyctl.h: keyrings named relative to the calling process. */
export const KEY_SPEC = {
  THREAD_KEYRING: -1,
  PROCESS_KEYRING: -2,
  SESSION_KEYRING: -3,
  USER_KEYRING: -4,
  USER_SESSION_KEYRING: -5,
  GROUP_KEYRING: -6,
  REQKEY_AUTH_KEY: -7,
  REQUESTOR_KEYRING: -8,
} as const;

/** The system keyring selectors of linux/verification.h. */
export const SYSTEM_KEYRING = { BUILTIN: 0, SECONDARY: 1, PLATFORM: 2 } as const;

export type KeyringRef =
  /** .builtin_trusted_keys (0), the secondary keyring (1), .platform (2) */
  | { kind: 'system'; id: 0 | 1 | 2 }
  /** a KEY_SPEC_* keyring of the loading process */
  | { kind: 'process'; id: number }
  /** a key or keyring by serial */
  | { kind: 'serial'; id: number };

/**
 * What `keyringId` (the attr's s32) names, or null when the kernel finds nothing (EINVAL).
 * lookup_user_key without KEY_LOOKUP_CREATE: the session keyring resolves (one is installed on
 * first use), so do the user and user-session keyrings; the thread and process keyrings exist
 * only once the process made them, and a loader process (bpftool, a skeleton) makes neither;
 * the group keyring is not implemented, and the request-key ones exist only inside a
 * request_key upcall. A positive serial resolves when it names a key or keyring the process
 * can find: `serials` lists those.
 */
export function resolveKeyringId(keyringId: number, serials: readonly number[] = []): KeyringRef | null {
  if (keyringId === 0 || keyringId === 1 || keyringId === 2) return { kind: 'system', id: keyringId };
  if (keyringId === KEY_SPEC.SESSION_KEYRING || keyringId === KEY_SPEC.USER_KEYRING || keyringId === KEY_SPEC.USER_SESSION_KEYRING) {
    return { kind: 'process', id: keyringId };
  }
  if (keyringId > 2 && serials.includes(keyringId)) return { kind: 'serial', id: keyringId };
  return null;
}
