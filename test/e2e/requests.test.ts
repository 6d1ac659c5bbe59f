/** Bad requests, auth, admin endpoints and passthrough against a real modelswap. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'node:http';
import { postJson, startFromYaml, type Started } from '../helpers/modelswap.ts';

const YAML = `
apiKeys: [sekrit-key]
maxBodyBytes: 2048
models:
  m1:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
    aliases: [first]
  m2:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
`;

const AUTH = { authorization: 'Bearer sekrit-key' };

describe('requests', () => {
  let app: Started;
  before(async () => {
    app = await startFromYaml(undefined, YAML);
  });
  after(() => app.close(2000));

  const chat = (body: unknown, headers: Record<string, string> = AUTH) => postJson(`${app.url}/v1/chat/completions`, body, headers);

  test('/health is open without a key', async () => {
    const r = await fetch(`${app.url}/health`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'OK');
  });

  test('no key or a wrong key: 401 in OpenAI shape, on inference and admin routes alike', async () => {
    for (const [path, init] of [
      ['/v1/chat/completions', { method: 'POST', body: '{"model":"m1"}' }],
      ['/running', {}],
      ['/v1/models', {}],
      ['/logs', {}],
      ['/upstream/m1/health', {}],
    ] as const) {
      const r = await fetch(`${app.url}${path}`, { ...init, headers: { authorization: 'Bearer wrong' } });
      assert.equal(r.status, 401, path);
      const body = (await r.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'invalid_api_key');
    }
  });

  test('the key is accepted as Bearer, x-api-key and Basic password', async () => {
    const basic = `Basic ${Buffer.from('user:sekrit-key').toString('base64')}`;
    for (const headers of [AUTH, { 'x-api-key': 'sekrit-key' }, { authorization: basic }]) {
      const r = await fetch(`${app.url}/v1/models`, { headers });
      assert.equal(r.status, 200, JSON.stringify(headers));
    }
  });

  test('no model: 400 saying where to put it', async () => {
    const r = await chat({ messages: [] });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'model_required');
    assert.match(r.json.error.message, /model/);
  });

  test('model of the wrong type: 400', async () => {
    const r = await chat({ model: 42 });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /must be a string/);
  });

  test('malformed JSON: 400', async () => {
    const r = await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"model":' });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: { message: string; type: string } };
    assert.match(body.error.message, /not valid JSON/);
    assert.equal(body.error.type, 'invalid_request_error');
  });

  test('unknown model: 404 listing the available ids', async () => {
    const r = await chat({ model: 'gpt-9' });
    assert.equal(r.status, 404);
    assert.match(r.json.error.message, /m1, m2/);
  });

  test('body over maxBodyBytes: 413', async () => {
    const r = await chat({ model: 'm1', pad: 'x'.repeat(5000) });
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'request_too_large');
  });

  test('malformed percent-escapes in admin paths: 400, not 500', async () => {
    for (const [path, method] of [['/logs/stream/%E0', 'GET'], ['/api/models/unload/%E0', 'POST'], ['/upstream/%E0/x', 'GET']] as const) {
      const r = await fetch(`${app.url}${path}`, { method, headers: AUTH });
      assert.equal(r.status, 400, path);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, /percent-encoding/);
    }
  });

  test('HEAD /unload does not unload anything', async () => {
    await chat({ model: 'm1', messages: [{ role: 'user', content: 'x' }] });
    const r = await fetch(`${app.url}/unload`, { method: 'HEAD', headers: AUTH });
    assert.notEqual(r.status, 200);
    const running = (await (await fetch(`${app.url}/running`, { headers: AUTH })).json()) as { running: Array<{ model: string }> };
    assert.ok(running.running.some((x) => x.model === 'm1'), 'm1 still loaded');
  });

  test('413 closes the connection instead of reading the rest of the upload', async () => {
    const r = await chat({ model: 'm1', pad: 'x'.repeat(5000) });
    assert.equal(r.status, 413);
    assert.equal(r.headers.get('connection'), 'close');
  });

  test('unknown path: 404 JSON', async () => {
    const r = await fetch(`${app.url}/v2/nothing`, { headers: AUTH });
    assert.equal(r.status, 404);
  });

  test('model from ?model= on a JSON body without one', async () => {
    const r = await postJson(`${app.url}/v1/chat/completions?model=first`, { messages: [{ role: 'user', content: 'q' }] }, AUTH);
    assert.equal(r.status, 200);
    assert.equal(r.json.model, 'm1');
  });

  test('/upstream/<model>/<path> passes through (and starts the model); /upstream/<model> redirects', async () => {
    const r = await fetch(`${app.url}/upstream/m2/health`, { headers: AUTH });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-served-by')?.split('@')[0], 'm2');
    const redirect = await fetch(`${app.url}/upstream/m2`, { headers: AUTH, redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/upstream/m2/');
    // A raw path (fetch would normalize it client-side): `..` must not escape the model's prefix.
    const traversal = await rawGet(`${app.url}`, '/upstream/m2/../../running', AUTH);
    assert.equal(traversal.headers['x-served-by'], undefined);
    assert.equal(traversal.status, 200); // normalized to /running, answered by modelswap itself
    const unknown = await fetch(`${app.url}/upstream/zzz/health`, { headers: AUTH });
    assert.equal(unknown.status, 404);
  });

  test('/running shows state and counts; unload one, then all', async () => {
    await chat({ model: 'm1', messages: [{ role: 'user', content: 'x' }] });
    const r1 = (await (await fetch(`${app.url}/running`, { headers: AUTH })).json()) as { running: Array<{ model: string; state: string; inFlight: number; queued: number }> };
    const m1 = r1.running.find((r) => r.model === 'm1');
    assert.deepEqual({ state: m1?.state, inFlight: m1?.inFlight, queued: m1?.queued }, { state: 'ready', inFlight: 0, queued: 0 });

    const one = await fetch(`${app.url}/api/models/unload/first`, { method: 'POST', headers: AUTH });
    assert.equal(one.status, 200);
    const r2 = (await (await fetch(`${app.url}/running`, { headers: AUTH })).json()) as { running: Array<{ model: string }> };
    assert.ok(!r2.running.some((r) => r.model === 'm1'));

    const missing = await fetch(`${app.url}/api/models/unload/ghost`, { method: 'POST', headers: AUTH });
    assert.equal(missing.status, 404);

    await chat({ model: 'm2', messages: [{ role: 'user', content: 'x' }] });
    const apiAll = await fetch(`${app.url}/api/models/unload`, { method: 'POST', headers: AUTH });
    assert.deepEqual(await apiAll.json(), { msg: 'ok' });
    const afterApi = (await (await fetch(`${app.url}/running`, { headers: AUTH })).json()) as { running: unknown[] };
    assert.deepEqual(afterApi.running, []);

    await chat({ model: 'm2', messages: [{ role: 'user', content: 'x' }] });
    const all = await fetch(`${app.url}/unload`, { headers: AUTH });
    assert.equal(await all.text(), 'OK');
    const r3 = (await (await fetch(`${app.url}/running`, { headers: AUTH })).json()) as { running: unknown[] };
    assert.deepEqual(r3.running, []);
  });

  test('/logs has the proxy log; /logs/stream/<model> sends history then live; unknown id 400', async () => {
    await chat({ model: 'm2', messages: [{ role: 'user', content: 'log me' }] });
    const logs = await (await fetch(`${app.url}/logs`, { headers: AUTH })).text();
    assert.match(logs, /modelswap listening/);
    const bad = await fetch(`${app.url}/logs/stream/nope`, { headers: AUTH });
    assert.equal(bad.status, 400);
    const ac = new AbortController();
    const stream = await fetch(`${app.url}/logs/stream/m2`, { headers: AUTH, signal: ac.signal });
    const reader = stream.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.ok(first.length > 0, 'history should be sent first');
    ac.abort();
  });
});

function rawGet(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown> }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
