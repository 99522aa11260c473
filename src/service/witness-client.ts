/**
 * The log's side of c2sp.org/tlog-witness: each new checkpoint goes to the configured witnesses
 * with a consistency proof from the size each last cosigned, and their cosignature lines are
 * added to the note. The log calls `cosign` once a checkpoint is signed (TransparencyLog.cosign);
 * the note it stores and serves is then the cosigned one.
 *
 * Per witness, submissions go one at a time, in order. A 409 says what size the witness last
 * cosigned: the submission is made again from there (or given up if the witness already holds a
 * larger checkpoint — this one can no longer be cosigned by it). A witness that is down or
 * refuses does not stop the log: the note goes out with the cosignatures it got, and the failure
 * is reported to `onError`.
 */
import { parseCosignerKey, noteCosignatures, type CosignatureVerifier } from '../signing/tlog/cosignature.js';

export interface WitnessEndpoint {
  url: string;
  key: string;
}
interface Peer {
  url: string;
  verifier: CosignatureVerifier;
  known: bigint;
  queue: Promise<unknown>;
}

export class WitnessClient {
  readonly #witnesses: Peer[];
  readonly stats = { submitted: 0, cosigned: 0, conflicts: 0, failed: 0 };

  constructor(
    witnesses: WitnessEndpoint[],
    private readonly proof: (from: bigint, to: bigint) => Promise<string[]>,
    private readonly opts: { timeoutMs?: number; onError?: (witness: string, message: string) => void } = {},
  ) {
    this.#witnesses = witnesses.map((w) => ({
      url: w.url.replace(/\/$/, ''),
      verifier: parseCosignerKey(w.key),
      known: 0n,
      queue: Promise.resolve(),
    }));
  }

  /** The note with the cosignature lines of every witness that cosigned it. */
  cosign = async (size: bigint, note: string): Promise<string> => {
    const lines = await Promise.all(
      this.#witnesses.map((w) => {
        const p = w.queue.then(() => this.#submit(w, size, note));
        w.queue = p.catch(() => undefined);
        return p.catch((e: Error) => {
          this.stats.failed++;
          this.opts.onError?.(w.verifier.name, e.message);
          return '';
        });
      }),
    );
    return note + lines.join('');
  };

  async #submit(w: Peer, size: bigint, note: string): Promise<string> {
    for (let tries = 0; tries < 3; tries++) {
      if (w.known > size) throw new Error(`witness holds size ${w.known}, above ${size}: cannot cosign an older checkpoint`);
      const proof = w.known > 0n && w.known < size ? await this.proof(w.known, size) : [];
      const body = `old ${w.known}\n${proof.map((h) => `${h}\n`).join('')}\n${note}`;
      this.stats.submitted++;
      const r = await fetch(`${w.url}/add-checkpoint`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain' },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
      });
      const text = await r.text();
      if (r.status === 409 && (r.headers.get('content-type') ?? '').startsWith('text/x.tlog.size') && /^(0|[1-9][0-9]*)\n$/.test(text)) {
        this.stats.conflicts++;
        const theirs = BigInt(text.trim());
        if (theirs === w.known) throw new Error(`witness refused size ${size}: it holds another tree at size ${theirs} (a fork?)`);
        w.known = theirs;
        continue;
      }
      if (r.status !== 200) throw new Error(`witness answered ${r.status}: ${text.trim().slice(0, 200)}`);
      // Keep only lines that are this witness's valid cosignature of this note.
      const got = text
        .split('\n')
        .filter((l) => l.startsWith('\u2014 '))
        .map((l) => `${l}\n`)
        .filter((l) => {
          try {
            return noteCosignatures(note + l, [w.verifier]).length === 1;
          } catch {
            return false;
          }
        });
      if (got.length === 0) throw new Error('witness answered 200 without a valid cosignature');
      w.known = size;
      this.stats.cosigned++;
      return got.join('');
    }
    throw new Error('witness kept answering 409');
  }
}
