/**
 * The auditor: `log verify`'s walk over C2SP entry bundles (256 entries a request, the root
 * checked from a compact range) against the one-request-per-entry approach it replaced (each
 * entry fetched with its inclusion proof, the proof checked), in the same run, over a loopback
 * service holding a log built straight through the store. Both check each entry's content with
 * the same function. The per-entry approach reads the first `perEntry` entries only: at its rate
 * the whole log would take minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBigLog, serveBigLog } from '../test/support/big-log.js';
import { auditLog } from '../src/service/log-audit.js';
import { manifestEntryCheck, tilePath } from '../src/cli/client.js';
import { hashLeaf, openNote, parseCheckpoint, parseVerifierKey, verifyInclusion } from '../src/signing/tlog/index.js';

export interface LogBench {
  name: string;
  entries: number;
  tiles: { entries: number; ms: number; perSecond: number; requests: number };
  perEntry: { entries: number; ms: number; perSecond: number; requests: number };
  entryCheckMs: number;
}

const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

export async function benchLog(n = 100_000, perEntry = 2_000): Promise<LogBench> {
  const dir = mkdtempSync(join(tmpdir(), 'bpfsign-bench-log-'));
  try {
    const log = await buildBigLog(dir, n);
    const srv = await serveBigLog(log);
    try {
      const get = async (path: string) => {
        const r = await fetch(`${srv.url}${path}`);
        if (!r.ok) {
          await r.arrayBuffer();
          return null;
        }
        return new Uint8Array(await r.arrayBuffer());
      };
      const keys = (await (await fetch(`${srv.url}/v1/keys`)).json()) as { keys: { certificate: string }[] };
      const certs = keys.keys.map((k) => k.certificate);
      const verifier = parseVerifierKey(log.logVkey);

      let t = performance.now();
      const r = await auditLog({
        source: {
          checkpoint: async () => new TextDecoder().decode((await get('/v1/log/checkpoint'))!),
          entryBundle: (i, w) => get(`/v1/log/tile/entries/${tilePath(i)}${w < 256 ? `.p/${w}` : ''}`),
        },
        logKeys: [verifier],
        state: null,
        save: () => undefined,
        checkEntry: manifestEntryCheck(certs),
      });
      const tilesMs = performance.now() - t;

      const check = manifestEntryCheck(certs);
      let requests = 0;
      t = performance.now();
      for (let i = 0; i < perEntry; i++) {
        const res = await fetch(`${srv.url}/v1/log/entries/${i}`);
        requests++;
        const e = (await res.json()) as { body: string; inclusionProof: { hashes: string[]; checkpoint: string } };
        const cp = parseCheckpoint(openNote(e.inclusionProof.checkpoint, [verifier]).text);
        const body = unb64(e.body);
        verifyInclusion(BigInt(i), cp.size, hashLeaf(body), e.inclusionProof.hashes.map(unb64), cp.root);
        check(BigInt(i), body);
      }
      const perMs = performance.now() - t;

      // What one entry's content check costs on its own (distinct signed manifests, no memo).
      const fresh = manifestEntryCheck(certs);
      const bodies: Uint8Array[] = [];
      for (let i = 0; i < 200; i++) {
        const b = await get(`/v1/log/tile/entries/${tilePath(BigInt(i))}`);
        bodies.push(b!.subarray(2, 2 + ((b![0] << 8) | b![1])));
      }
      t = performance.now();
      for (const [i, b] of bodies.entries()) fresh(BigInt(i), b);
      const entryCheckMs = (performance.now() - t) / bodies.length;

      return {
        name: 'log audit',
        entries: n,
        tiles: { entries: Number(r.entries), ms: tilesMs, perSecond: Number(r.entries) / (tilesMs / 1000), requests: r.requests },
        perEntry: { entries: perEntry, ms: perMs, perSecond: perEntry / (perMs / 1000), requests },
        entryCheckMs,
      };
    } finally {
      await srv.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
