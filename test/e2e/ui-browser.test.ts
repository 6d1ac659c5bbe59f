/**
 * The web UI in a real browser (Chromium via playwright-core) against a real
 * modelswap with fake upstreams: the Models page lists the demo models by
 * group, a load button loads a model and its state turns ready live, unload
 * stops it, the swap timeline draws swaps (from the server's recent past and
 * live), the playground streams an answer with the load progress as
 * reasoning, and with apiKeys set the key prompt appears and, once a good key
 * is entered, the page works. Every wait is for a DOM state, never a sleep.
 * Skipped, with the reason, where no Chromium is installed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { shellLine } from '../../src/server/ui-config.ts';
import { startFromYaml, type Started } from '../helpers/modelswap.ts';

const DEMO = readFileSync(new URL('../../demo/config.yaml', import.meta.url), 'utf8')
  .replace(/^(\s*fake:\s*)node src\/demo\/fake-llama-server\.ts\s*$/m, '$1${fake}')
  .replace(/^startPort: \d+\n/m, '')
  // shorter loads: the swaps stay visible, the test stays quick
  .replace('--load-ms 1500', '--load-ms 400');

const WAIT = 20_000;

/** The little of the DOM that functions run in the page use (the tests' types have no DOM). */
interface Doc { querySelector(selector: string): { textContent: string | null } | null }

let browser: Browser | undefined;
let skip: string | undefined;

before(async () => {
  const got = await launchBrowser();
  if ('skip' in got) skip = got.skip;
  else browser = got.browser;
});
after(() => browser?.close());

/** A fresh page (its own context: storage) on `app`; closed after the test. */
async function open(t: TestContext, app: Started, hash = ''): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  t.after(() => assert.deepEqual(errors, [], 'no uncaught error in the page'));
  await page.goto(`${app.url}/${hash === '' ? '' : `ui/${hash}`}`);
  return page;
}

const row = (model: string): string => `tr[data-model="${model}"]`;
const state = (model: string, s: string): string => `${row(model)} [data-state="${s}"]`;

describe('web UI in a browser', { timeout: 60_000 }, () => {
  test('the Models page shows the demo models by group; load turns a model ready live and unload stops it', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const app = await startFromYaml(t, DEMO);
    const page = await open(t, app);
    assert.match(page.url(), /\/ui\/$/, 'GET / redirects to the UI');
    await page.waitForSelector(row('embed'), { timeout: WAIT });
    assert.deepEqual(await page.$$eval('[data-group="chat"] tr[data-model]', (rows) => rows.map((r) => r.getAttribute('data-model'))), ['chat-small', 'chat-large']);
    assert.deepEqual(await page.$$eval('[data-group="embeddings"] tr[data-model]', (rows) => rows.map((r) => r.getAttribute('data-model'))), ['embed']);
    await page.waitForSelector('.conn.on', { timeout: WAIT });
    assert.equal(await page.textContent(`${row('chat-small')} [data-state]`), 'stopped');

    await page.click(`${row('chat-small')} button.load`);
    await page.waitForSelector(state('chat-small', 'ready'), { timeout: WAIT });
    assert.equal(app.router.status('chat-small'), 'ready');
    const pid = await page.textContent(`${row('chat-small')} td:nth-child(3)`);
    assert.equal(Number(pid), app.router.running().find((r) => r.model === 'chat-small')?.pid);
    assert.match(await page.textContent(`${row('chat-small')} .ttl`) ?? '', /\d+ s|min/, 'an idle model with a TTL counts down');

    await page.click(`${row('chat-small')} button.unload`);
    await page.waitForSelector(state('chat-small', 'stopped'), { timeout: WAIT });
    assert.equal(app.router.status('chat-small'), 'stopped');
    assert.equal(await page.textContent(`${row('chat-small')} td:nth-child(3)`), '–', 'no pid once stopped');
  });

  test('the swap timeline draws swaps from the recent past and live', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const app = await startFromYaml(t, DEMO);
    const load = async (m: string): Promise<void> => {
      const res = await fetch(`${app.url}/api/models/load/${m}`, { method: 'POST' });
      assert.equal(res.status, 200, await res.text());
    };
    // before the page opens: only the server's memory of the feed can show these
    await load('chat-small');
    await load('chat-large');
    const page = await open(t, app, '#/timeline');
    await page.waitForSelector('svg.timeline g.swap[data-swap="chat-small>chat-large"]', { state: 'attached', timeout: WAIT });
    assert.match(await page.textContent('table.swaps tbody') ?? '', /chat-small → chat-large/);
    // and live, while the page is open
    await load('chat-small');
    await page.waitForSelector('svg.timeline g.swap[data-swap="chat-large>chat-small"]', { state: 'attached', timeout: WAIT });
    assert.equal(await page.locator('table.swaps tbody tr').count(), 2);
    assert.equal(await page.locator('svg.timeline rect.resident.ready').count() >= 3, true, 'residency bars for both loads of chat-small and chat-large');
  });

  test('model detail shows the command as a shell line, recent requests and the live log; Activity lists the request', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const app = await startFromYaml(t, DEMO);
    const res = await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'chat-small', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(res.status, 200, await res.text());
    const page = await open(t, app, '#/model/chat-small');
    const config = await (await fetch(`${app.url}/api/ui/config`)).json() as { models: { id: string; cmd: string[] }[] };
    const argv = config.models.find((m) => m.id === 'chat-small')?.cmd ?? [];
    assert.ok(argv.includes('--model-id'));
    assert.equal(await page.textContent('[data-cmd]'), shellLine(argv));
    await page.locator('.log-view pre', { hasText: 'model loaded' }).waitFor({ timeout: WAIT });
    await page.waitForSelector('.model-page table tbody tr td.num', { timeout: WAIT });
    // the request is on the Activity page (its history, or the feed's where there is none)
    await page.click('nav a[href="#/activity"]');
    await page.locator('table.activity tr[data-request]', { hasText: 'chat-small' }).first().waitFor({ timeout: WAIT });
  });

  test('the playground streams an answer, with the load progress as reasoning', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const yaml = DEMO.replace('--token-ms 20', '--token-ms 80').replace('    ttl: 60\n', '    ttl: 60\n    sendLoadingState: true\n');
    assert.notEqual(yaml, DEMO);
    const app = await startFromYaml(t, yaml);
    const page = await open(t, app, '#/playground');
    await page.selectOption('select[aria-label="model"]', 'chat-small');
    await page.fill('.ask textarea', 'hello there');
    await page.click('.ask button[type="submit"]');
    // part of the answer shows while the stream still runs (the Stop button is up)
    // (a function, not a string: the page's content security policy forbids eval)
    await page.waitForFunction(() => {
      const doc = (globalThis as unknown as { document: Doc }).document;
      const c = doc.querySelector('.msg.assistant .content');
      return c !== null && c.textContent !== '' && doc.querySelector('.ask button[type="button"]') !== null;
    }, undefined, { timeout: WAIT });
    await page.waitForSelector('.ask button[type="submit"]', { timeout: WAIT });
    const answer = await page.textContent('.msg.assistant .content');
    assert.match(answer ?? '', /chat-small@/);
    assert.match(await page.textContent('.msg.assistant .reasoning') ?? '', /chat-small/, 'the load progress came as reasoning_content');
  });

  test('with apiKeys set the key prompt appears, a wrong key is refused, and with the right key the page works', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const app = await startFromYaml(t, `apiKeys: [ui-secret]\n${DEMO}`);
    const page = await open(t, app);
    await page.waitForSelector('input[name="apiKey"]', { timeout: WAIT });
    await page.fill('input[name="apiKey"]', 'wrong');
    await page.click('.key-prompt button[type="submit"]');
    await page.waitForSelector('.key-prompt .error', { timeout: WAIT });
    await page.fill('input[name="apiKey"]', 'ui-secret');
    await page.click('.key-prompt button[type="submit"]');
    await page.waitForSelector(row('chat-small'), { timeout: WAIT });
    assert.equal(await page.locator('.key-prompt').count(), 0);
    await page.click(`${row('embed')} button.load`);
    await page.waitForSelector(state('embed', 'ready'), { timeout: WAIT });
    assert.equal(await page.evaluate(() => localStorage.getItem('modelswap.apiKey')), 'ui-secret');
    // a reload keeps the key: no prompt
    await page.reload();
    await page.waitForSelector(state('embed', 'ready'), { timeout: WAIT });
    assert.equal(await page.locator('.key-prompt').count(), 0);
  });
});
