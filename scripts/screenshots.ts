/**
 * `npm run screenshots`: regenerate docs/screenshots/*.png, one per UI page,
 * from a real modelswap on the demo config (on a free port) after some
 * traffic that swaps the chat models back and forth, in headless Chromium.
 * Needs Debian's chromium (or CHROMIUM_PATH).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/load.ts';
import { startModelswap } from '../src/main.ts';
import { launchBrowser } from '../test/helpers/browser.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = `${ROOT}docs/screenshots`;
const FAKE = `${process.execPath} ${ROOT}src/demo/fake-llama-server.ts`;

// the demo config, with chat-large sending its load progress to streaming chats (the playground shows it)
const yaml = readFileSync(`${ROOT}demo/config.yaml`, 'utf8')
  .replace(/^(\s*fake:\s*).*$/m, `$1${FAKE}`)
  .replace(/^startPort: \d+$/m, 'startPort: 5880')
  .replace(/^(\s*)aliases: \[gpt-4o\]$/m, '$1aliases: [gpt-4o]\n$1sendLoadingState: true');
if (!yaml.includes('sendLoadingState')) throw new Error('the demo config no longer has chat-large as this script expects');
const app = await startModelswap({ config: parseConfig(yaml, { env: process.env }), port: 0, stdout: () => {} });
const got = await launchBrowser();
if ('skip' in got) {
  await app.close();
  console.error(got.skip);
  process.exit(1);
}
const { browser } = got;
try {
  const post = async (path: string, body?: unknown): Promise<void> => {
    const res = await fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    await res.text();
  };
  const chat = (model: string): Promise<void> => post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hello' }] });

  // traffic: a few requests, swaps between the chat models, the embedding model beside them
  await post('/api/models/load/chat-small');
  await Promise.all([chat('chat-small'), chat('chat-small'), chat('chat-small')]);
  await Promise.all([chat('chat-large'), post('/v1/embeddings', { model: 'embed', input: 'hi' })]);
  await Promise.all([chat('chat-small'), chat('chat-large')]);
  await chat('chat-small');
  await chat('chat-large');

  mkdirSync(OUT, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  const shot = async (hash: string, name: string, ready: string): Promise<void> => {
    await page.goto(`${app.url}/ui/${hash}`);
    await page.waitForSelector(ready, { state: 'attached' });
    await page.waitForSelector('.conn.on');
    await page.screenshot({ path: `${OUT}/${name}.png` });
    console.log(`docs/screenshots/${name}.png`);
  };

  // the Models page during a swap: chat-small loading, chat-large being stopped
  await page.goto(`${app.url}/ui/#/models`);
  await page.waitForSelector('.conn.on');
  const loading = chat('chat-small');
  await page.waitForSelector('tr[data-model="chat-small"] [data-state="starting"]');
  await page.waitForSelector('tr[data-model="chat-small"] .loadbar');
  await page.screenshot({ path: `${OUT}/models.png` });
  console.log('docs/screenshots/models.png');
  await loading;

  await shot('#/timeline', 'timeline', 'svg.timeline g.swap');
  await shot('#/activity', 'activity', 'table.activity tr[data-request]');
  await shot('#/model/chat-large', 'model', '.log-view pre');
  await shot('#/logs', 'logs', '.log-view pre');

  // chat-large is stopped now (the swap above): the answer comes after its load progress
  await page.goto(`${app.url}/ui/#/playground`);
  await page.selectOption('select[aria-label="model"]', 'chat-large');
  await page.fill('.ask textarea', 'Tell me about model swapping.');
  await page.click('.ask button[type="submit"]');
  await page.waitForSelector('.ask button[type="submit"]');
  await page.screenshot({ path: `${OUT}/playground.png` });
  console.log('docs/screenshots/playground.png');
} finally {
  await browser.close();
  await app.close();
}
