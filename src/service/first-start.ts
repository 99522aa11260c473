/**
 * What a server needs in its data folder before it serves: the transparency log's Ed25519 key, a
 * development API token and a development keyring, made on first start when absent. Replicas may
 * start at the same time on one folder, so nothing is checked and then written: each artefact is
 * written in full under a private name and published with one call that fails when another
 * replica published first — link(2) for a file, rename(2) onto a missing or empty folder for the
 * keyring — and the loser drops its copy and reads the winner's. A crash leaves at most a private
 * temporary, never a half-written key.
 *
 * Keys this module generates are development keys: the keyring's CA is the development CA, and the
 * fingerprint of every log key it generates is appended to DATA/dev-log-keys before the key is
 * published, so a later start in production mode can tell them from keys an operator put there.
 */
import {
  appendFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { parseCertificate } from '../signing/index.js';
import { createKeyring, hasKeyring, type KeyEntry } from './keys.js';

/** The development CA's subject (createDevelopmentCa's default name). */
const DEVELOPMENT_CA = 'CN=bpfsign development CA';

export interface DataFolder {
  logKeyPath: string;
  tokenPath: string;
  keysDir: string;
  /** Fingerprints of log keys this module generated, one a line. */
  devLogKeysPath: string;
}

export function dataFolder(dataDir: string): DataFolder {
  return {
    logKeyPath: join(dataDir, 'log-key.pem'),
    tokenPath: join(dataDir, 'dev-token'),
    keysDir: join(dataDir, 'keys'),
    devLogKeysPath: join(dataDir, 'dev-log-keys'),
  };
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/**
 * The file at `path`, made by `make` when absent. `beforePublish` runs with the value just
 * before it is published (and not at all when the file already existed). `created` is true only
 * for the one caller whose copy was published.
 */
export function writeOnce(
  path: string,
  make: () => string,
  beforePublish: (value: string) => void = () => {},
): { value: string; created: boolean } {
  if (existsSync(path)) return { value: readFileSync(path, 'utf8'), created: false };
  const value = make();
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, value, { mode: 0o600, flag: 'wx' });
  try {
    beforePublish(value);
    linkSync(tmp, path);
    return { value, created: true };
  } catch (e) {
    if (errno(e) !== 'EEXIST') throw e;
    return { value: readFileSync(path, 'utf8'), created: false };
  } finally {
    unlinkSync(tmp);
  }
}

/** SHA-256 of an Ed25519 private key's public key (SPKI DER), hex. */
export function logKeyFingerprint(pem: string): string {
  return createHash('sha256')
    .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** The log's signing key (PKCS#8 PEM), generated and recorded as a development key when absent. */
export function ensureLogKey(folder: DataFolder): { pem: string; created: boolean } {
  const r = writeOnce(
    folder.logKeyPath,
    () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    (pem) => appendFileSync(folder.devLogKeysPath, `${logKeyFingerprint(pem)}\n`, { mode: 0o600 }),
  );
  return { pem: r.value, created: r.created };
}

/** The development API token, generated when absent. */
export function ensureDevToken(folder: DataFolder): { token: string; created: boolean } {
  const r = writeOnce(folder.tokenPath, () => randomBytes(24).toString('hex'));
  return { token: r.value.trim(), created: r.created };
}

/**
 * The development keyring at `dir`: made complete in a private folder beside it, then renamed into
 * place. rename(2) replaces a missing or empty folder and fails (ENOTEMPTY, EEXIST) on one another
 * replica filled first; then that one is used. `created` is the new active key, for the one
 * replica whose keyring was published.
 */
export async function ensureKeyring(dir: string, now: Date): Promise<{ created: KeyEntry | null }> {
  if (hasKeyring(dir)) return { created: null };
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(dirname(dir), `.${basename(dir)}.`));
  try {
    const entry = await createKeyring(tmp, now);
    renameSync(tmp, dir);
    return { created: entry };
  } catch (e) {
    if (errno(e) !== 'ENOTEMPTY' && errno(e) !== 'EEXIST') throw e;
    if (!hasKeyring(dir)) throw new Error(`${dir} is neither empty nor a keyring (no keys.json)`);
    return { created: null };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Which keys in the folder are development keys or missing (and would be generated): names for a
 * one-line message, empty when the folder holds an operator's keys.
 */
export function developmentKeys(folder: DataFolder): string[] {
  const out: string[] = [];
  if (!existsSync(folder.logKeyPath)) out.push(`no log key (${folder.logKeyPath})`);
  else {
    const known = existsSync(folder.devLogKeysPath) ? readFileSync(folder.devLogKeysPath, 'utf8').split('\n') : [];
    if (known.includes(logKeyFingerprint(readFileSync(folder.logKeyPath, 'utf8')))) out.push(`a generated log key (${folder.logKeyPath})`);
  }
  if (!hasKeyring(folder.keysDir)) out.push(`no signing keys (${folder.keysDir}/keys.json)`);
  else {
    const ring = JSON.parse(readFileSync(join(folder.keysDir, 'keys.json'), 'utf8')) as { ca: string };
    if (parseCertificate(readFileSync(join(folder.keysDir, ring.ca), 'utf8')).subject === DEVELOPMENT_CA)
      out.push(`the development CA (${folder.keysDir})`);
  }
  return out;
}
