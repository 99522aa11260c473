// The console's checks, run in the browser with WebCrypto: RFC 6962 leaf and node hashing,
// inclusion and consistency proofs (RFC 9162 §2.1.3.2, §2.1.4.2), C2SP signed-note checkpoints
// with Ed25519, and DSSE envelope signatures against a certificate's key. Every function takes
// plain bytes or strings and throws an Error whose message says what was wrong (got vs want);
// nothing here touches the page, so the same module runs under Node's WebCrypto in the tests.

const enc = new TextEncoder();
const subtle = () => {
  if (!globalThis.crypto?.subtle) throw new Error('WebCrypto is unavailable: open the console over HTTPS or from localhost');
  return globalThis.crypto.subtle;
};

export function b64decode(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function b64encode(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export const unhex = (s) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export async function sha256(...parts) {
  return new Uint8Array(await subtle().digest('SHA-256', concat(parts)));
}

export const hashLeaf = (data) => sha256(Uint8Array.of(0), data);
const hashChildren = (l, r) => sha256(Uint8Array.of(1), l, r);

/** The root an inclusion proof implies for the leaf hash at `index` in a tree of `size` (bigints). */
export async function rootFromInclusion(index, size, leafHash, proof) {
  if (index < 0n || index >= size) throw new Error(`index ${index} is beyond tree size ${size}`);
  for (const h of [leafHash, ...proof]) if (h.length !== 32) throw new Error(`a proof hash is ${h.length} bytes, want 32`);
  let fn = index, sn = size - 1n, r = leafHash;
  for (const p of proof) {
    if (sn === 0n) throw new Error(`proof of ${proof.length} hashes is too long for index ${index} in size ${size}`);
    if ((fn & 1n) === 1n || fn === sn) {
      r = await hashChildren(p, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await hashChildren(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  if (sn !== 0n) throw new Error(`proof of ${proof.length} hashes is too short for index ${index} in size ${size}`);
  return r;
}

/** Checks that a tree of size2/root2 extends the one of size1/root1 (bigints; roots as bytes). */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  if (size1 < 0n || size2 < size1) throw new Error(`sizes ${size1} → ${size2}: want 0 <= size1 <= size2`);
  if (size1 === size2) {
    if (proof.length !== 0 || !equal(root1, root2)) throw new Error(`same size ${size1}, different roots or a non-empty proof`);
    return;
  }
  if (size1 === 0n) return;
  if (proof.length === 0) throw new Error('empty consistency proof');
  const path = (size1 & (size1 - 1n)) === 0n ? [root1, ...proof] : proof;
  let fn = size1 - 1n, sn = size2 - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new Error(`consistency proof of ${proof.length} hashes is too long`);
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await hashChildren(c, fr); sr = await hashChildren(c, sr);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = await hashChildren(sr, c);
    }
    fn >>= 1n; sn >>= 1n;
  }
  if (sn !== 0n) throw new Error(`consistency proof of ${proof.length} hashes is too short`);
  if (!equal(fr, root1)) throw new Error(`calculated old root ${hex(fr)}, want ${hex(root1)}`);
  if (!equal(sr, root2)) throw new Error(`calculated new root ${hex(sr)}, want ${hex(root2)}`);
}

/** A log verifier key `name+hash+base64(0x01 ‖ Ed25519 key)`, its key hash checked. */
export async function parseVerifierKey(vkey) {
  const p1 = vkey.indexOf('+'), p2 = p1 < 0 ? -1 : vkey.indexOf('+', p1 + 1);
  if (p2 < 0) throw new Error(`log key ${JSON.stringify(vkey.slice(0, 40))} is not name+hash+key`);
  const name = vkey.slice(0, p1), hashHex = vkey.slice(p1 + 1, p2);
  const raw = b64decode(vkey.slice(p2 + 1));
  if (!/^[0-9a-f]{8}$/.test(hashHex) || raw.length !== 33 || raw[0] !== 1) throw new Error('log key is not an Ed25519 verifier key');
  const pub = raw.subarray(1);
  const keyHash = (await sha256(enc.encode(name), Uint8Array.of(0x0a, 1), pub)).subarray(0, 4);
  if (hex(keyHash) !== hashHex) throw new Error(`log key hash ${hashHex} does not match its key (computed ${hex(keyHash)})`);
  return { name, keyHash, pub };
}

/** A checkpoint's text: origin, size (bigint), root (bytes). */
export function parseCheckpoint(text) {
  const lines = text.replace(/\n$/, '').split('\n');
  if (lines.length < 3 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new Error('checkpoint text is not origin/size/root');
  const root = b64decode(lines[2]);
  if (root.length !== 32) throw new Error(`checkpoint root is ${root.length} bytes, want 32`);
  return { origin: lines[0], size: BigInt(lines[1]), root };
}

/**
 * Verifies a C2SP signed note against a verifier key; returns the checkpoint it carries and the
 * name that signed. Signatures by other keys are ignored, as signed notes require.
 */
export async function verifyNote(note, vkey) {
  const key = await parseVerifierKey(vkey);
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('signed note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const cryptoKey = await subtle().importKey('raw', key.pub, { name: 'Ed25519' }, false, ['verify']);
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error(`bad signature line ${JSON.stringify(line.slice(0, 60))}`);
    const blob = b64decode(m[2]);
    if (m[1] !== key.name || blob.length !== 68 || !equal(blob.subarray(0, 4), key.keyHash)) continue;
    if (!(await subtle().verify({ name: 'Ed25519' }, cryptoKey, blob.subarray(4), enc.encode(text)))) {
      throw new Error(`Ed25519 signature by ${key.name} does not verify`);
    }
    return { checkpoint: parseCheckpoint(text), signedBy: key.name };
  }
  throw new Error(`no signature by ${key.name}+${hex(key.keyHash)}`);
}

/**
 * An entry's inclusion: the leaf hash made from the entry's bytes (when given) must be the
 * proof's, the proof must lead to the root of the proof's checkpoint, and that checkpoint must be
 * signed by the log key. Returns what was checked, for the page to say.
 */
export async function verifyEntryInclusion(proof, entryBytes, logKey) {
  const leafHash = b64decode(proof.leafHash);
  let fromBytes = false;
  if (entryBytes) {
    const made = await hashLeaf(entryBytes);
    if (!equal(made, leafHash)) throw new Error(`leaf hash of the entry's bytes is ${hex(made)}, the proof says ${hex(leafHash)}`);
    fromBytes = true;
  }
  const { checkpoint } = await verifyNote(proof.checkpoint, logKey);
  const index = BigInt(proof.logIndex), size = BigInt(proof.treeSize);
  if (checkpoint.size !== size) throw new Error(`proof is for size ${size}, its checkpoint has size ${checkpoint.size}`);
  const root = await rootFromInclusion(index, size, leafHash, proof.hashes.map(b64decode));
  if (!equal(root, checkpoint.root)) throw new Error(`calculated root ${hex(root)}, the checkpoint's is ${hex(checkpoint.root)}`);
  return { index, size, fromBytes, root };
}

// --- DER, as much of X.509 as the page shows: names, validity, SKI, the public key. ---

function tlv(b, pos) {
  const tag = b[pos];
  let len = b[pos + 1], p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) throw new Error('DER length out of range');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++];
  }
  if (p + len > b.length) throw new Error('DER value runs past its end');
  return { tag, start: pos, body: p, end: p + len };
}

function kids(b, node) {
  const out = [];
  for (let p = node.body; p < node.end;) { const k = tlv(b, p); out.push(k); p = k.end; }
  return out;
}

const OID_NAMES = { '550403': 'CN', '55040a': 'O', '55040b': 'OU', '550406': 'C', '550407': 'L', '550408': 'ST' };
const text = (b, n) => new TextDecoder().decode(b.subarray(n.body, n.end));

function name(b, seq) {
  return kids(b, seq).flatMap((set) => kids(b, set).map((atv) => {
    const [oid, value] = kids(b, atv);
    const o = hex(b.subarray(oid.body, oid.end));
    return `${OID_NAMES[o] ?? o}=${text(b, value)}`;
  })).join(', ');
}

function time(b, n) {
  const s = text(b, n);
  const full = n.tag === 0x17 ? (Number(s.slice(0, 2)) < 50 ? '20' : '19') + s : s;
  return `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`;
}

export function pemToDer(pem) {
  return b64decode(pem.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, ''));
}

/** Subject, issuer, validity, SKI (hex) and SPKI bytes of a PEM certificate. */
export function parseCertificate(pem) {
  const b = pemToDer(pem);
  const tbs = kids(b, kids(b, tlv(b, 0))[0]);
  const i = tbs[0].tag === 0xa0 ? 1 : 0;
  const [serial, , issuer, validity, subject, spki] = tbs.slice(i);
  const [from, to] = kids(b, validity);
  let ski = null;
  const ext = tbs.find((n) => n.tag === 0xa3);
  if (ext) {
    for (const e of kids(b, kids(b, ext)[0])) {
      const parts = kids(b, e);
      if (hex(b.subarray(parts[0].body, parts[0].end)) === '551d0e') {
        const inner = tlv(b, parts[parts.length - 1].body);
        ski = hex(b.subarray(inner.body, inner.end));
      }
    }
  }
  return {
    subject: name(b, subject), issuer: name(b, issuer), serial: hex(b.subarray(serial.body, serial.end)),
    notBefore: time(b, from), notAfter: time(b, to), ski, spki: b.slice(spki.start, spki.end),
  };
}

/** The WebCrypto algorithm of an SPKI: RSA PKCS#1 v1.5 or ECDSA P-256/P-384, each with SHA-256 (as the signers sign). */
function spkiAlgorithm(spki) {
  const [alg] = kids(spki, tlv(spki, 0));
  const [oid, param] = kids(spki, alg);
  const o = hex(spki.subarray(oid.body, oid.end));
  if (o === '2a864886f70d010101') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const curve = param && hex(spki.subarray(param.body, param.end));
  if (o === '2a8648ce3d0201' && curve === '2a8648ce3d030107') return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256', size: 32 };
  if (o === '2a8648ce3d0201' && curve === '2b81040022') return { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-256', size: 48 };
  throw new Error(`key algorithm ${o} is not checked in the browser`);
}

/** An ECDSA signature in DER (SEQUENCE of two INTEGERs) as WebCrypto's r ‖ s. */
function ecdsaRaw(der, size) {
  const [r, s] = kids(der, tlv(der, 0));
  const fixed = (n) => {
    let v = der.subarray(n.body, n.end);
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new Error('ECDSA signature integer is too long');
    const out = new Uint8Array(size); out.set(v, size - v.length); return out;
  };
  return concat([fixed(r), fixed(s)]);
}

export function pae(payloadType, payload) {
  const t = enc.encode(payloadType);
  return concat([enc.encode(`DSSEv1 ${t.length} `), t, enc.encode(` ${payload.length} `), payload]);
}

/**
 * Checks a DSSE envelope's signatures against certificates (PEM), matched by keyid = SKI.
 * Returns the certificate that signed; throws when none does.
 */
export async function verifyEnvelope(envelope, certificates) {
  const certs = certificates.map(parseCertificate);
  const msg = pae(envelope.payloadType, b64decode(envelope.payload));
  for (const s of envelope.signatures ?? []) {
    const cert = certs.find((c) => c.ski === s.keyid);
    if (!cert) continue;
    const alg = spkiAlgorithm(cert.spki);
    const key = await subtle().importKey('spki', cert.spki, alg, false, ['verify']);
    const sig = b64decode(s.sig);
    if (await subtle().verify(alg, key, alg.name === 'ECDSA' ? ecdsaRaw(sig, alg.size) : sig, msg)) return cert;
    throw new Error(`signature by key ${s.keyid} does not verify`);
  }
  throw new Error(`no signature by a known key (keyids ${(envelope.signatures ?? []).map((s) => s.keyid).join(', ') || 'none'})`);
}
