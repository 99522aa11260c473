/**
 * Reading what a command line names: files (a missing or unreadable one is one line, exit 2) and
 * keys given as a file or as their text. Light on imports: the log commands use it at start-up.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseVerifierKey } from '../signing/tlog/index.js';
import { InputError } from './errors.js';

/** A file's bytes, or InputError INPUT_UNREADABLE naming the flag (`what`) and the path. */
export function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new InputError(
      `${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`,
      'INPUT_UNREADABLE',
    );
  }
}

/** A log verifier key given as a file holding it or as its text (C2SP `name+hash+base64`). */
export function logKeyFrom(spec: string): string {
  const text = existsSync(spec) && statSync(spec).isFile() ? readInput(spec, '--log-key').toString('utf8').trim() : spec.trim();
  try {
    parseVerifierKey(text);
  } catch (e) {
    throw new InputError(
      `--log-key ${spec}: not a log verifier key (want name+hash+base64, or a file holding one): ${(e as Error).message}`,
      'LOG_KEY_INVALID',
    );
  }
  return text;
}
