/**
 * The model-dispatched routes llama-swap clients call beyond chat: image
 * edits, voices, stable-diffusion.cpp's API, /props, audio.cpp's task API,
 * the versionless /v/… routes and Anthropic's count_tokens. Each request
 * goes through a real modelswap to a real fake-llama-server, which echoes
 * the path (and query) and model it received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { postJson, startFromYaml, type Started } from '../helpers/modelswap.ts';

const KEY = 'routes-key';
const AUTH = { authorization: `Bearer ${KEY}` };

const YAML = `
apiKeys: [${KEY}]
models:
  m1:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 3
    aliases: [first]
  sd:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
    useModelName: upstream-sd
`;

interface Echo {
  object: string;
  method: string;
  path: string;
  url?: string;
  model: string;
  requested_model: string | null;
}

describe('model-dispatched routes', () => {
  let app: Started;
  let client: OpenAI;
  before(async () => {
    app = await startFromYaml(undefined, YAML);
    client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 30_000 });
  });
  after(() => app.close(2000));

  const get = async (path: string, headers: Record<string, string> = AUTH): Promise<{ status: number; json: any }> => {
    const r = await fetch(`${app.url}${path}`, { headers });
    const text = await r.text();
    return { status: r.status, json: JSON.parse(text) };
  };

  test('POST /v1/images/edits (SDK, multipart): the model comes from the form; the upload reaches the upstream', async () => {
    const image = await toFile(Buffer.alloc(3000, 7), 'cat.png', { type: 'image/png' });
    const r = (await client.images.edit({ model: 'first', image, prompt: 'add a hat' })) as unknown as { model: string; path: string; requested_model: string; bytes: number; filename: string };
    assert.equal(r.model, 'm1', 'served by m1 (alias resolved)');
    assert.equal(r.path, '/v1/images/edits');
    assert.equal(r.requested_model, 'first');
    assert.equal(r.bytes, 3000);
    assert.equal(r.filename, 'cat.png');
  });

  test('POST /v1/images/edits with useModelName: the form field is rewritten', async () => {
    const image = await toFile(Buffer.from('png'), 'x.png', { type: 'image/png' });
    const r = (await client.images.edit({ model: 'sd', image, prompt: 'p' })) as unknown as { model: string; requested_model: string };
    assert.equal(r.model, 'sd');
    assert.equal(r.requested_model, 'upstream-sd');
  });

  test('POST /v1/images/edits: malformed multipart, no model field, unknown model are clear errors', async () => {
    const post = (body: string, ct: string) => fetch(`${app.url}/v1/images/edits`, { method: 'POST', headers: { ...AUTH, 'content-type': ct }, body });
    const truncated = await post('--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm1', 'multipart/form-data; boundary=b');
    assert.equal(truncated.status, 400);
    const t = (await truncated.json()) as { error: { code: string; message: string } };
    assert.equal(t.error.code, 'bad_request');
    assert.match(t.error.message, /multipart/);
    const noBoundary = await post('whatever', 'multipart/form-data');
    assert.equal(noBoundary.status, 400);
    assert.match(((await noBoundary.json()) as { error: { message: string } }).error.message, /multipart/);
    const noModel = await post('--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi\r\n--b--\r\n', 'multipart/form-data; boundary=b');
    assert.equal(noModel.status, 400);
    assert.equal(((await noModel.json()) as { error: { code: string } }).error.code, 'model_required');
    const unknown = await post('--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nnope\r\n--b--\r\n', 'multipart/form-data; boundary=b');
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'model_not_found');
  });

  test('GET /v1/audio/voices?model= and POST /v1/audio/voices (JSON) both reach the model', async () => {
    const g = await get('/v1/audio/voices?model=first');
    assert.equal(g.status, 200);
    const ge = g.json as Echo;
    assert.deepEqual([ge.method, ge.url, ge.model], ['GET', '/v1/audio/voices?model=first', 'm1']);
    const p = await postJson(`${app.url}/v1/audio/voices`, { model: 'm1' }, AUTH);
    assert.equal(p.status, 200);
    assert.deepEqual([p.json.method, p.json.path, p.json.model, p.json.requested_model], ['POST', '/v1/audio/voices', 'm1', 'm1']);
  });

  test('stable-diffusion.cpp API: txt2img and img2img (JSON model), loras (?model=)', async () => {
    for (const path of ['/sdapi/v1/txt2img', '/sdapi/v1/img2img']) {
      const r = await postJson(`${app.url}${path}`, { model: 'sd', prompt: 'a lighthouse', steps: 4 }, AUTH);
      assert.equal(r.status, 200, path);
      assert.deepEqual([r.json.path, r.json.model, r.json.requested_model], [path, 'sd', 'upstream-sd'], path);
    }
    const loras = await get('/sdapi/v1/loras?model=sd');
    assert.equal(loras.status, 200);
    assert.equal((loras.json as Echo).path, '/sdapi/v1/loras');
    assert.equal((loras.json as Echo).model, 'sd');
    // useModelName applies to the query as it does to bodies.
    assert.equal((loras.json as Echo).requested_model, 'upstream-sd');
  });

  test('GET /props?model= is forwarded with its query; without ?model= a 400 naming the parameter; unknown 404', async () => {
    const r = await get('/props?model=first');
    assert.equal(r.status, 200);
    assert.deepEqual([(r.json as Echo).url, (r.json as Echo).model], ['/props?model=first', 'm1']);
    for (const path of ['/props', '/props?model=', '/sdapi/v1/loras', '/v1/audio/voices']) {
      const bare = await get(path);
      assert.equal(bare.status, 400, path);
      assert.equal(bare.json.error.code, 'model_required', path);
      assert.match(bare.json.error.message, /\?model=/, path);
    }
    const unknown = await get('/props?model=nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'model_not_found');
  });

  test('POST /audioapi/v1/tasks/run reaches the upstream as /v1/tasks/run', async () => {
    const r = await postJson(`${app.url}/audioapi/v1/tasks/run?x=1`, { model: 'm1', task: 'tts' }, AUTH);
    assert.equal(r.status, 200);
    assert.deepEqual([r.json.method, r.json.path, r.json.model], ['POST', '/v1/tasks/run', 'm1']);
  });

  test('versionless /v/…: the SDK with base URL /v works, and the upstream receives the path without /v', async () => {
    const v = new OpenAI({ baseURL: `${app.url}/v`, apiKey: KEY, maxRetries: 0, timeout: 30_000 });
    // The fake serves chat, completions and embeddings on /chat/completions… and answers 404 to /v/…, so these passing proves the /v went.
    const chat = await v.chat.completions.create({ model: 'first', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(chat.choices[0]?.message.content ?? '', /\[m1@\d+\]/);
    const text = await v.completions.create({ model: 'm1', prompt: 'once' });
    assert.match(text.choices[0]?.text ?? '', /\[m1@\d+\]/);
    const emb = await v.embeddings.create({ model: 'm1', input: 'x' });
    assert.equal(emb.data.length, 1);
    for (const [path, upstream] of [
      ['/v/responses', '/responses'], ['/v/messages', '/messages'], ['/v/messages/count_tokens', '/messages/count_tokens'],
      ['/v/rerank', '/rerank'], ['/v/reranking', '/reranking'],
    ]) {
      const r = await postJson(`${app.url}${path}`, { model: 'first', input: 'x' }, AUTH);
      assert.equal(r.status, 200, path);
      assert.deepEqual([r.json.path, r.json.model, r.json.requested_model], [upstream, 'm1', 'first'], path);
    }
  });

  test('POST /v1/messages/count_tokens is forwarded as is, model from the body', async () => {
    const r = await postJson(`${app.url}/v1/messages/count_tokens`, { model: 'first', messages: [{ role: 'user', content: 'count me' }] }, { ...AUTH, 'anthropic-version': '2023-06-01' });
    assert.equal(r.status, 200);
    assert.deepEqual([r.json.path, r.json.model, r.json.requested_model], ['/v1/messages/count_tokens', 'm1', 'first']);
  });

  test('every new model route needs the API key', async () => {
    const routes: Array<[string, string]> = [
      ['POST', '/v1/images/edits'], ['POST', '/v1/audio/voices'], ['GET', '/v1/audio/voices?model=m1'],
      ['POST', '/sdapi/v1/txt2img'], ['POST', '/sdapi/v1/img2img'], ['GET', '/sdapi/v1/loras?model=m1'], ['GET', '/props?model=m1'],
      ['POST', '/audioapi/v1/tasks/run'], ['POST', '/v/chat/completions'], ['POST', '/v/messages/count_tokens'], ['POST', '/v1/messages/count_tokens'],
    ];
    for (const [method, path] of routes) {
      const r = await fetch(`${app.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{"model":"m1"}' : undefined });
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'invalid_api_key', `${method} ${path}`);
    }
  });
});
