/**
 * Optional: the same flows against a real llama.cpp `llama-server`.
 * Runs only with LLAMA_SERVER=/path/to/llama-server (and optionally
 * LLAMA_MODEL=/path/to/model.gguf, default ../shared/models/tiny-9m.gguf).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startFromYaml, type Started } from '../helpers/modelswap.ts';

const server = process.env['LLAMA_SERVER'];
const model = process.env['LLAMA_MODEL'] ?? fileURLToPath(new URL('../../../shared/models/tiny-9m.gguf', import.meta.url));
const skip = server === undefined
  ? 'set LLAMA_SERVER=/path/to/llama-server to run against a real llama.cpp server'
  : !existsSync(server) ? `LLAMA_SERVER=${server} does not exist`
  : !existsSync(model) ? `model ${model} not found (set LLAMA_MODEL)` : false;

describe('real llama-server behind modelswap', { skip }, () => {
  let app: Started;
  let client: OpenAI;
  before(async () => {
    app = await startFromYaml(undefined, `
healthCheckTimeout: 60
macros:
  server: ${server} -m ${model} --host 127.0.0.1 --port \${PORT} -c 512 -t 1 --alias \${MODEL_ID}
models:
  tiny-a:
    cmd: \${server}
  tiny-b:
    cmd: \${server}
`);
    client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => app?.close(5000));

  test('a chat completion is served once the server is healthy', async () => {
    const r = await client.chat.completions.create({ model: 'tiny-a', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, 'tiny-a');
    assert.ok((r.usage?.completion_tokens ?? 0) > 0);
  });

  test('a stream arrives in chunks and ends', async () => {
    const stream = await client.chat.completions.create({
      model: 'tiny-a', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'count' }],
    });
    let chunks = 0;
    for await (const c of stream) if ((c.choices[0]?.delta.content ?? '') !== '') chunks += 1;
    assert.ok(chunks >= 8, `got ${chunks} content chunks`);
  });

  test('asking for the other model swaps (serial: one resident)', async () => {
    const r = await client.chat.completions.create({ model: 'tiny-b', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, 'tiny-b');
    const running = (await (await fetch(`${app.url}/running`)).json()) as { running: Array<{ model: string; state: string }> };
    assert.deepEqual(running.running.map((x) => [x.model, x.state]), [['tiny-b', 'ready']]);
  });

  test('unload stops the server', async () => {
    assert.equal(await (await fetch(`${app.url}/unload`)).text(), 'OK');
    const running = (await (await fetch(`${app.url}/running`)).json()) as { running: unknown[] };
    assert.deepEqual(running.running, []);
  });
});
