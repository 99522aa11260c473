/**
 * An independent oracle for the generated UAPI: a C program compiled by gcc against the installed
 * linux/bpf.h and linux/btf.h, one statement per line. Lines naming what the header lacks (newer
 * than it) are dropped and the rest compiled again; any other compiler error fails the test.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HEADER = '/usr/include/linux/bpf.h';

const PRELUDE = `#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/btf.h>
static void dump(const char *id, const unsigned char *p, size_t n) {
  printf("B %s", id);
  for (size_t i = 0; i < n; i++) printf(" %u", p[i]);
  printf("\\n");
}
int main(void) {
`;

export function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `lines` (statements of main; `dump(id, bytes, n)` prints bytes) and then `after`. gcc errors
 * matching `newer` drop their line; returns the output and the indices of the dropped lines.
 */
export function runOracle(lines: readonly string[], after: readonly string[], newer: RegExp): { output: string; dropped: number[] } {
  const dir = mkdtempSync(join(tmpdir(), 'uapi-oracle-'));
  const first = PRELUDE.split('\n').length;
  try {
    let live = lines.map((text, index) => ({ text, index }));
    const dropped: number[] = [];
    for (let round = 0; round < 5; round++) {
      writeFileSync(join(dir, 'o.c'), `${PRELUDE}${live.map((l) => l.text).join('\n')}\n${after.join('\n')}\nreturn 0;\n}\n`);
      try {
        execFileSync('gcc', ['-std=gnu11', '-w', '-o', join(dir, 'o'), join(dir, 'o.c')], { stdio: 'pipe' });
        return { output: execFileSync(join(dir, 'o'), { encoding: 'utf8' }), dropped };
      } catch (e) {
        const stderr = String((e as { stderr?: Buffer }).stderr ?? e);
        const bad = new Set<number>();
        for (const m of stderr.matchAll(/o\.c:(\d+):\d+: error: (.*)/g)) {
          assert.match(m[2]!, newer, `gcc: ${m[0]}`);
          bad.add(Number(m[1]) - first);
        }
        assert.ok(bad.size > 0, `gcc failed without a line to drop:\n${stderr}`);
        dropped.push(...live.filter((_, i) => bad.has(i)).map((l) => l.index));
        live = live.filter((_, i) => !bad.has(i));
      }
    }
    throw new Error('the oracle did not compile after 5 rounds');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
