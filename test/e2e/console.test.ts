/**
 * The web console in a real browser: Debian's chromium driven by playwright-core, against a real
 * server (development mode: loopback needs no token). Asserts what a person sees — the verified
 * checkpoint, an entry's verified inclusion proof, the manifest's program table, the verdict's
 * checklist — and that the controls are labelled and reachable with the keyboard. Screenshots go
 * to test-artifacts/console/ (CI keeps that folder). Skipped, with the reason, without chromium.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startServer } from './support.js';
import { FIXTURES, ROOT } from '../support/objects.js';

const CHROMIUM = process.env.BPFSIGN_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-artifacts/console');
const OBJECT = join(FIXTURES, 'obj/maps.clang-el.o');

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
if (skip) console.log(`# console browser tests skipped: ${skip}`);

describe('the web console in chromium', { skip }, () => {
  let server: { url: string; proc: ChildProcess };
  let browser: import('playwright-core').BrowserContext;
  let page: import('playwright-core').Page;
  const tmp = mkdtempSync(join(tmpdir(), 'bpfsign-console-'));

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer({});
    // A fresh profile folder per run (playwright passes it as --user-data-dir).
    browser = await pw!.chromium.launchPersistentContext(join(tmp, 'profile'), {
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
    page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
  });
  after(async () => {
    await browser?.close();
    server?.proc.kill();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  it("shows the empty log's checkpoint as verified in the browser", async () => {
    await page.goto(server.url + '/');
    await page.getByText('VERIFIED', { exact: true }).first().waitFor();
    assert.match(await page.locator('#checkpoint-status').innerText(), /VERIFIED\s+Checkpoint signed by .*Ed25519/);
    assert.match(await page.locator('#checkpoint').innerText(), /Tree size\s+0/);
    assert.match(await page.locator('#entries').innerText(), /The log is empty/);
  });

  it('lists the keys with the certificates read in the page', async () => {
    const keys = page.getByRole('table', { name: 'Signing keys' });
    await keys.waitFor();
    assert.match(await keys.innerText(), /active\s+CN=bpfsign development signing key\s+CN=bpfsign development CA/);
  });

  it('signs a dropped object with the keyboard (Enter submits) and shows its manifest as tables', async () => {
    await page.getByLabel('BPF object (.o)').setInputFiles(OBJECT);
    await page.getByLabel('Name', { exact: true }).focus();
    await page.keyboard.type('maps');
    await page.keyboard.press('Enter');
    await page.locator('#sign-status').waitFor();
    assert.match(await page.locator('#sign-status').innerText(), /SIGNED\s+maps.clang-el.o as loader [0-9a-f-]{36}, log entry 0/);
    const programs = page.getByRole('table', { name: 'Programs' });
    await programs.waitFor();
    const text = await programs.innerText();
    for (const name of ['maps_exec', 'maps_connect4']) assert.match(text, new RegExp(name));
    assert.match(await page.getByRole('table', { name: 'Maps' }).innerText(), /ringbuf\s+RINGBUF/);
    assert.match(await page.getByRole('table', { name: 'Helpers' }).innerText(), /map_lookup_elem/);
    const manifest = await page.locator('#manifest-result').innerText();
    assert.match(manifest, /Scheme\s+linux-6.18/);
    assert.match(manifest, /Signer\s+VERIFIED\s+CN=bpfsign development signing key/);
    await shot('manifest');
  });

  it("shows the new entry with its inclusion proof verified over the entry's bytes", async () => {
    const entry = page.getByRole('article', { name: 'Log entry 0' });
    await entry.locator('.proof-status').getByText('INCLUDED').waitFor();
    assert.match(
      await entry.locator('.proof-status').innerText(),
      /Inclusion proof verified: leaf hash of the entry's bytes → root of the signed checkpoint of size 1/,
    );
    assert.match(await page.locator('#checkpoint').innerText(), /Tree size\s+1/);
    assert.match(await page.locator('#consistency-status').innerText(), /CONSISTENT\s+Extends the checkpoint of size 0/);
    await entry.getByRole('button', { name: 'Show the manifest of entry 0' }).click();
    await page.getByRole('table', { name: 'Programs' }).waitFor();
    await shot('log');
  });

  it('verifies a dropped bundle and shows the verdict as a checklist', async () => {
    const id = /loader ([0-9a-f-]{36})/.exec(await page.locator('#sign-status').innerText())![1];
    const bundle = await (await fetch(`${server.url}/v1/loaders/${id}`)).text();
    const file = join(tmp, 'maps.bundle.json');
    writeFileSync(file, bundle);
    await page.getByLabel('Bundle (.json) or header (.h)').setInputFiles(file);
    await page.getByLabel('BPF object (optional)').setInputFiles(OBJECT);
    await page.getByRole('button', { name: 'Verify', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#verdict').waitFor();
    assert.match(
      await page.locator('#verdict').innerText(),
      /^OK Verified — signed by CN=bpfsign development signing key, scheme linux-6.18/,
    );
    const checks = page.getByRole('list', { name: 'Checks' });
    const text = await checks.innerText();
    for (const c of ['signature', 'chain', 'manifest', 'transparencyLog', 'replay', 'object'])
      assert.match(text, new RegExp(`PASS\\s+${c} `), c);
    assert.doesNotMatch(text, /FAIL/);
    await shot('verdict-ok');
  });

  it('shows FAIL for the checks a tampered bundle breaks', async () => {
    const b = JSON.parse(readFileSync(join(tmp, 'maps.bundle.json'), 'utf8')) as { loader: { insns: string } };
    const insns = Buffer.from(b.loader.insns, 'base64');
    insns[insns.length - 1] ^= 1;
    b.loader.insns = insns.toString('base64');
    const file = join(tmp, 'tampered.bundle.json');
    writeFileSync(file, JSON.stringify(b));
    await page.getByLabel('Bundle (.json) or header (.h)').setInputFiles(file);
    await page.getByLabel('BPF object (optional)').setInputFiles([]);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('#verdict').getByText('BADSIG').or(page.locator('#verdict').getByText('MISMATCH')).waitFor();
    assert.match(await page.getByRole('list', { name: 'Checks' }).innerText(), /FAIL\s+signature /);
    await shot('verdict-fail');
  });

  it('says FAIL when the checkpoint or an entry does not match what the log key signed', async () => {
    const other = 'bpfsign.local/log+00000000+' + Buffer.concat([Buffer.of(1), Buffer.alloc(32, 7)]).toString('base64');
    await page.route('**/v1/keys', async (route) => {
      const r = await route.fetch();
      const k = (await r.json()) as { logKey: string };
      await route.fulfill({ response: r, json: { ...k, logKey: other } });
    });
    await page.reload();
    await page.locator('#checkpoint-status').getByText('FAIL').waitFor();
    assert.match(await page.locator('#checkpoint-status').innerText(), /NOT verified: log key hash 00000000 does not match its key/);
    await page.unroute('**/v1/keys');
    await page.route('**/v1/log/entries/0', async (route) => {
      const r = await route.fetch();
      const e = (await r.json()) as { body: string };
      await route.fulfill({ response: r, json: { ...e, body: Buffer.from('{"changed":true}').toString('base64') } });
    });
    await page.reload();
    const status = page.getByRole('article', { name: 'Log entry 0' }).locator('.proof-status');
    await status.getByText('FAIL').waitFor();
    assert.match(await status.innerText(), /NOT verified: leaf hash of the entry's bytes is [0-9a-f]{64}, the proof says/);
    await page.unroute('**/v1/log/entries/0');
    await shot('entry-tampered');
  });

  it('labels every control and reaches them all with Tab, with a visible focus ring', async () => {
    await page.goto(server.url + '/');
    await page.locator('#checkpoint-status').waitFor();
    await page.getByRole('article', { name: 'Log entry 0' }).locator('.proof-status').getByText('INCLUDED').waitFor();
    // The callbacks run in the page (DOM types are not in this project's lib: `any` there).

    const unlabelled = await page.$$eval('input, select, textarea', (els: any[]) =>
      els.filter((e) => e.labels?.length === 0).map((e) => e.id),
    );
    assert.deepEqual(unlabelled, []);
    const want = await page.$$eval('input, select, button, a[href]', (els: any[]) =>
      els.filter((e) => e.offsetParent !== null || e.classList.contains('skip')).map((e) => e.id || e.textContent.trim()),
    );
    const seen = new Set<string>();
    let ring = '';
    for (let i = 0; i < 300 && want.some((k) => !seen.has(k)); i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const e = (globalThis as any).document.activeElement;
        return { key: e.id || e.textContent.trim(), outline: (globalThis as any).getComputedStyle(e).outlineStyle as string };
      });
      seen.add(f.key);
      if (f.key === 'sign-name') ring = f.outline;
    }
    assert.deepEqual(
      want.filter((k) => !seen.has(k)),
      [],
    );
    assert.equal(ring, 'solid');
    await shot('keyboard');
  });
});
