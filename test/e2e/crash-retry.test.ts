/**
 * No 502 after a crash: a server that dies mid-stream leaves its model
 * "ready" for a few ms until Node reports the exit. A request sent in that
 * window meets a refused (or reset) connection; modelswap confirms the exit
 * and puts the request back through the router, which restarts the model.
 * A server that is up and refuses still gets the 502, with its last log lines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { postJson, startFromYaml, until } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';

const ROUNDS = 20;

test(`a request sent the moment a crashed stream ends is served by a restarted model (${ROUNDS} rounds, no failure)`, { timeout: 120_000 }, async (t) => {
  const app = await startFromYaml(t, `
routing: { scheduler: { use: fifo } }
models:
  crashy:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 40 --crash-after-chunks 20
`);
  // No SDK retries: the proxy alone must get every request through.
  const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const failures: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const stream = await client.chat.completions.create({ model: 'crashy', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let chunks = 0;
    await assert.rejects((async () => {
      for await (const _ of stream) chunks++;
    })(), 'the crash cuts the stream');
    assert.ok(chunks > 0, 'the stream had started');
    // At once, while the model may still look ready.
    try {
      const r = await client.chat.completions.create({ model: 'crashy', messages: [{ role: 'user', content: 'again' }] });
      assert.equal(r.model, 'crashy');
    } catch (err) {
      failures.push(`round ${round}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
  // The retries happened in the proxy, not in the client: the log says so when they did.
  const restarts = (app.logs.proxy.history().match(/starting upstream/g) ?? []).length;
  assert.ok(restarts >= ROUNDS, `the model was restarted after each crash (${restarts} starts)`);
});

test('a server that is up but refuses connections gets a 502 naming that, with its last log lines', { timeout: 30_000 }, async (t) => {
  // The server runs (and needs no health check) on one port; the model's proxy points at the next one, where nobody listens.
  const port = await freePortRange(2);
  const app = await startFromYaml(t, `
models:
  refuser:
    cmd: \${fake} --port ${port}
    proxy: http://127.0.0.1:${port + 1}
    checkEndpoint: none
`);
  // Started, and its first lines logged, before the request meets the closed port.
  (await app.router.acquire('refuser')).release();
  await until(() => /server is listening/.test(app.logs.model('refuser').history()), 10_000, 'the server to log that it listens');
  const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'refuser', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.status, 502);
  assert.match(r.json.error.message, /ECONNREFUSED/);
  assert.match(r.json.error.message, /running but refuses connections/);
  assert.match(r.json.error.message, /last log lines:\n.*server is listening/s);
});
