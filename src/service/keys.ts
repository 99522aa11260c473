/**
 * Development keys on disk: a local CA and signing keys issued by it, with ids, one active.
 * Rotation issues a new signing key under the same CA and makes it active; old certificates stay
 * (bundles they signed still verify, they chain to the same root). Private keys are PKCS#8 PEM
 * files readable by the owner only. For production keys use PEM files you manage or PKCS#11.
 *
 *   DIR/keys.json        { ca, keys: [{ id, createdAt, certificate, privateKey, active }] }
 *   DIR/ca.pem DIR/ca-key.pem DIR/<id>.pem DIR/<id>-key.pem
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import {
  createDevelopmentCa,
  generateKeyPair,
  issueCertificate,
  parseCertificate,
  signerFromPem,
  toPem,
  type Signer,
} from '../signing/index.js';
import { parsePolicy, type TrustPolicy } from '../signing/policy.js';

export interface KeyEntry {
  id: string;
  createdAt: string;
  certificate: string;
  privateKey: string;
  active: boolean;
}
interface Keyring {
  ca: string;
  caKey: string;
  keys: KeyEntry[];
}

const DAY = 86_400_000;

function readRing(dir: string): Keyring {
  const p = join(dir, 'keys.json');
  if (!existsSync(p)) throw new Error(`no development keys in ${dir}: run bpfsign keys create --dir ${dir}`);
  return JSON.parse(readFileSync(p, 'utf8')) as Keyring;
}

function writeRing(dir: string, ring: Keyring): void {
  writeFileSync(join(dir, 'keys.json'), JSON.stringify(ring, null, 2) + '\n', { mode: 0o600 });
}

function keyId(certPem: string, now: Date): string {
  const ski = parseCertificate(certPem).subjectKeyIdentifier ?? '';
  return `dev-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${ski.slice(0, 8)}`;
}

export function hasKeyring(dir: string): boolean {
  return existsSync(join(dir, 'keys.json'));
}

/** Creates the CA and a first signing key. Refuses to overwrite an existing keyring. */
export async function createKeyring(dir: string, now: Date): Promise<KeyEntry> {
  if (hasKeyring(dir)) throw new Error(`${dir} already holds development keys (use rotate)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await createDevelopmentCa({ now });
  const certificate = await toPem('CERTIFICATE', ca.signingCert);
  const id = keyId(certificate, now);
  writeFileSync(join(dir, 'ca.pem'), await toPem('CERTIFICATE', ca.caCert));
  writeFileSync(join(dir, 'ca-key.pem'), await toPem('PRIVATE KEY', ca.caKey), { mode: 0o600 });
  writeFileSync(join(dir, `${id}.pem`), certificate);
  writeFileSync(join(dir, `${id}-key.pem`), await toPem('PRIVATE KEY', ca.signingKey), { mode: 0o600 });
  const entry = { id, createdAt: now.toISOString(), certificate: `${id}.pem`, privateKey: `${id}-key.pem`, active: true };
  writeRing(dir, { ca: 'ca.pem', caKey: 'ca-key.pem', keys: [entry] });
  return entry;
}

export function listKeys(dir: string): {
  ca: string;
  keys: (KeyEntry & { subject: string; notAfter: string; subjectKeyIdentifier: string })[];
} {
  const ring = readRing(dir);
  return {
    ca: parseCertificate(readFileSync(join(dir, ring.ca), 'utf8')).subject,
    keys: ring.keys.map((k) => {
      const c = parseCertificate(readFileSync(join(dir, k.certificate), 'utf8'));
      return { ...k, subject: c.subject, notAfter: c.notAfter.toISOString(), subjectKeyIdentifier: c.subjectKeyIdentifier ?? '' };
    }),
  };
}

/** Issues a new signing key under the same CA and makes it the active one. */
export async function rotateKey(dir: string, now: Date): Promise<KeyEntry> {
  const ring = readRing(dir);
  const caPem = readFileSync(join(dir, ring.ca), 'utf8');
  const caCert = parseCertificate(caPem);
  const caKeyDer = Buffer.from(readFileSync(join(dir, ring.caKey), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const caKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const leaf = await generateKeyPair('ecdsa-p256-sha256');
  const notBefore = new Date(now.getTime() - 60_000);
  const der = await issueCertificate({
    subject: `CN=bpfsign development signing key ${ring.keys.length + 1}`,
    publicKey: leaf.publicKey,
    issuerCert: caCert.der,
    issuerKey: caKey,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 365 * DAY),
    ca: false,
  });
  const certificate = await toPem('CERTIFICATE', der);
  const id = keyId(certificate, now);
  writeFileSync(join(dir, `${id}.pem`), certificate);
  writeFileSync(join(dir, `${id}-key.pem`), await toPem('PRIVATE KEY', leaf.privateKey), { mode: 0o600 });
  const entry = { id, createdAt: now.toISOString(), certificate: `${id}.pem`, privateKey: `${id}-key.pem`, active: true };
  writeRing(dir, { ...ring, keys: [...ring.keys.map((k) => ({ ...k, active: false })), entry] });
  return entry;
}

/** Asked for a key id the keyring does not hold. */
export class UnknownKeyError extends Error {
  readonly code = 'KEY_NOT_FOUND';
  constructor(
    readonly id: string,
    readonly known: string[],
  ) {
    super(`no signing key ${JSON.stringify(id)} (keys: ${known.join(', ') || 'none'})`);
  }
}

/**
 * A key's signer and its certificate chain (signer first), plus the CA as the trust root: the
 * active key, or the key `id` (a rotated-out key still signs when asked for by name).
 */
export async function activeSigner(
  dir: string,
  id?: string,
): Promise<{ id: string; signer: Signer; certificates: string[]; caPem: string }> {
  const ring = readRing(dir);
  const k = id === undefined ? ring.keys.find((x) => x.active) : ring.keys.find((x) => x.id === id);
  if (!k && id !== undefined)
    throw new UnknownKeyError(
      id,
      ring.keys.map((x) => x.id),
    );
  if (!k) throw new Error(`${dir}: no active key`);
  const certificate = readFileSync(join(dir, k.certificate), 'utf8');
  const signer = await signerFromPem({ privateKey: readFileSync(join(dir, k.privateKey), 'utf8'), certificate });
  return { id: k.id, signer, certificates: [certificate], caPem: readFileSync(join(dir, ring.ca), 'utf8') };
}

/** The API's signing service over a development keyring directory and the log's verifier key. */
export function keyringSigningService(
  dir: string,
  logOrigin: string,
  logKey: string,
): {
  active(id?: string): Promise<{ id: string; signer: Signer; certificates: string[] }>;
  defaultPolicy(): Promise<TrustPolicy>;
  trust(): Promise<{
    caCertificate: string;
    keys: { id: string; active: boolean; certificate: string }[];
    logOrigin: string;
    logKey: string;
  }>;
} {
  // Parsing the key and certificate costs milliseconds; keep the signer until keys.json changes
  // (a rotation rewrites it, so the new key is used from the next request on).
  type Loaded = Promise<{ id: string; signer: Signer; certificates: string[] }>;
  let cached: { stamp: string; byId: Map<string, Loaded> } | null = null;
  const stamp = () => {
    const st = statSync(join(dir, 'keys.json'));
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  };
  let policy: { stamp: string; checkedAt: number; value: TrustPolicy } | null = null;
  return {
    active: (id?: string) => {
      const now = stamp();
      if (!cached || cached.stamp !== now) cached = { stamp: now, byId: new Map() };
      const slot = id ?? '';
      let v = cached.byId.get(slot);
      if (!v) {
        v = activeSigner(dir, id);
        cached.byId.set(slot, v);
        v.catch(() => {
          if (cached?.byId.get(slot) === v) cached?.byId.delete(slot);
        });
      }
      return v;
    },
    trust: async () => {
      const ring = readRing(dir);
      return {
        caCertificate: readFileSync(join(dir, ring.ca), 'utf8'),
        logOrigin,
        logKey,
        keys: ring.keys.map((k) => ({ id: k.id, active: k.active, certificate: readFileSync(join(dir, k.certificate), 'utf8') })),
      };
    },
    // The policy depends only on the keyring's CA (a rotation keeps it): parse it once per
    // keys.json version, looking at keys.json at most once a second (a stat per verification
    // was 2% of its time).
    defaultPolicy: async () => {
      const at = Date.now();
      if (policy && at - policy.checkedAt < 1000) return policy.value;
      const now = stamp();
      const value =
        policy?.stamp === now
          ? policy.value
          : parsePolicy({
              version: 1,
              name: 'service-default',
              roots: [readFileSync(join(dir, readRing(dir).ca), 'utf8')],
              logKeys: [logKey],
            });
      policy = { stamp: now, checkedAt: at, value };
      return value;
    },
  };
}
