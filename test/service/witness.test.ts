/**
 * Witnesses (c2sp.org/tlog-witness, tlog-cosignature): two witnesses cosign each checkpoint the
 * log submits, after checking it extends the last one they cosigned; a policy requiring both is
 * met offline by the log's checkpoints and proofs; a log that forks (a split view: the same key
 * and origin, other entries) is refused by both witnesses, fails that policy, and is caught by
 * the auditor that saw the honest view.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransparencyLog } from '../../src/service/log.js';
import { Witness } from '../../src/service/witness.js';
import { WitnessClient } from '../../src/service/witness-client.js';
import { startWitnessServer } from '../../src/service/witness-server.js';
import { SqliteStore } from '../../src/store/index.js';
import {
  checkWitnessQuorum,
  ed25519Cosigner,
  noteCosignatures,
  parseCosignerKey,
  type Cosigner,
} from '../../src/signing/tlog/cosignature.js';
import {
  ed25519Signer,
  ed25519VerifierKey,
  formatCheckpoint,
  openNote,
  signNote,
  parseCheckpoint,
  parseTlogProof,
  parseVerifierKey,
  verifyTlogProof,
} from '../../src/signing/tlog/index.js';
import { parsePolicy } from '../../src/signing/policy.js';
import { auditLog, AuditError, type AuditStateV2 } from '../../src/service/log-audit.js';

const ORIGIN = 'bpfsign.test/witnessed-log';
const enc = new TextEncoder();
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const logPem = pem();

function logVkey(): string {
  const der = new Uint8Array(createPublicKey(logPem).export({ type: 'spki', format: 'der' }));
  return ed25519VerifierKey(ORIGIN, der.subarray(12));
}

describe('two witnesses and a log that forks', () => {
  let dir: string;
  const witnesses: { w: Witness; cosigner: Cosigner; url: string; close(): Promise<void>; state: string }[] = [];
  const stores: SqliteStore[] = [];
  const newLog = async (client: boolean) => {
    const store = new SqliteStore(':memory:');
    await store.migrate();
    stores.push(store);
    const log = new TransparencyLog(store, ed25519Signer(ORIGIN, logPem), ORIGIN, () => new Date());
    if (client) {
      const wc = new WitnessClient(
        witnesses.map((w) => ({ url: w.url, key: w.cosigner.vkey })),
        async (a, b) => (await log.consistency(a, b)).hashes,
      );
      log.cosign = wc.cosign;
      return { log, wc };
    }
    return { log, wc: null };
  };
  const verifiers = () => witnesses.map((w) => parseCosignerKey(w.cosigner.vkey));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bpfsign-witness-'));
    for (const name of ['witness.test/a', 'witness.test/b']) {
      const cosigner = ed25519Cosigner(name, pem());
      const state = join(dir, `${name.replace(/\W/g, '_')}.json`);
      const w = new Witness(cosigner, [{ origin: ORIGIN, keys: [logVkey()] }], state);
      const srv = await startWitnessServer(w);
      witnesses.push({ w, cosigner, url: srv.url, close: srv.close, state });
    }
  });
  after(async () => {
    for (const w of witnesses) await w.close();
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cosign each new checkpoint, checking it extends the last, and a policy requiring both is met offline', async () => {
    const { log } = await newLog(true);
    for (let i = 0; i < 10; i++) await log.append('t', `${i}`, enc.encode(`honest ${i}`));
    const first = await log.checkpoint();
    assert.equal(first.size, 10n);
    assert.deepEqual(
      checkWitnessQuorum(first.note, verifiers(), 2).map((c) => c.name),
      ['witness.test/a', 'witness.test/b'],
    );
    // Still a valid note for the log key alone: the cosignature lines are other keys' lines.
    assert.equal(parseCheckpoint(openNote(first.note, [parseVerifierKey(logVkey())]).text).size, 10n);
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append('t', `${10 + i}`, enc.encode(`honest ${10 + i}`))));
    const second = await log.checkpoint();
    assert.equal(second.size, 20n);
    checkWitnessQuorum(second.note, verifiers(), 2);
    for (const w of witnesses) assert.equal(w.w.latest(ORIGIN).size, 20n);

    // Offline: a proof file's checkpoint carries both cosignatures; a policy names both.
    const proof = await log.proofFile(3n);
    const r = verifyTlogProof(proof, enc.encode('honest 3'), [parseVerifierKey(logVkey())], ORIGIN);
    assert.equal(r.index, 3n);
    const policy = parsePolicy({
      version: 1,
      name: 'witnessed',
      roots: ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----'],
      logKeys: [logVkey()],
      witnesses: witnesses.map((w) => ({ name: w.cosigner.name, key: w.cosigner.vkey })),
      witnessQuorum: 2,
    });
    const named = policy.witnesses.map((w) => parseCosignerKey(w.key));
    assert.equal(checkWitnessQuorum(parseTlogProof(proof).checkpoint, named, policy.witnessQuorum!).length, 2);
    // One witness's line gone: 1 of 2 is not the quorum.
    const oneLess = parseTlogProof(proof)
      .checkpoint.split('\n')
      .filter((l) => !l.startsWith('\u2014 witness.test/b '))
      .join('\n');
    assert.throws(
      () => checkWitnessQuorum(oneLess, named, 2),
      (e: Error & { code: string }) => e.code === 'TLOG_CHECKPOINT_SIGNATURE' && /missing: witness.test\/b/.test(e.message),
    );
    assert.throws(() => parsePolicy({ ...policy, witnessQuorum: 3 }), /witnessQuorum/);
  });

  it('refuse a fork (a split view), which then fails the policy; the auditor that saw the honest view catches it', async () => {
    // The auditor's view of the honest log: the witnesses hold its size 20.
    const honest = stores[0];
    const honestLog = new TransparencyLog(honest, ed25519Signer(ORIGIN, logPem), ORIGIN, () => new Date());
    let state: AuditStateV2 | null = null;
    const audit = (log: TransparencyLog, withWitnesses: boolean) =>
      auditLog({
        source: { checkpoint: async () => (await log.checkpoint()).note, entryBundle: (n, w) => log.entryBundle(n, w) },
        logKeys: [parseVerifierKey(logVkey())],
        state,
        save: (s) => {
          state = s;
        },
        checkEntry: () => 'ok',
        ...(withWitnesses ? { witnesses: { verifiers: verifiers(), quorum: 2 } } : {}),
      });
    assert.equal((await audit(honestLog, true)).checkpoint.size, 20n);

    // The fork: the same key and origin, entry 5 different, five entries more.
    const { log: fork, wc } = await newLog(true);
    for (let i = 0; i < 25; i++) await fork.append('t', `${i}`, enc.encode(i === 5 ? 'forged 5' : `honest ${i}`));
    const forked = await fork.checkpoint();
    assert.equal(forked.size, 25n);
    assert.deepEqual(noteCosignatures(forked.note, verifiers()), [], 'no witness cosigned the fork');
    assert.ok(wc!.stats.failed >= 2);
    for (const w of witnesses) {
      assert.equal(w.w.latest(ORIGIN).size, 20n, 'the witness still holds the honest size');
      assert.ok(
        w.w.stats.refused.some((r) => r.status === 422),
        "the fork's consistency proof was refused",
      );
    }
    assert.throws(() => checkWitnessQuorum(forked.note, verifiers(), 2), { code: 'TLOG_CHECKPOINT_SIGNATURE' });
    // A policy requiring witnesses refuses the fork's checkpoint at once…
    await assert.rejects(audit(fork, true), { code: 'TLOG_CHECKPOINT_SIGNATURE' });
    // …and without witnesses the auditor's saved range catches it: the fork's entries do not build its root from the honest 20.
    await assert.rejects(audit(fork, false), (e: AuditError) => e.code === 'AUDIT_FORK');
    // The refused view's entries are not kept as read: the honest log still audits from the state.
    assert.equal(state!.next, '20');
    assert.equal((await audit(honestLog, true)).checkpoint.size, 20n);

    // The same size with another root is refused too (409), and a witness restarted from its state still refuses it.
    const { log: sameSize } = await newLog(false);
    for (let i = 0; i < 20; i++) await sameSize.append('t', `${i}`, enc.encode(i === 7 ? 'forged 7' : `honest ${i}`));
    const note = (await sameSize.checkpoint()).note;
    const restarted = new Witness(witnesses[0].cosigner, [{ origin: ORIGIN, keys: [logVkey()] }], witnesses[0].state);
    const a = await restarted.addCheckpoint(`old 20\n\n${note}`);
    assert.equal(a.status, 409);
    assert.equal(a.contentType, 'text/x.tlog.size');
    assert.equal(a.body, '20\n');
    // Protocol answers: an unknown origin is 404, a checkpoint not signed by the log's key 403, a stale old size 409 with the size.
    assert.equal(
      (await restarted.addCheckpoint(`old 0\n\nother/log\n1\n${Buffer.alloc(32).toString('base64')}\n\n\u2014 other/log AAAA\n`)).status,
      404,
    );
    const forgedKey = ed25519Signer(ORIGIN, pem());
    const unsigned = signNote(formatCheckpoint({ origin: ORIGIN, size: 20n, root: new Uint8Array(32) }), [forgedKey]);
    assert.equal((await restarted.addCheckpoint(`old 20\n\n${unsigned}`)).status, 403);
    const stale = await restarted.addCheckpoint(`old 0\n\n${note}`);
    assert.deepEqual([stale.status, stale.body], [409, '20\n']);
  });
});
