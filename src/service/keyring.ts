/**
 * A model keyring for the kernel model: PROG_LOAD's PKCS#7 check done with the signing core's
 * CMS verifier against a set of trusted certificates, answering the errno the kernel's
 * bpf_verify_pkcs7_signature / verify_pkcs7_signature would (0, -ENOKEY, -EKEYREJECTED, -EBADMSG, -ENOPKG).
 */
import type { SignatureVerifier } from '../kernel/bpf/index.js';
import { verifyDetached } from '../signing/index.js';

const ERRNO = { ENOKEY: 126, EKEYREJECTED: 129, EBADMSG: 74, ENOPKG: 65 } as const;

export function modelKeyring(certificates: string[]): SignatureVerifier {
  return (signature, content) => {
    const v = verifyDetached(signature, content, certificates);
    if (v.ok) return 0;
    switch (v.error.code) {
      case 'UNKNOWNKEY': return -ERRNO.ENOKEY;
      case 'BADSIG': return -ERRNO.EKEYREJECTED;
      case 'UNSUPPORTED': return -ERRNO.ENOPKG;
      default: return -ERRNO.EBADMSG;
    }
  };
}
