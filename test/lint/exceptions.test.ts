import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { CONFIG_FILE, ROOT, WITHOUT_TYPES } from './support.js';

interface Exception {
  rule: string;
  files: string[];
  alsoAllow?: string[];
}

const loaded = (await import(pathToFileURL(CONFIG_FILE).href)) as { default: Linter.Config[]; EXCEPTIONS: Exception[] };
const exceptions = loaded.EXCEPTIONS;

/** The messages of `rule` for `file` under the config without exception `index`. */
async function withoutException(index: number, file: string, rule: string): Promise<string[]> {
  const config = loaded.default.filter((block) => !block.name?.startsWith(`issue 16 exception ${index}:`));
  assert.equal(config.length, loaded.default.length - 1, `exception ${index} has its own config block`);
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    baseConfig: [...config, WITHOUT_TYPES],
    ruleFilter: ({ ruleId }) => ruleId === rule,
  });
  const [result] = await eslint.lintFiles([join(ROOT, file)]);
  assert.deepEqual(
    result.messages.filter((m) => m.fatal),
    [],
    `${file}: parses`,
  );
  return result.messages.filter((m) => m.ruleId === rule).map((m) => m.message);
}

describe('the issue 16 exceptions in eslint.config.js', () => {
  it('name only files that exist', () => {
    const named = exceptions.flatMap((e) => e.files);
    assert.ok(named.length > 0);
    assert.deepEqual(
      named.filter((f) => !existsSync(join(ROOT, f))),
      [],
      'exceptions for files that are gone: delete them from eslint.config.js',
    );
  });

  exceptions.forEach((e, index) => {
    it(`are each still needed: ${e.rule}${e.alsoAllow ? ` (${e.alsoAllow.join(', ')})` : ''} in ${e.files.length} file(s)`, async () => {
      const stale: string[] = [];
      for (const file of e.files) {
        if (!existsSync(join(ROOT, file))) continue; // reported by the test above
        const messages = await withoutException(index, file, e.rule);
        if (messages.length === 0) stale.push(`${file} no longer breaks ${e.rule}`);
        for (const module of e.alsoAllow ?? []) {
          if (!messages.some((m) => m.includes(`src/${module} `))) stale.push(`${file} no longer imports src/${module}`);
        }
      }
      assert.deepEqual(stale, [], 'delete these from their exception in eslint.config.js');
    });
  });
});
