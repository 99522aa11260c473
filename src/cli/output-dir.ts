/**
 * Output written all at once or not at all. Files go to a temporary folder beside the target
 * (on the same file system), which becomes the target by one rename at the end; when the target
 * already exists, each file is renamed into it instead. A failure before `commit` removes the
 * temporary folder only: there is no target folder, or it is as it was.
 *
 *   -o out/run1  (out missing)   stage: ./.out.tmp-XXXXXX/run1/…  commit: rename → ./out
 *   -o out       (out existing)  stage: ./.out.tmp-XXXXXX/…       commit: rename each file into out
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CliError } from './errors.js';

export interface StagedOutput {
  /** Where to write: the target folder's stand-in until `commit`. */
  readonly path: string;
  /** Moves what was written into the target folder. */
  commit(): void;
  /** Removes what was written (no-op after `commit`). */
  abort(): void;
}

export function stageOutput(dir: string): StagedOutput {
  const target = resolve(dir);
  if (existsSync(target) && !statSync(target).isDirectory()) throw new CliError(`-o ${dir}: not a folder`);
  // The highest folder that does not exist yet (or the target itself when it exists): what commit creates.
  let top = target;
  while (!existsSync(top) && !existsSync(dirname(top))) top = dirname(top);
  const temp = mkdtempSync(join(dirname(top), `.${basename(top)}.tmp-`));
  const path = join(temp, relative(top, target));
  mkdirSync(path, { recursive: true });
  let done = false;
  return {
    path,
    commit() {
      if (done) return;
      if (existsSync(top)) {
        for (const f of readdirSync(path)) renameSync(join(path, f), join(target, f));
        rmSync(temp, { recursive: true, force: true });
      } else {
        renameSync(temp, top);
      }
      done = true;
    },
    abort() {
      if (done) return;
      rmSync(temp, { recursive: true, force: true });
      done = true;
    },
  };
}
