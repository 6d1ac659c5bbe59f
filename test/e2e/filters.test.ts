/**
 * A model's `filters` end to end: the official `openai` client sends through
 * modelswap to a real fake-llama-server started with --echo-body, which
 * answers with the body it received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { postJson, startFromYaml, type Started } from '../helpers/modelswap.ts';

const YAML = `
models:
  chat:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --echo-body
    useModelName: upstream-chat
    filters:
      stripParams: "temperature, top_p, model"
      setParams:
        model: never-set
        top_k: 40
        chat_template_kwargs: { enable_thinking: true }
      setParamsByID:
        "\${MODEL_ID}":
          seed: 1
        "\${MODEL_ID}:high":
          chat_template_kwargs: { reasoning_effort: high }
          top_k: 80
  legacy:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --echo-body
    filters:
      strip_params: "max_tokens"
`;

type Echo = { received_body: Record<string, unknown> };

describe('filters through modelswap (openai client, fake upstream)', () => {
  let app: Started;
  let client: OpenAI;

  before(async () => {
    app = await startFromYaml(undefined, YAML);
    client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
  });
  after(() => app.close(2000));

  test('stripParams, setParams and the model id\'s setParamsByID entry shape the forwarded body; model is protected', async () => {
    const r = (await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.2,
      top_p: 0.5,
      max_tokens: 4,
    })) as unknown as Echo;
    assert.deepEqual(r.received_body, {
      model: 'upstream-chat',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
      top_k: 40,
      chat_template_kwargs: { enable_thinking: true },
      seed: 1,
    });
  });

  test('a setParamsByID key is an alias: it routes to the model and its params win, merged into the client\'s objects', async () => {
    const body = {
      model: 'chat:high',
      messages: [{ role: 'user', content: 'think' }],
      chat_template_kwargs: { keep: 'me' },
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const r = (await client.chat.completions.create(body)) as unknown as Echo;
    assert.deepEqual(r.received_body, {
      model: 'upstream-chat',
      messages: [{ role: 'user', content: 'think' }],
      chat_template_kwargs: { keep: 'me', enable_thinking: true, reasoning_effort: 'high' },
      top_k: 80,
    });
  });

  test('the legacy strip_params works, and a body with nothing to change is forwarded byte for byte', async () => {
    const raw = '{"model":"legacy","prompt":"x","seed":12345678901234567890,"max_tokens":3}';
    const res = await fetch(`${app.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
    const json = (await res.json()) as Echo;
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(json.received_body), ['model', 'prompt', 'seed']);
    const same = '{ "model" : "legacy", "query": "q", "documents": ["d"] }';
    const echo = await fetch(`${app.url}/v1/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: same });
    assert.equal(((await echo.json()) as { body_bytes: number }).body_bytes, Buffer.byteLength(same));
  });

  test('/upstream passthrough is not filtered', async () => {
    const r = await postJson(`${app.url}/upstream/chat/v1/chat/completions`, { model: 'chat', messages: [], temperature: 0.2 });
    assert.equal(r.status, 200);
    assert.deepEqual((r.json as Echo).received_body, { model: 'chat', messages: [], temperature: 0.2 });
  });

  test('/v1/models lists the setParamsByID id and names it among the model\'s aliases', async () => {
    const list = await client.models.list();
    const ids = list.data.map((m) => m.id);
    assert.deepEqual(ids, ['chat', 'chat:high', 'legacy']);
    const chat = list.data.find((m) => m.id === 'chat') as unknown as { meta: { llamaswap: { aliases: string[] } } };
    assert.deepEqual(chat.meta.llamaswap.aliases, ['chat:high']);
  });
});
