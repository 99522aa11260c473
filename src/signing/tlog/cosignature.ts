/**
 * Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 type): a cosigner states that, at a
 * time, the checkpoint is the largest consistent tree head it has seen for the log's origin.
 *
 *   signed message = "cosignature/v1\n" ‖ "time <POSIX seconds>\n" ‖ checkpoint note text
 *   signature line = "— <name> base64(key id[4] ‖ u64 big-endian timestamp ‖ Ed25519 signature[64])\n"
 *   key id         = SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[0:4]
 *   verifier key   = name+hex(key id)+base64(0x04 ‖ public key)
 *
 * A cosignature line sits among the note's signature lines; note verifiers that do not know the
 * witness ignore it (c2sp.org/signed-note).
 */
import { createPrivateKey, createPublicKey, sign as edSign, verify as edVerify } from 'node:crypto';
import { sha256 } from './hasher.js';
import { TlogError } from './errors.js';

export const COSIGNATURE_V1 = 0x04;
const HEADER = 'cosignature/v1\n';
const enc = new TextEncoder();
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export interface Cosigner {
  name: string;
  keyId: Uint8Array;
  /** This cosigner's verifier key (name+hash+base64(0x04 ‖ key)), for policies. */
  vkey: string;
  /** The cosignature line (with its newline) over the checkpoint note text at `timestamp`. */
  cosign(checkpointText: string, timestamp: bigint): string;
}

export interface CosignatureVerifier {
  name: string;
  keyId: Uint8Array;
  vkey: string;
  verify(checkpointText: string, timestamp: bigint, signature: Uint8Array): boolean;
}

export function cosignatureKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(enc.encode(name), Uint8Array.of(0x0a, COSIGNATURE_V1), publicKey).subarray(0, 4);
}

export function cosignerVerifierKey(name: string, publicKey: Uint8Array): string {
  return `${name}+${Buffer.from(cosignatureKeyId(name, publicKey)).toString('hex')}+${b64(Uint8Array.of(COSIGNATURE_V1, ...publicKey))}`;
}

/** The bytes a v1 cosignature signs. */
export function cosignedMessage(checkpointText: string, timestamp: bigint): Uint8Array {
  return enc.encode(`${HEADER}time ${timestamp.toString()}\n${checkpointText}`);
}

function checkName(name: string): void {
  if (!/^[^\s+]+$/.test(name))
    throw new TlogError(
      'TLOG_CHECKPOINT_MALFORMED',
      `cosigner name ${JSON.stringify(name.slice(0, 60))}: want one word without '+' or spaces`,
      { field: 'name', got: name.slice(0, 60) },
    );
}

/** A cosigner from an Ed25519 private key (PEM, PKCS#8). */
export function ed25519Cosigner(name: string, privateKeyPem: string): Cosigner {
  checkName(name);
  const priv = createPrivateKey(privateKeyPem);
  const der = new Uint8Array(createPublicKey(priv).export({ type: 'spki', format: 'der' }));
  const pub = der.subarray(der.length - 32);
  const keyId = cosignatureKeyId(name, pub);
  return {
    name,
    keyId,
    vkey: cosignerVerifierKey(name, pub),
    cosign(text, timestamp) {
      if (timestamp < 0n || timestamp > 2n ** 63n - 1n)
        throw new TlogError('TLOG_CHECKPOINT_MALFORMED', `cosignature timestamp ${timestamp} out of range`, { got: timestamp.toString() });
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(timestamp);
      const sig = new Uint8Array(edSign(null, cosignedMessage(text, timestamp), priv));
      return `\u2014 ${name} ${b64(Uint8Array.from([...keyId, ...ts, ...sig]))}\n`;
    },
  };
}

/** Parses a cosigner's verifier key `name+hash+base64(0x04 ‖ key)`. */
export function parseCosignerKey(vkey: string): CosignatureVerifier {
  const bad = (m: string) =>
    new TlogError('TLOG_CHECKPOINT_MALFORMED', `witness key ${JSON.stringify(vkey.slice(0, 40))}: ${m}`, {
      field: 'witness key',
      got: vkey.slice(0, 80),
    });
  const p1 = vkey.indexOf('+'),
    p2 = p1 < 0 ? -1 : vkey.indexOf('+', p1 + 1);
  if (p1 <= 0 || p2 < 0) throw bad('want name+hash+base64(0x04 ‖ Ed25519 key)');
  const name = vkey.slice(0, p1),
    hashHex = vkey.slice(p1 + 1, p2),
    keyB64 = vkey.slice(p2 + 1);
  const raw = new Uint8Array(Buffer.from(keyB64, 'base64'));
  if (!/^[0-9a-f]{8}$/.test(hashHex)) throw bad(`key hash ${JSON.stringify(hashHex)} is not 8 hex digits`);
  if (raw.length !== 33 || b64(raw) !== keyB64) throw bad(`key is ${raw.length} bytes of base64, want 33`);
  if (raw[0] !== COSIGNATURE_V1)
    throw bad(`signature type 0x${raw[0].toString(16).padStart(2, '0')}, want 0x04 (an Ed25519 cosignature/v1 key)`);
  const pub = raw.subarray(1);
  const keyId = cosignatureKeyId(name, pub);
  if (Buffer.from(keyId).toString('hex') !== hashHex) throw bad(`key hash ${hashHex} does not match the key`);
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' });
  return { name, keyId, vkey, verify: (text, ts, sig) => sig.length === 64 && edVerify(null, cosignedMessage(text, ts), key, sig) };
}

export interface Cosignature {
  name: string;
  timestamp: bigint;
}

/**
 * The cosignatures in a signed note by the given witnesses (lines of other keys are ignored, as
 * the signed-note spec requires). A line that claims a known witness's name and key id but does
 * not verify is an error: someone forged or damaged it.
 */
export function noteCosignatures(note: string, witnesses: readonly CosignatureVerifier[]): Cosignature[] {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n'))
    throw new TlogError('TLOG_CHECKPOINT_MALFORMED', 'signed note: no blank line before the signatures', { field: 'note' });
  const text = note.slice(0, split + 1);
  const found: Cosignature[] = [];
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m)
      throw new TlogError('TLOG_CHECKPOINT_MALFORMED', `signed note: bad signature line ${JSON.stringify(line.slice(0, 60))}`, {
        field: 'signature',
      });
    const blob = new Uint8Array(Buffer.from(m[2], 'base64'));
    const w = witnesses.find((x) => x.name === m[1] && blob.length >= 4 && Buffer.from(x.keyId).equals(Buffer.from(blob.subarray(0, 4))));
    if (!w) continue;
    if (blob.length !== 4 + 8 + 64)
      throw new TlogError('TLOG_CHECKPOINT_SIGNATURE', `cosignature by ${w.name} is ${blob.length} bytes, want 76`, {
        got: blob.length,
        want: 76,
      });
    const ts = Buffer.from(blob.subarray(4, 12)).readBigUInt64BE();
    if (!w.verify(text, ts, blob.subarray(12)))
      throw new TlogError('TLOG_CHECKPOINT_SIGNATURE', `cosignature by witness ${w.name} does not verify`, { witness: w.name });
    if (!found.some((f) => f.name === w.name)) found.push({ name: w.name, timestamp: ts });
  }
  return found;
}

/**
 * Checks that at least `quorum` of the named witnesses cosigned the note (offline); returns
 * those that did. Throws TLOG_CHECKPOINT_SIGNATURE naming who is missing.
 */
export function checkWitnessQuorum(note: string, witnesses: readonly CosignatureVerifier[], quorum: number): Cosignature[] {
  const found = noteCosignatures(note, witnesses);
  if (found.length < quorum) {
    const missing = witnesses.filter((w) => !found.some((f) => f.name === w.name)).map((w) => w.name);
    throw new TlogError(
      'TLOG_CHECKPOINT_SIGNATURE',
      `checkpoint cosigned by ${found.length} of the witnesses, want ${quorum} of ${witnesses.length} (missing: ${missing.join(', ')})`,
      { got: found.map((f) => f.name), want: quorum, missing },
    );
  }
  return found;
}
