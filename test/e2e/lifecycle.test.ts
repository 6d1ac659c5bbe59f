/** Start failures, crashes, cancellation, TTL and preload, with real upstream processes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postJson, startFromYaml, until } from '../helpers/modelswap.ts';

const msg = [{ role: 'user', content: 'x' }];

type RunningRow = { model: string; state: string; inFlight: number; queued: number };
async function running(url: string): Promise<RunningRow[]> {
  return ((await (await fetch(`${url}/running`)).json()) as { running: RunningRow[] }).running;
}

test('a server that exits during load: 502 with its last log lines; the next request retries', async (t) => {
  const app = await startFromYaml(t, `
models:
  broken:
    cmd: \${fake} --port \${PORT} --exit-at-start 3
`);
  const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'broken', messages: msg });
  assert.equal(r.status, 502);
  assert.equal(r.json.error.code, 'upstream_start_failed');
  assert.match(r.json.error.message, /failed to load model/);
  const again = await postJson(`${app.url}/v1/chat/completions`, { model: 'broken', messages: msg });
  assert.equal(again.status, 502, 'no sticky failed state: the second request tried again');
});

test('a command that does not exist: 502 naming it', async (t) => {
  const app = await startFromYaml(t, `
models:
  ghost:
    cmd: /nonexistent/llama-server --port \${PORT}
`);
  const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'ghost', messages: msg });
  assert.equal(r.status, 502);
  assert.match(r.json.error.message, /\/nonexistent\/llama-server/);
});

test('never healthy: every waiter gets 503 at healthCheckTimeout and the process is stopped', async (t) => {
  const app = await startFromYaml(t, `
healthCheckTimeout: 1
routing: { scheduler: { use: fifo } }
models:
  slow:
    cmd: \${fake} --port \${PORT} --load-ms 60000
`);
  const [a, b] = await Promise.all([
    postJson(`${app.url}/v1/chat/completions`, { model: 'slow', messages: msg }),
    postJson(`${app.url}/v1/chat/completions`, { model: 'slow', messages: msg }),
  ]);
  for (const r of [a, b]) {
    assert.equal(r.status, 503);
    assert.match(r.json.error.message, /health check timed out/);
  }
  assert.deepEqual(await running(app.url), []);
});

test('crash mid-stream: the client response ends promptly, the model is stopped, the next request restarts it', async (t) => {
  const app = await startFromYaml(t, `
models:
  crashy:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 50 --token-ms 5 --crash-after-chunks 5
`);
  const started = Date.now();
  const res = await fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'crashy', stream: true, messages: msg }),
  });
  assert.equal(res.status, 200);
  await assert.rejects(res.text(), 'a cut stream must surface as an error, not a clean end');
  assert.ok(Date.now() - started < 5000, 'no hang');
  await until(async () => (await running(app.url)).length === 0, 5000, 'crashed model to be marked stopped');
  const again = await postJson(`${app.url}/v1/chat/completions`, { model: 'crashy', messages: msg });
  assert.equal(again.status, 200);
  assert.equal(again.json.model, 'crashy');
});

test('a client that disconnects while its model loads is never granted, and the unwanted load is stopped (llama-swap #727)', async (t) => {
  const app = await startFromYaml(t, `
models:
  loader:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --load-ms 2000
`);
  const ac = new AbortController();
  const pending = fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'loader', messages: msg }), signal: ac.signal,
  });
  await until(async () => (await running(app.url)).some((r) => r.model === 'loader' && r.queued === 1), 5000, 'request to wait on the load');
  ac.abort();
  await assert.rejects(pending);
  await until(async () => (await running(app.url)).every((r) => r.queued === 0 && r.inFlight === 0), 5000, 'the waiter to be removed');
  // Nobody waits for the load any more: the process is stopped well before its 2 s load ends.
  const cancelledAt = Date.now();
  await until(async () => (await running(app.url)).length === 0, 5000, 'the unwanted load to be stopped');
  assert.ok(Date.now() - cancelledAt < 1500, 'stopped, not loaded to the end');
  assert.match(app.logs.proxy.history(), /swap cancelled/);
  // The next request starts it afresh and is served.
  const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'loader', messages: msg });
  assert.equal(r.status, 200);
  // The fake logs a request when its response closes; that line reaches us through its stdout.
  await until(() => /POST \/v1\/chat\/completions/.test(app.logs.model('loader').history()), 5000, 'the upstream to log the request');
  const served = app.logs.model('loader').history().match(/POST \/v1\/chat\/completions/g) ?? [];
  assert.equal(served.length, 1, 'the cancelled request never reached the upstream');
});

test('ttl: a model idle for its ttl is unloaded; a request in flight longer than the ttl keeps it loaded', async (t) => {
  const app = await startFromYaml(t, `
models:
  brief:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 30 --token-ms 50
    ttl: 1
`);
  // A 1.5 s stream under a 1 s ttl: the model must stay loaded until it ends.
  const res = await fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'brief', stream: true, messages: msg }),
  });
  assert.match(await res.text(), /\[DONE\]/);
  const afterStream = await running(app.url);
  assert.equal(afterStream[0]?.state, 'ready', 'not unloaded while serving');
  assert.doesNotMatch(app.logs.proxy.history(), /unloading idle model/);
  await until(async () => (await running(app.url)).length === 0, 5000, 'ttl unload');
  assert.match(app.logs.proxy.history(), /unloading idle model \(ttl\)/);
});

test('preload: hooks.on_startup.preload loads models at start, aliases resolved', async (t) => {
  const app = await startFromYaml(t, `
hooks:
  on_startup:
    preload: [warm-alias]
models:
  warm:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
    aliases: [warm-alias]
  cold:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
`);
  await until(async () => (await running(app.url)).some((r) => r.model === 'warm' && r.state === 'ready'), 10_000, 'preload');
  assert.ok(!(await running(app.url)).some((r) => r.model === 'cold'));
});

test('serial scheduler: interleaved requests for A and B are each served by their model, one resident at a time', async (t) => {
  const app = await startFromYaml(t, `
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id \${MODEL_ID}" }
  b: { cmd: "\${fake} --port \${PORT} --model-id \${MODEL_ID}" }
`);
  const results = await Promise.all(['a', 'b', 'a'].map((m) => postJson(`${app.url}/v1/chat/completions`, { model: m, messages: msg })));
  assert.deepEqual(results.map((r) => r.json.model), ['a', 'b', 'a']);
  const live = await running(app.url);
  assert.equal(live.length, 1, `one model resident under serial: ${JSON.stringify(live)}`);
});

test('concurrencyLimit: the request over the limit gets 429 with Retry-After at once', async (t) => {
  const app = await startFromYaml(t, `
routing: { scheduler: { use: fifo } }
models:
  narrow:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --load-ms 300
    concurrencyLimit: 1
`);
  const first = postJson(`${app.url}/v1/chat/completions`, { model: 'narrow', messages: msg });
  await until(async () => (await running(app.url)).some((r) => r.queued === 1), 5000, 'first request admitted');
  const second = await postJson(`${app.url}/v1/chat/completions`, { model: 'narrow', messages: msg });
  assert.equal(second.status, 429);
  assert.equal(second.headers.get('retry-after'), '1');
  assert.equal(second.json.error.type, 'rate_limit_error');
  assert.equal((await first).status, 200);
});

test('unloading a model fails the requests waiting for it with a clear 503', async (t) => {
  const app = await startFromYaml(t, `
models:
  heavy:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --load-ms 5000
`);
  const waiting = postJson(`${app.url}/v1/chat/completions`, { model: 'heavy', messages: msg });
  await until(async () => (await running(app.url)).some((r) => r.model === 'heavy' && r.queued === 1), 5000, 'request waiting on the load');
  const unload = await fetch(`${app.url}/api/models/unload/heavy`, { method: 'POST' });
  assert.equal(unload.status, 200);
  const r = await waiting;
  assert.equal(r.status, 503);
  assert.equal(r.json.error.code, 'model_unloaded');
  assert.deepEqual(await running(app.url), []);
});
