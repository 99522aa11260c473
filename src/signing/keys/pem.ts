/**
 * Signer from a PEM private key (PKCS#8, also encrypted PKCS#8, PKCS#1 RSA or SEC1 EC) given as
 * bytes or text: reading the file is the caller's business. The key is decrypted with
 * node:crypto, checked against the certificate, and handed to WebCrypto as a non-extractable key.
 */
import { createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { algorithmOfKey } from '../algorithms.js';
import { SigningError } from '../errors.js';
import { parseCertificate, type CertificateInput } from '../x509/certificate.js';
import { fromHex, toHex } from '../../shared/bytes.js';
import type { Signer } from './signer.js';
import type { SignPathChoice } from './primitive.js';
import { importParams, webCryptoSigner } from './webcrypto.js';

export interface PemSignerInput {
  /** PEM text (or its bytes) of the private key */
  privateKey: string | Uint8Array;
  /** passphrase for an encrypted key */
  passphrase?: string;
  /** the signing certificate (DER or PEM); its SKI becomes the CMS sid and its key must match */
  certificate: CertificateInput;
  /** signing primitive: 'auto' (default) uses the native addon when it is built, else node:crypto */
  signPath?: SignPathChoice;
}

function decodeKey(pem: string | Uint8Array, passphrase: string | undefined): KeyObject {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text);
  if (encrypted && passphrase === undefined) {
    throw new SigningError('KEY_PASSPHRASE', 'keys: the private key is encrypted and no passphrase was given');
  }
  try {
    return createPrivateKey({ key: text, format: 'pem', passphrase });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (encrypted)
      throw new SigningError('KEY_PASSPHRASE', 'keys: cannot decrypt the private key (wrong passphrase?)', { got: err.code }, { cause: e });
    throw new SigningError('KEY_INVALID', `keys: cannot parse the private key: ${err.message}`, { got: err.code }, { cause: e });
  }
}

export async function signerFromPem(input: PemSignerInput): Promise<Signer> {
  const key = decodeKey(input.privateKey, input.passphrase);
  const alg = algorithmOfKey(key);
  if (!alg.ok) throw new SigningError('KEY_UNSUPPORTED', `keys: ${alg.reason}`);
  let cert;
  try {
    cert = parseCertificate(input.certificate);
  } catch (e) {
    throw new SigningError('CERT_INVALID', `keys: ${(e as Error).message}`, {}, { cause: e });
  }
  if (!cert.subjectKeyIdentifier) {
    throw new SigningError('CERT_INVALID', `keys: certificate ${cert.subject} has no subjectKeyIdentifier; the kernel finds keys by SKI`, {
      field: 'subjectKeyIdentifier',
    });
  }
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (toHex(spki) !== toHex(cert.spki)) {
    throw new SigningError('KEY_INVALID', `keys: the private key does not belong to certificate ${cert.subject}`, { field: 'certificate' });
  }
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const cryptoKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, importParams(alg.algorithm), false, ['sign']);
  return webCryptoSigner(cryptoKey, fromHex(cert.subjectKeyIdentifier), { signPath: input.signPath });
}
