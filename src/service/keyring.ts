/**
 * A model keyring for the kernel model: PROG_LOAD's PKCS#7 check done with the signing core's
 * CMS verifier (verifyDetached) against the certificates trusted in the keyring the load's
 * keyring_id names, answering the errno the kernel's verify_pkcs7_signature would (0, -ENOKEY,
 * -EKEYREJECTED, -EBADMSG, -ENOPKG). Whether a keyring_id names a keyring at all is the
 * kernel model's (resolveKeyringId); this model adds the serials its certificates were given.
 */
import { KEY_SPEC, SYSTEM_KEYRING, type SignatureVerifier } from '../kernel/bpf/index.js';
import { parseCertificate, verifyDetached, type CertificateInput } from '../signing/index.js';

const ERRNO = { ENOKEY: 126, EKEYREJECTED: 129, EBADMSG: 74, ENOPKG: 65 } as const;

/** A certificate trusted in one keyring (`keyring` a keyring_id), or in whichever keyring a load names (`keyring` absent). */
export interface TrustedCertificate {
  certificate: CertificateInput;
  keyring?: number;
}

/** What a replay needs for signed loads: the check and the serials that exist (ReplayOptions / BpfModelOptions). */
export interface KeyringModel {
  verifySignature: SignatureVerifier;
  keyringSerials: number[];
}

/** Keyring names the CLI takes for keyring ids, as linux/keyctl.h and linux/verification.h name them. */
export const KEYRING_NAMES: Readonly<Record<string, number>> = {
  builtin: SYSTEM_KEYRING.BUILTIN,
  secondary: SYSTEM_KEYRING.SECONDARY,
  platform: SYSTEM_KEYRING.PLATFORM,
  thread: KEY_SPEC.THREAD_KEYRING,
  process: KEY_SPEC.PROCESS_KEYRING,
  session: KEY_SPEC.SESSION_KEYRING,
  user: KEY_SPEC.USER_KEYRING,
  'user-session': KEY_SPEC.USER_SESSION_KEYRING,
};

/** A keyring id from a name (KEYRING_NAMES) or an integer in s32 range; null when it is neither. */
export function parseKeyringId(text: string): number | null {
  if (text in KEYRING_NAMES) return KEYRING_NAMES[text]!;
  if (!/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= -0x8000_0000 && n <= 0x7fff_ffff ? n : null;
}

function errnoOf(v: ReturnType<typeof verifyDetached>): number {
  if (v.ok) return 0;
  switch (v.error.code) {
    case 'UNKNOWNKEY':
      return -ERRNO.ENOKEY;
    case 'BADSIG':
      return -ERRNO.EKEYREJECTED;
    case 'UNSUPPORTED':
      return -ERRNO.ENOPKG;
    // pkcs7_verify refuses content that is not id-data with EKEYREJECTED; other malformations are the parser's EBADMSG.
    case 'MALFORMED':
      return v.error.details?.field === 'eContentType' ? -ERRNO.EKEYREJECTED : -ERRNO.EBADMSG;
    default:
      return -ERRNO.EBADMSG;
  }
}

/**
 * The keyring model for `trusted`. A keyring holds the certificates given for its id and those
 * given without one; the secondary keyring (1) holds the builtin ones (0) too, as
 * VERIFY_USE_SECONDARY_KEYRING searches both. Positive ids above 2 given here become serials
 * the loading process can find. Certificates are parsed now: a bad one throws (the signing
 * core's VerificationError) instead of turning every later check into EBADMSG.
 */
export function keyringModel(trusted: readonly TrustedCertificate[]): KeyringModel {
  const parsed = trusted.map((t) => ({ keyring: t.keyring, certificate: parseCertificate(t.certificate) }));
  const serials = [...new Set(parsed.flatMap((t) => (t.keyring !== undefined && t.keyring > 2 ? [t.keyring] : [])))].sort((a, b) => a - b);
  const inKeyring = (id: number) =>
    parsed.filter(
      (t) => t.keyring === undefined || t.keyring === id || (id === SYSTEM_KEYRING.SECONDARY && t.keyring === SYSTEM_KEYRING.BUILTIN),
    );
  return {
    keyringSerials: serials,
    verifySignature: (signature, content, keyringId) =>
      errnoOf(
        verifyDetached(
          signature,
          content,
          inKeyring(keyringId).map((t) => t.certificate),
        ),
      ),
  };
}

/** A verifier trusting `certificates` in whichever keyring a load names. */
export function modelKeyring(certificates: readonly CertificateInput[]): SignatureVerifier {
  return keyringModel(certificates.map((certificate) => ({ certificate }))).verifySignature;
}
