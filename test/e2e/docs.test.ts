/**
 * The API's /docs page (Swagger UI over the OpenAPI document) in a real browser: Debian's
 * chromium driven by playwright-core, against a real server in development mode (loopback needs
 * no token). It lists every operation, and a person can upload an object to
 * POST /v1/objects/inspect with "Try it out", as bytes or as a form. Screenshots go to
 * test-artifacts/docs/. Skipped, with the reason, without chromium.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startServer } from './support.js';
import { FIXTURES, ROOT } from '../support/objects.js';

const CHROMIUM = process.env.BPFSIGN_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-artifacts/docs');
const OBJECT = join(FIXTURES, 'obj/xdp_filter.clang-el.o');

type PW = typeof import('playwright-core');
let pw: PW | null = null;
let skip: string | false = false;
if (!existsSync(CHROMIUM)) skip = `no chromium at ${CHROMIUM} (apt-get install chromium, or set BPFSIGN_CHROMIUM)`;
else {
  try {
    pw = await import('playwright-core');
  } catch (e) {
    skip = `playwright-core is not installed: ${(e as Error).message}`;
  }
}
if (skip) console.log(`# /docs browser tests skipped: ${skip}`);

describe('the /docs page in chromium', { skip }, () => {
  let server: { url: string; proc: ChildProcess };
  let browser: import('playwright-core').BrowserContext;
  let page: import('playwright-core').Page;
  const errors: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer({});
    browser = await pw!.chromium.launchPersistentContext(join(mkdtempSync(join(tmpdir(), 'bpfsign-docs-')), 'profile'), {
      executablePath: CHROMIUM,
      viewport: { width: 1200, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (e) => errors.push(e.message));
  });
  after(async () => {
    await browser?.close();
    server?.proc.kill();
  });

  /** The inspect operation, opened, with "Try it out" pressed. */
  async function inspectOperation() {
    await page.goto(server.url + '/docs');
    const op = page.locator('#operations-objects-inspectObject');
    await op.locator('.opblock-summary').click();
    await op.getByRole('button', { name: 'Try it out' }).click();
    return op;
  }

  /** Press Execute and read the answer's status and body as the page shows them. */
  async function execute(op: import('playwright-core').Locator): Promise<{ status: string; body: string }> {
    await op.getByRole('button', { name: 'Execute' }).click();
    const row = op.locator('.live-responses-table tbody tr').first();
    await row.waitFor();
    return {
      status: await row.locator('.response-col_status').innerText(),
      body: await row.locator('.response-col_description').innerText(),
    };
  }

  it('lists every operation of the OpenAPI document, without script errors', async () => {
    await page.goto(server.url + '/docs');
    await page.locator('.opblock').first().waitFor();
    const doc = (await (await fetch(server.url + '/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const count = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    assert.equal(await page.locator('.opblock').count(), count);
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(SHOTS, 'operations.png') });
  });

  it('uploads an object as bytes with "Try it out" and shows what it contains', async () => {
    const op = await inspectOperation();
    await op.locator('input[type=file]').setInputFiles(OBJECT);
    const answer = await execute(op);
    assert.equal(answer.status, '200');
    assert.match(answer.body, /"byteOrder": "le"/);
    await op.screenshot({ path: join(SHOTS, 'inspect-bytes.png') });
  });

  it('offers the multipart form with the object and its name field, and uploads it', async () => {
    const op = await inspectOperation();
    await op
      .locator('select', { has: page.locator('option[value="multipart/form-data"]') })
      .first()
      .selectOption('multipart/form-data');
    const body = op.locator('.opblock-section-request-body');
    await body.getByText('the BPF object (ELF)').waitFor();
    await body.locator('input[type=file]').setInputFiles(OBJECT);
    await body.locator('tr', { hasText: 'object name' }).locator('input[type=text]').fill('from_docs');
    const answer = await execute(op);
    assert.equal(answer.status, '200');
    assert.match(answer.body, /"name": "from_docs"/);
    await op.screenshot({ path: join(SHOTS, 'inspect-form.png') });
  });
});
