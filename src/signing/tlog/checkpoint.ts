/**
 * Checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note):
 *
 *   <origin>\n<size>\n<base64 root hash>\n        ← the note text (signed bytes)
 *   \n
 *   — <key name> <base64(key hash[4] ‖ signature)>\n
 *
 * Ed25519 keys: key hash = SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[0:4]; verifier keys are
 * written `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`.
 */
import { createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { HASH_SIZE, sha256 } from './hasher.js';
import { TlogError } from './errors.js';
import { verifyOnce } from '../algorithms.js';
import type { VerificationCaches } from '../caches.js';

export interface Checkpoint {
  origin: string;
  size: bigint;
  root: Uint8Array;
  extensions: string[];
}

export interface NoteSigner {
  name: string;
  keyHash: Uint8Array;
  sign(msg: Uint8Array): Uint8Array;
}
export interface NoteVerifier {
  name: string;
  keyHash: Uint8Array;
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
}

const enc = new TextEncoder();
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const ALG_ED25519 = 0x01;

export function formatCheckpoint(c: Omit<Checkpoint, 'extensions'> & { extensions?: string[] }): string {
  if (c.origin === '' || c.origin.includes('\n'))
    throw new TlogError('TLOG_CHECKPOINT_MALFORMED', 'origin must be one non-empty line', { field: 'origin' });
  return [c.origin, c.size.toString(), b64(c.root), ...(c.extensions ?? [])].join('\n') + '\n';
}

export function parseCheckpoint(text: string): Checkpoint {
  const bad = (m: string, field: string) => new TlogError('TLOG_CHECKPOINT_MALFORMED', `checkpoint: ${m}`, { field });
  if (!text.endsWith('\n')) throw bad('text must end with a newline', 'text');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw bad(`${lines.length} lines, want at least 3`, 'text');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin === '') throw bad('empty origin', 'origin');
  if (!/^(0|[1-9][0-9]{0,19})$/.test(sizeText)) throw bad(`size ${JSON.stringify(sizeText)} is not a decimal number`, 'size');
  const root = unb64(rootText);
  if (root.length !== HASH_SIZE || b64(root) !== rootText) throw bad(`root hash is not ${HASH_SIZE} bytes of base64`, 'root');
  return { origin, size: BigInt(sizeText), root, extensions };
}

export function ed25519KeyHash(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(enc.encode(name), Uint8Array.of(0x0a, ALG_ED25519), publicKey).subarray(0, 4);
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const der = new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  return der.subarray(der.length - 32);
}

export function ed25519Signer(name: string, privateKeyPem: string): NoteSigner {
  const priv = createPrivateKey(privateKeyPem);
  const pub = rawPublicKey(createPublicKey(priv));
  return { name, keyHash: ed25519KeyHash(name, pub), sign: (msg) => new Uint8Array(edSign(null, msg, priv)) };
}

/** The verifier key string for a signer's public key: name+hash+base64(0x01 ‖ key). */
export function ed25519VerifierKey(name: string, publicKey: Uint8Array): string {
  return `${name}+${Buffer.from(ed25519KeyHash(name, publicKey)).toString('hex')}+${b64(Uint8Array.of(ALG_ED25519, ...publicKey))}`;
}

/**
 * Parses `name+hash+base64(0x01 ‖ key)` (the result is frozen). A policy names the same few keys
 * on every verification: with a verifierKeys memo in `caches`, each is parsed once. The verifier
 * checks its signatures through the same caches' signatures memo.
 */
export function parseVerifierKey(vkey: string, caches?: VerificationCaches): NoteVerifier {
  const memo = caches?.verifierKeys;
  const hit = memo?.get(vkey);
  if (hit) return hit;
  const v = Object.freeze(parseVerifierKeyUncached(vkey, caches));
  memo?.set(vkey, v, vkey.length);
  return v;
}

function parseVerifierKeyUncached(vkey: string, caches: VerificationCaches | undefined): NoteVerifier {
  // The key is base64, which may itself contain '+': split at the first two only.
  const p1 = vkey.indexOf('+'),
    p2 = p1 < 0 ? -1 : vkey.indexOf('+', p1 + 1);
  const name = p1 < 0 ? '' : vkey.slice(0, p1),
    hashHex = p2 < 0 ? '' : vkey.slice(p1 + 1, p2),
    keyB64 = p2 < 0 ? '' : vkey.slice(p2 + 1);
  const raw = keyB64 ? unb64(keyB64) : new Uint8Array();
  if (!name || !/^[0-9a-f]{8}$/.test(hashHex ?? '') || raw.length !== 33 || raw[0] !== ALG_ED25519) {
    throw new TlogError(
      'TLOG_CHECKPOINT_MALFORMED',
      `verifier key ${JSON.stringify(vkey.slice(0, 40))} is not name+hash+base64(ed25519 key)`,
      { field: 'vkey' },
    );
  }
  const pub = raw.subarray(1);
  const keyHash = ed25519KeyHash(name, pub);
  if (Buffer.from(keyHash).toString('hex') !== hashHex)
    throw new TlogError('TLOG_CHECKPOINT_MALFORMED', `verifier key hash ${hashHex} does not match its key`, {
      field: 'vkey',
      got: hashHex,
    });
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' });
  return {
    name,
    keyHash,
    verify: (msg, sig) => verifyOnce(key, 'ed25519', msg, sig, () => edVerify(null, msg, key, sig), undefined, caches),
  };
}

export function signNote(text: string, signers: NoteSigner[]): string {
  const msg = enc.encode(text);
  const sigs = signers.map((s) => `\u2014 ${s.name} ${b64(Uint8Array.of(...s.keyHash, ...s.sign(msg)))}\n`);
  return `${text}\n${sigs.join('')}`;
}

/** Verifies a signed note with the known verifiers; returns its text and the names that signed. */
export function openNote(note: string, verifiers: NoteVerifier[]): { text: string; signedBy: string[] } {
  const bad = (m: string) => new TlogError('TLOG_CHECKPOINT_SIGNATURE', `signed note: ${m}`, {});
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n'))
    throw new TlogError('TLOG_CHECKPOINT_MALFORMED', 'signed note: no blank line before the signatures', { field: 'note' });
  const text = note.slice(0, split + 1);
  const msg = enc.encode(text);
  const signedBy: string[] = [];
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m)
      throw new TlogError('TLOG_CHECKPOINT_MALFORMED', `signed note: bad signature line ${JSON.stringify(line.slice(0, 60))}`, {
        field: 'signature',
      });
    const blob = unb64(m[2]);
    const v = verifiers.find((x) => x.name === m[1] && blob.length > 4 && Buffer.from(x.keyHash).equals(Buffer.from(blob.subarray(0, 4))));
    if (!v) continue; // unknown signers are ignored, as the spec requires
    if (!v.verify(msg, blob.subarray(4))) throw bad(`signature by ${v.name} does not verify`);
    signedBy.push(v.name);
  }
  if (signedBy.length === 0) throw bad('no signature from a known key');
  return { text, signedBy };
}
