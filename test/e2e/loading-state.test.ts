/**
 * sendLoadingState: a streaming chat client whose model must load sees the
 * load's progress as reasoning_content (what loads, what it evicts, elapsed,
 * an estimate from earlier loads), then the real answer in the same stream.
 * Non-streaming clients, and models without the setting, are unaffected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startFromYaml } from '../helpers/modelswap.ts';

const msg = [{ role: 'user' as const, content: 'hello' }];

/** The reasoning text and the content text of a stream. */
async function read(client: OpenAI, model: string): Promise<{ reasoning: string; content: string }> {
  const stream = await client.chat.completions.create({ model, stream: true, messages: msg });
  let reasoning = '';
  let content = '';
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
    reasoning += delta?.reasoning_content ?? '';
    content += delta?.content ?? '';
  }
  return { reasoning, content };
}

test('a streaming client sees the load (what it evicts, progress, an estimate the second time), then the answer', { timeout: 60_000 }, async (t) => {
  const app = await startFromYaml(t, `
sendLoadingState: true
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a --load-ms 1200 --tokens 4" }
  b: { cmd: "\${fake} --port \${PORT} --model-id b --tokens 4" }
`);
  const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const first = await read(client, 'a');
  assert.match(first.reasoning, /loading a/);
  assert.match(first.reasoning, /… \d+\.\d s/, 'progress about every second');
  assert.match(first.reasoning, /a ready after \d+\.\d s/);
  assert.ok(first.content.length > 0, 'the real answer follows in the same stream');
  // b evicts a (serial): the stream says so.
  const second = await read(client, 'b');
  assert.match(second.reasoning, /stopping a/);
  // a again: now there is an estimate from its first load.
  const third = await read(client, 'a');
  assert.match(third.reasoning, /usually ready in ~\d+\.\d s/);
  // Ready now: nothing extra.
  const ready = await read(client, 'a');
  assert.equal(ready.reasoning, '');
  assert.ok(ready.content.length > 0);
});

test('non-streaming clients and models with sendLoadingState off get no loading text', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
models:
  quiet: { cmd: "\${fake} --port \${PORT} --model-id quiet --load-ms 300" }
  chatty: { cmd: "\${fake} --port \${PORT} --model-id chatty --load-ms 300", sendLoadingState: true }
`);
  const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'x', maxRetries: 0 });
  assert.equal((await read(client, 'quiet')).reasoning, '', 'off by default');
  const plain = await client.chat.completions.create({ model: 'chatty', messages: msg });
  assert.equal((plain.choices[0]!.message as { reasoning_content?: string }).reasoning_content, undefined);
  assert.equal(plain.model, 'chatty');
  await app.router.unload(['chatty']);
  assert.match((await read(client, 'chatty')).reasoning, /loading chatty/, 'the per-model setting turns it on');
});

test('a load that fails ends the stream with an error event after the loading text', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
sendLoadingState: true
models:
  broken: { cmd: "\${fake} --port \${PORT} --exit-at-start 3" }
`);
  const res = await fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'broken', stream: true, messages: msg }),
  });
  assert.equal(res.status, 200, 'the stream had started');
  const text = await res.text();
  assert.match(text, /reasoning_content/);
  assert.match(text, /data: \{"error":\{"message":"model \\"broken\\" exited during start/);
  assert.doesNotMatch(text, /\[DONE\]/);
  // The SDK surfaces it as an error.
  const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'x', maxRetries: 0 });
  await assert.rejects(read(client, 'broken'), /exited during start/);
});
