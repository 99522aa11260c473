import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { CONFIG_FILE, ROOT, WITHOUT_TYPES } from './support.js';

const root = ROOT;

// Only the layer rule, and no type information: the snippets name files that do not exist.
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: CONFIG_FILE,
  overrideConfig: WITHOUT_TYPES,
  ruleFilter: ({ ruleId }) => ruleId === 'bpfsign/layers',
});

/** The layer messages ESLint reports for `code` placed at `file` (relative to the root). */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  assert.deepEqual(
    result.messages.filter((m) => m.ruleId !== 'bpfsign/layers'),
    [],
    `${file}: only layer messages expected`,
  );
  return result.messages.map((m) => m.message);
}

/** A relative import specifier from `file` to `target` (both relative to the root). */
function spec(file: string, target: string): string {
  const up = file.split('/').length - 1;
  return '../'.repeat(up) + target;
}

describe('the layer rule', () => {
  const cores = [
    'src/loader/btf/fake.ts',
    'src/loader/plan/fake.ts',
    'src/kernel/vm/fake.ts',
    'src/signing/fake.ts',
    'src/signing/x509/fake.ts',
  ];
  const above = ['src/api/app.js', 'src/service/sign.js', 'src/store/index.js'];

  for (const file of cores) {
    it(`refuses an import of api, service or store in ${file}, value or type`, async () => {
      for (const target of above) {
        const to = target.split('/')[1];
        for (const code of [`import { x } from '${spec(file, target)}';`, `import type { X } from '${spec(file, target)}';`]) {
          const errors = await layerErrors(file, code);
          assert.equal(errors.length, 1, `${file}: ${code}`);
          assert.match(errors[0], new RegExp(`may not import src/${to} `), `${file}: ${code}`);
        }
      }
    });
  }

  it('refuses re-exports and dynamic imports across a forbidden edge too', async () => {
    const file = 'src/signing/fake.ts';
    for (const code of [
      "export { x } from '../service/sign.js';",
      "export * from '../store/index.js';",
      "const m = await import('../api/app.js');",
    ]) {
      assert.equal((await layerErrors(file, code)).length, 1, code);
    }
  });

  it('lets signing import loader types but not loader values', async () => {
    const file = 'src/signing/fake.ts';
    assert.deepEqual(await layerErrors(file, "import type { Plan } from '../loader/plan/index.js';"), []);
    assert.deepEqual(await layerErrors(file, "import { type Plan, type PlanOp } from '../loader/plan/index.js';"), []);
    const errors = await layerErrors(file, "import { buildPlan } from '../loader/plan/index.js';");
    assert.equal(errors.length, 1);
    assert.match(errors[0], /only as types/);
  });

  it('passes the edges the architecture draws', async () => {
    const allowed: [string, string][] = [
      ['src/signing/fake.ts', "import { canonicalJson } from '../shared/json.js';"],
      ['src/kernel/vm/fake.ts', "import { decode } from '../../loader/isa/index.js';\nimport { ATTR } from '../../loader/uapi/index.js';"],
      ['src/loader/gen/fake.ts', "import { encode } from '../isa/index.js';\nimport type { Plan } from '../plan/index.js';"],
      ['src/service/fake.ts', "import { openStore } from '../store/index.js';\nimport { replay } from '../kernel/replay/index.js';"],
      ['src/api/routes/fake.ts', "import { sign } from '../../service/sign.js';\nimport type { Verdict } from '../../signing/index.js';"],
      ['src/cli/fake.ts', "import { parseObject } from '../loader/object/index.js';"],
      ['src/store/fake.ts', "import type { Bundle } from '../signing/bundle.js';\nimport { x } from './sqlite.js';"],
      ['test/kernel/fake.test.ts', "import { openStore } from '../../src/store/index.js';"],
    ];
    for (const [file, code] of allowed) assert.deepEqual(await layerErrors(file, code), [], `${file}: ${code}`);
  });

  it('refuses the leaves any import of ours, and a module the table does not know', async () => {
    assert.equal((await layerErrors('src/loader/isa/fake.ts', "import { x } from '../../shared/bytes.js';")).length, 1);
    assert.equal((await layerErrors('src/loader/elf/fake.ts', "import { x } from '../btf/index.js';")).length, 1);
    const unknown = await layerErrors('src/newlayer/fake.ts', "import { x } from '../shared/bytes.js';");
    assert.equal(unknown.length, 1);
    assert.match(unknown[0], /not in the layer table/);
  });
});
