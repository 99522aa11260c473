/**
 * bpfsign's version: package.json's, the one place it is written. The CLI's --version, the
 * OpenAPI document's info.version and the service's health answer read it from here.
 */
import { readFileSync } from 'node:fs';

/** The version field of bpfsign's package.json (found above this file, in src/ or dist/src/). */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    let pkg: { name?: string; version?: string };
    try {
      pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as typeof pkg;
    } catch {
      continue; // not here; try one folder further up
    }
    if (pkg.name === 'bpfsign' && typeof pkg.version === 'string') return pkg.version;
  }
  throw new Error('package.json of bpfsign not found above ' + new URL('.', import.meta.url).pathname);
}
