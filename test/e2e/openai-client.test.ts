/**
 * The official `openai` client against modelswap, which starts three real
 * fake-llama-server processes on demand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { startFromYaml, type Started } from '../helpers/modelswap.ts';

const YAML = `
healthCheckTimeout: 20
routing:
  scheduler:
    use: fifo
groups:
  chat:
    swap: true
    members: [chat-a, chat-b]
  tools:
    swap: false
    exclusive: false
    members: [embed, whisper]
models:
  chat-a:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --load-ms 100 --tokens 8
    aliases: [gpt-4o-mini]
    name: Chat A
    description: first chat model
    metadata: { family: fake, params: 9 }
  chat-b:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 5
  embed:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
    useModelName: upstream-embed-name
  whisper:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
    unlisted: true
`;

describe('openai client through modelswap', () => {
  let app: Started;
  let client: OpenAI;

  before(async () => {
    app = await startFromYaml(undefined, YAML);
    client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
  });
  after(() => app.close(2000));

  test('plain chat completion is served by the requested model (via alias)', async () => {
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, 'chat-a');
    assert.match(r.choices[0]?.message.content ?? '', /\[chat-a@\d+\]/);
    assert.ok((r.usage?.completion_tokens ?? 0) > 0);
  });

  test('streaming chat arrives as separate chunks ending with a finish reason', async () => {
    const stream = await client.chat.completions.create({
      model: 'chat-b', stream: true, messages: [{ role: 'user', content: 'stream please' }],
    });
    let text = '';
    let chunks = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.ok(chunks >= 5, `expected at least 5 chunks, got ${chunks}`);
    assert.equal(finish, 'stop');
    assert.match(text, /chat-b@\d+/);
  });

  test('chat-a and chat-b share a swap group: loading one stopped the other', async () => {
    const running = async (): Promise<string[]> =>
      ((await (await fetch(`${app.url}/running`)).json()) as { running: { model: string }[] }).running.map((r) => r.model);
    const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'swap' }] });
    assert.equal((await ask('chat-a')).model, 'chat-a');
    const afterA = await running();
    assert.ok(afterA.includes('chat-a') && !afterA.includes('chat-b'), `only chat-a of the group is loaded: ${JSON.stringify(afterA)}`);
    assert.equal((await ask('chat-b')).model, 'chat-b');
    const afterB = await running();
    assert.ok(afterB.includes('chat-b'), `chat-b is loaded: ${JSON.stringify(afterB)}`);
    assert.ok(!afterB.includes('chat-a'), `chat-a should have been evicted: ${JSON.stringify(afterB)}`);
  });

  test('embeddings: one vector per input; useModelName rewrites the forwarded model', async () => {
    const r = await client.embeddings.create({ model: 'embed', input: ['one', 'two', 'three'] });
    assert.equal(r.data.length, 3);
    assert.ok(r.data.every((d) => Array.isArray(d.embedding) && d.embedding.length > 0));
    const raw = await fetch(`${app.url}/v1/embeddings`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'embed', input: 'x' }),
    });
    const body = (await raw.json()) as { requested_model?: string };
    assert.equal(body.requested_model, 'upstream-embed-name');
  });

  test('transcription upload: the model comes from the form and the file arrives intact', async () => {
    const audio = Buffer.alloc(123_457, 7);
    const r = await client.audio.transcriptions.create({ model: 'whisper', file: await toFile(audio, 'a.wav') });
    assert.match(r.text, /123457/);
    assert.match(r.text, /whisper/);
  });

  test('model list: listed models with name, description, metadata; unlisted hidden', async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    assert.deepEqual(ids, ['chat-a', 'chat-b', 'embed']);
    const a = page.data.find((m) => m.id === 'chat-a') as unknown as { name: string; description: string; meta: { llamaswap: Record<string, unknown> } };
    assert.equal(a.name, 'Chat A');
    assert.equal(a.description, 'first chat model');
    assert.equal(a.meta.llamaswap['params'], 9);
  });

  test('unknown model: 404 naming the available models', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && /chat-a/.test(err.message),
    );
  });
});
