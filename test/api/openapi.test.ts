/**
 * The OpenAPI document as the tools people use take it: Redocly CLI's recommended rules find
 * nothing, swagger-parser validates it, and openapi-typescript makes types from it that a client
 * compiles against. And what those tools do not check: both uploads take bytes or a form, every
 * operation has an id, a security requirement and its problems.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import type { OpenAPIV3_1 } from 'openapi-types';
import { buildTestApp } from './helper.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

let doc: OpenAPIV3_1.Document;
let dir: string;
before(async () => {
  const { app } = await buildTestApp();
  doc = (await app.inject({ url: '/openapi.json' })).json();
  dir = mkdtempSync(join(tmpdir(), 'bpfsign-openapi-'));
  writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
});

function operations(): { where: string; op: OpenAPIV3_1.OperationObject }[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((m) => (item?.[m] ? [{ where: `${m.toUpperCase()} ${path}`, op: item[m] }] : [])),
  );
}

describe('the OpenAPI document', () => {
  it("has no error and no warning under Redocly CLI's recommended rules", async () => {
    const cli = join(dirname(require.resolve('@redocly/cli/package.json')), 'bin/cli.js');
    const { stdout } = await run(
      process.execPath,
      [cli, 'lint', join(dir, 'openapi.json'), '--extends', 'recommended', '--format', 'json'],
      {
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      },
    ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    const found = report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    assert.deepEqual(found, []);
    assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 });
  });

  it('is valid to swagger-parser, every $ref resolving', async () => {
    const api = await SwaggerParser.validate(structuredClone(doc));
    assert.ok(api.paths && '/v1/loaders' in api.paths);
  });

  it('gives every operation an operationId of its own, a security requirement and a 4xx problem answer', () => {
    const ids = new Set<string>();
    for (const { where, op } of operations()) {
      assert.ok(op.operationId, `${where}: no operationId`);
      assert.ok(!ids.has(op.operationId), `${where}: operationId ${op.operationId} used twice`);
      ids.add(op.operationId);
      assert.ok(Array.isArray(op.security), `${where}: no security`);
      const fourxx = Object.entries(op.responses ?? {}).filter(([status]) => status.startsWith('4'));
      assert.ok(fourxx.length > 0, `${where}: no 4xx answer`);
      for (const [status, r] of fourxx)
        assert.ok('content' in r && r.content?.['application/problem+json'], `${where} ${status}: not problem+json`);
    }
    assert.ok(ids.size >= 18, `only ${ids.size} operations`);
  });

  it('asks for the token scope each upload checks, and nothing of the health checks', () => {
    assert.deepEqual(doc.paths?.['/v1/loaders']?.post?.security, [{ bearer: ['sign'] }]);
    assert.deepEqual(doc.paths?.['/v1/objects/inspect']?.post?.security, [{ bearer: ['verify'] }]);
    assert.deepEqual(doc.paths?.['/healthz']?.get?.security, []);
    assert.deepEqual(doc.paths?.['/v1/log/checkpoint']?.get?.security, [{}, { bearer: ['audit'] }], 'anonymous reads, or a token');
  });

  for (const [path, fields] of [
    ['/v1/loaders', ['name', 'scheme', 'key', 'profile', 'flavour']],
    ['/v1/objects/inspect', ['name']],
  ] as const) {
    it(`documents POST ${path} with an object as bytes or as a form's file part with its option fields`, () => {
      const body = doc.paths?.[path]?.post?.requestBody as OpenAPIV3_1.RequestBodyObject;
      assert.deepEqual(body.content['application/octet-stream'].schema, { type: 'string', format: 'binary' });
      const form = body.content['multipart/form-data'].schema as OpenAPIV3_1.SchemaObject;
      assert.equal(form.properties?.object && (form.properties.object as OpenAPIV3_1.SchemaObject).format, 'binary');
      assert.deepEqual(form.required, ['object']);
      for (const f of fields) assert.ok(f in (form.properties ?? {}), `form field ${f}`);
    });
  }

  it('documents the tile wildcard as a path parameter, and binary answers as bytes', () => {
    const tile = doc.paths?.['/v1/log/tile/{path}']?.get;
    assert.deepEqual(
      tile?.parameters?.map((p) => 'name' in p && [p.name, p.in]),
      [['path', 'path']],
    );
    assert.deepEqual(Object.keys((tile?.responses?.['200'] as OpenAPIV3_1.ResponseObject).content ?? {}), ['application/octet-stream']);
    assert.deepEqual(
      Object.keys((doc.paths?.['/v1/loaders/{id}/lskel.h']?.get?.responses?.['200'] as OpenAPIV3_1.ResponseObject).content ?? {}),
      ['text/x-c'],
    );
  });

  it('keeps only the component schemas an operation refers to', () => {
    const text = JSON.stringify({ ...doc, components: { ...doc.components, schemas: {} } });
    const all = Object.keys(doc.components?.schemas ?? {});
    const reachable = new Set<string>();
    const visit = (name: string) => {
      if (reachable.has(name)) return;
      reachable.add(name);
      for (const m of JSON.stringify(doc.components?.schemas?.[name]).matchAll(/#\/components\/schemas\/([A-Za-z0-9_]+)/g)) visit(m[1]);
    };
    for (const m of text.matchAll(/#\/components\/schemas\/([A-Za-z0-9_]+)/g)) visit(m[1]);
    assert.deepEqual(
      all.filter((n) => !reachable.has(n)),
      [],
    );
    assert.ok(all.includes('Problem') && all.includes('MapSummary'));
  });
});

/**
 * A client's use of the generated types: what it sends and reads. The `@ts-expect-error` lines
 * must each be an error, so types that had decayed to `any` or `unknown` fail the check too.
 */
const USAGE = `
import type { components, operations, paths } from './api.js';

type Upload = NonNullable<paths['/v1/loaders']['post']['requestBody']>['content'];
const bytes: Upload['application/octet-stream'] = 'binary';
const form: Upload['multipart/form-data'] = { object: 'binary', scheme: 'linux-6.18', name: 'xdp' };
// @ts-expect-error an upload form without its object
const noObject: Upload['multipart/form-data'] = { scheme: 'unsigned' };
// @ts-expect-error a scheme the API does not offer
const badScheme: Upload['multipart/form-data'] = { object: 'binary', scheme: 'rsa' };

type Inspect = NonNullable<operations['inspectObject']['requestBody']>['content'];
const inspectForm: Inspect['multipart/form-data'] = { object: 'binary', name: 'xdp' };

const created: operations['createLoader']['responses'][201]['content']['application/json'] = null!;
const scheme: 'linux-6.18' | 'linux-load-time' | 'unsigned' = created.bundle.scheme;
const logIndex: string | undefined = created.bundle.tlog?.logIndex;

const problem: components['schemas']['Problem'] = { type: 'urn:x', title: 'Bad Request', status: 400, code: 'REQUEST_INVALID', detail: 'd' };
// @ts-expect-error the code is a string
const badProblem: components['schemas']['Problem'] = { ...problem, code: 400 };
const notFound: operations['getLoader']['responses'][404]['content']['application/problem+json'] = problem;

const verdict: operations['verify']['responses'][200]['content']['application/json']['verdict'] = 'OK';
const tile: operations['getLogTile']['parameters']['path']['path'] = '0/x001/234';
const mapName: string = null! as components['schemas']['ObjectSummary']['maps'][number]['name'];

export const used = [bytes, form, noObject, badScheme, inspectForm, scheme, logIndex, badProblem, notFound, verdict, tile, mapName];
`;

describe('openapi-typescript', () => {
  it('makes types from the document that a client using them compiles against', async () => {
    writeFileSync(join(dir, 'api.d.ts'), astToString(await openapiTS(pathToFileURL(join(dir, 'openapi.json')))));
    writeFileSync(join(dir, 'usage.ts'), USAGE);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: [],
          skipLibCheck: false,
        },
        files: ['usage.ts'],
      }),
    );
    const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin/tsc');
    const out = await run(process.execPath, [tsc, '-p', dir]).then(
      () => '',
      (e: { stdout?: string }) => e.stdout ?? String(e),
    );
    assert.equal(out, '');
  });
});
