/**
 * A transparency-log witness (c2sp.org/tlog-witness): for each log it knows (origin and
 * verifier keys) it keeps the latest checkpoint it cosigned, and cosigns a new one only if the
 * log proves it extends that one (RFC 6962 consistency proof). A log that forks — another root at
 * the same size, or a tree that does not extend the last one — is refused, so a log cannot show
 * two views that both carry this witness's cosignature.
 *
 * State is one JSON file in the witness's data directory, replaced atomically (write, fsync,
 * rename) before a cosignature is returned; requests are taken one at a time, so checking the old
 * size and recording the new checkpoint are one step (the spec's rollback race cannot happen).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { openNote, parseCheckpoint, parseVerifierKey, verifyConsistency, type NoteVerifier } from '../signing/tlog/index.js';
import type { Cosigner } from '../signing/tlog/cosignature.js';

export interface WitnessedLog {
  origin: string;
  keys: string[];
}
interface Record {
  size: string;
  root: string;
  note: string;
  at: string;
}
interface State {
  logs: { [origin: string]: Record };
}
export interface WitnessAnswer {
  status: number;
  contentType: string;
  body: string;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const MAX_BODY = 64 << 10;

export class Witness {
  readonly #logs = new Map<string, NoteVerifier[]>();
  readonly #state: State;
  #queue: Promise<unknown> = Promise.resolve();
  /** Requests answered, by status; refusals are kept for the operator (possible evidence of misbehaviour). */
  readonly stats = { answers: new Map<number, number>(), refused: [] as { origin: string; status: number; reason: string; at: string }[] };

  constructor(
    readonly cosigner: Cosigner,
    logs: WitnessedLog[],
    private readonly statePath: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const l of logs)
      this.#logs.set(
        l.origin,
        l.keys.map((k) => parseVerifierKey(k)),
      );
    this.#state = existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as State) : { logs: {} };
  }

  /** The latest checkpoint cosigned for `origin` (size 0 when none). */
  latest(origin: string): { size: bigint; root: string | null } {
    const r = this.#state.logs[origin];
    return r ? { size: BigInt(r.size), root: r.root } : { size: 0n, root: null };
  }

  /** POST /add-checkpoint: the request body in, the answer out. One request at a time. */
  addCheckpoint(body: string): Promise<WitnessAnswer> {
    const p = this.#queue.then(() => this.#add(body));
    this.#queue = p.catch(() => undefined);
    return p.then((a) => {
      this.stats.answers.set(a.status, (this.stats.answers.get(a.status) ?? 0) + 1);
      return a;
    });
  }

  #add(body: string): WitnessAnswer {
    const text = (status: number, msg: string): WitnessAnswer => ({
      status,
      contentType: 'text/plain; charset=utf-8',
      body: msg.endsWith('\n') ? msg : msg + '\n',
    });
    if (body.length > MAX_BODY) return text(400, `request body over ${MAX_BODY} bytes`);
    const blank = body.indexOf('\n\n');
    if (blank < 0) return text(400, 'no empty line between the old size and proof and the checkpoint');
    const head = body.slice(0, blank).split('\n');
    const note = body.slice(blank + 2);
    const m = /^old (0|[1-9][0-9]{0,19})$/.exec(head[0]);
    if (!m) return text(400, `first line ${JSON.stringify(head[0].slice(0, 40))}: want "old <size>"`);
    const old = BigInt(m[1]);
    const proofLines = head.slice(1);
    if (proofLines.length > 63) return text(400, `${proofLines.length} proof lines: at most 63`);
    const proof: Uint8Array[] = [];
    for (const l of proofLines) {
      const h = new Uint8Array(Buffer.from(l, 'base64'));
      if (h.length !== 32 || b64(h) !== l) return text(400, `proof line ${JSON.stringify(l.slice(0, 60))}: want a base64 SHA-256 hash`);
      proof.push(h);
    }
    // The origin first (404 for a log this witness does not know), then the log's signature (403).
    const origin = note.slice(0, note.indexOf('\n'));
    const verifiers = this.#logs.get(origin);
    if (!verifiers) return text(404, `unknown log origin ${JSON.stringify(origin.slice(0, 80))}`);
    let cpText: string;
    try {
      cpText = openNote(note, verifiers).text;
    } catch (e) {
      const code = (e as { code?: string }).code;
      return code === 'TLOG_CHECKPOINT_SIGNATURE'
        ? text(403, `checkpoint not signed by a key of ${origin}: ${(e as Error).message}`)
        : text(400, (e as Error).message);
    }
    let cp;
    try {
      cp = parseCheckpoint(cpText);
    } catch (e) {
      return text(400, (e as Error).message);
    }
    if (old > cp.size) return text(400, `old size ${old} is above the checkpoint's size ${cp.size}`);
    const refuse = (status: number, reason: string, answer: WitnessAnswer) => {
      this.stats.refused.push({ origin, status, reason, at: this.now().toISOString() });
      return answer;
    };
    const known = this.latest(origin);
    if (old !== known.size) return { status: 409, contentType: 'text/x.tlog.size', body: `${known.size}\n` };
    if (old === 0n && proof.length > 0) return text(400, 'a proof from size 0 must be empty');
    if (old === cp.size) {
      if (known.root !== null && known.root !== b64(cp.root)) {
        return refuse(409, 'same size, another root', { status: 409, contentType: 'text/x.tlog.size', body: `${known.size}\n` });
      }
    } else if (old > 0n) {
      try {
        verifyConsistency(old, cp.size, new Uint8Array(Buffer.from(known.root!, 'base64')), cp.root, proof);
      } catch (e) {
        return refuse(
          422,
          (e as Error).message,
          text(422, `checkpoint ${cp.size} does not extend the one cosigned at ${old}: ${(e as Error).message}`),
        );
      }
    }
    const at = this.now();
    this.#state.logs[origin] = { size: cp.size.toString(), root: b64(cp.root), note, at: at.toISOString() };
    this.#persist();
    return {
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: this.cosigner.cosign(cpText, BigInt(Math.floor(at.getTime() / 1000))),
    };
  }

  #persist(): void {
    const tmp = `${this.statePath}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(this.#state, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.statePath);
  }
}
