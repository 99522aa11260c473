/**
 * `bpfsign verify DIR|BUNDLE [--object OBJ] [--policy FILE | --trust CERT.pem] [--profile host|DIR|BTF] [--json]`
 * exits 0 only on OK. `--trust` is a strict policy rooted at that certificate.
 * `bpfsign keys create|list|rotate [--dir DIR]` manages development keys.
 */
import { jsonReplacer } from '../shared/json.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseBundle } from '../signing/bundle.js';
import { parsePolicy, strictPolicyFor } from '../signing/policy.js';
import { loadProfile, verifyBundle } from '../service/verify.js';
import { createKeyring, listKeys, rotateKey } from '../service/keys.js';
import { CliError } from './errors.js';

export function runVerify(target: string, opts: { object?: string; policy?: string; trust?: string; profile?: string; json: boolean; now?: Date }, out: (s: string) => void): number {
  const file = existsSync(target) && statSync(target).isDirectory() ? join(target, 'bundle.json') : target;
  if (!existsSync(file)) throw new CliError(`no bundle at ${file}`);
  const bundle = parseBundle(JSON.parse(readFileSync(file, 'utf8')));
  if (!opts.policy === !opts.trust) throw new CliError('verify needs exactly one of --policy FILE or --trust CERT.pem');
  const policy = opts.policy ? parsePolicy(JSON.parse(readFileSync(opts.policy, 'utf8'))) : strictPolicyFor(readFileSync(opts.trust!, 'utf8'), `strict (${opts.trust})`);
  const profile = loadProfile(opts.profile);
  const object = opts.object ? new Uint8Array(readFileSync(opts.object)) : undefined;
  const verdict = verifyBundle(bundle, policy, { at: opts.now ?? new Date(), object, profile });
  if (opts.json) {
    out(JSON.stringify({ ...verdict, replay: verdict.replay ? { ...verdict.replay, report: undefined } : null }, jsonReplacer, 2));
  } else {
    const lines = [`${verdict.verdict}  (policy ${verdict.policy}, scheme ${verdict.scheme ?? '-'})`];
    if (verdict.signer) lines.push(`signer: ${verdict.signer.subject} (SKI ${verdict.signer.subjectKeyIdentifier})`);
    for (const c of verdict.checks) lines.push(`  ${c.status.padEnd(7)} ${c.check.padEnd(15)} ${c.level.padEnd(7)} ${c.code ? `[${c.code}] ` : ''}${c.message}`);
    out(lines.join('\n'));
  }
  return verdict.ok ? 0 : 1;
}

export async function runKeys(action: string | undefined, opts: { dir: string; json: boolean }, out: (s: string) => void): Promise<number> {
  const now = new Date();
  switch (action) {
    case 'create': {
      const k = await createKeyring(opts.dir, now);
      out(`DEVELOPMENT KEYS created in ${opts.dir}: local CA ${join(opts.dir, 'ca.pem')}, active signing key ${k.id}. Not for production.`);
      return 0;
    }
    case 'rotate': {
      const k = await rotateKey(opts.dir, now);
      out(`new active signing key ${k.id} in ${opts.dir}; earlier keys stay listed and their bundles keep verifying`);
      return 0;
    }
    case 'list': {
      const l = listKeys(opts.dir);
      if (opts.json) out(JSON.stringify(l, null, 2));
      else out([`CA: ${l.ca}`, ...l.keys.map((k) => `${k.active ? '*' : ' '} ${k.id}  ${k.subject}  SKI ${k.subjectKeyIdentifier}  until ${k.notAfter}`)].join('\n'));
      return 0;
    }
    default:
      throw new CliError('keys takes create, list or rotate');
  }
}
