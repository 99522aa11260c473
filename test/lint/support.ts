import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file that holds eslint.config.js (works from test/ and dist/test/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'eslint.config.js'))) {
    const up = dirname(dir);
    assert.notEqual(up, dir, 'eslint.config.js not found above the test');
    dir = up;
  }
  return dir;
}

export const ROOT = repoRoot();
export const CONFIG_FILE = join(ROOT, 'eslint.config.js');

/** Lint options that need no type information (fast, and usable on files that do not exist). */
export const WITHOUT_TYPES = { languageOptions: { parserOptions: { projectService: false } } };
