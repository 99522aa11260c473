/**
 * `bpfsign witness serve --dir DIR --name NAME --log VKEY ... [--host H] [--port N]`: a
 * c2sp.org/tlog-witness witness for the logs whose checkpoint keys are given (the origin is the
 * key's name). Its Ed25519 key (witness-key.pem) and state (witness-state.json) live in DIR; the
 * key is made on first use and its verifier key printed, for trust policies to name.
 * `bpfsign witness key --dir DIR --name NAME` prints that verifier key.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { ed25519Cosigner, type Cosigner } from '../signing/tlog/cosignature.js';
import { parseVerifierKey } from '../signing/tlog/index.js';
import { Witness } from '../service/witness.js';
import { startWitnessServer } from '../service/witness-server.js';
import { CliError } from './errors.js';

export function witnessCosigner(dir: string, name: string): Cosigner {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, 'witness-key.pem');
  if (!existsSync(keyPath))
    writeFileSync(keyPath, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, {
      mode: 0o600,
      flag: 'wx',
    });
  return ed25519Cosigner(name, readFileSync(keyPath, 'utf8'));
}

export async function runWitness(
  sub: string | undefined,
  opts: { dir?: string; name?: string; log?: string[]; host?: string; port?: string },
  out: (s: string) => void,
): Promise<number> {
  if (!opts.dir || !opts.name) throw new CliError('witness needs --dir DIR and --name NAME (e.g. witness.example.org/w1)');
  const cosigner = witnessCosigner(opts.dir, opts.name);
  if (sub === 'key') {
    out(cosigner.vkey);
    return 0;
  }
  if (sub !== 'serve')
    throw new CliError(
      'usage: bpfsign witness serve --dir DIR --name NAME --log VKEY ... [--host H] [--port N] | witness key --dir DIR --name NAME',
    );
  if (!opts.log?.length) throw new CliError('witness serve needs --log VKEY for each log it witnesses');
  const logs = opts.log.map((k) => ({ origin: parseVerifierKey(k).name, keys: [k] }));
  const port = opts.port === undefined ? 0 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port ${opts.port}: want 0..65535`);
  const witness = new Witness(cosigner, logs, join(opts.dir, 'witness-state.json'));
  const srv = await startWitnessServer(witness, { host: opts.host, port });
  out(`witness ${cosigner.name} listening on ${srv.url}; its key: ${cosigner.vkey}; logs: ${logs.map((l) => l.origin).join(', ')}`);
  const stop = () => {
    void srv.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 0;
}
