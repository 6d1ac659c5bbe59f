/**
 * llama-swap's small routes: /api/version, /api/performance and /api/hardware
 * (503, enabled: false: modelswap collects no system statistics), and
 * POST /api/inflight/<id>/cancel, which ends a request being served (the id
 * the event feed shows), its upstream request aborted.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FeedEvent } from '../../src/router/feed.ts';
import { postJson, startFromYaml, until } from '../helpers/modelswap.ts';

test('version, performance and hardware answer as llama-swap does with its polling off; they need the key', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
apiKeys: [k]
models:
  m: { cmd: "\${fake} --port \${PORT}" }
`);
  const auth = { headers: { authorization: 'Bearer k' } };
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const v = await fetch(`${app.url}/api/version`, auth);
  assert.equal(v.status, 200);
  assert.equal(((await v.json()) as { version: string }).version, pkg.version);
  for (const p of ['/api/performance', '/api/hardware']) {
    const r = await fetch(`${app.url}${p}`, auth);
    assert.equal(r.status, 503);
    assert.equal(((await r.json()) as { enabled: boolean }).enabled, false);
    assert.equal((await fetch(`${app.url}${p}`)).status, 401);
  }
});

test('POST /api/inflight/<id>/cancel ends a request being served; an unknown id is a 404', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
models:
  slow: { cmd: "\${fake} --port \${PORT} --tokens 200 --token-ms 50" }
`);
  const granted: number[] = [];
  const sub = app.router.subscribe((ev: FeedEvent) => {
    if (ev.type === 'request' && ev.phase === 'granted') granted.push(ev.id);
  });
  t.after(sub.unsubscribe);
  const stream = fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'slow', stream: true, messages: [] }),
  });
  await until(() => granted.length === 1, 10_000, 'the request to be granted');
  const res = await stream;
  assert.equal(res.status, 200);
  const cancelled = await postJson(`${app.url}/api/inflight/${granted[0]}/cancel`, {});
  assert.deepEqual([cancelled.status, cancelled.json], [200, { msg: 'ok' }]);
  await assert.rejects(res.text(), 'the stream is cut, well before its 10 s of tokens');
  await until(() => app.router.running().every((r) => r.inFlight === 0), 5000, 'the lease to be released');
  const unknown = await postJson(`${app.url}/api/inflight/999999/cancel`, {});
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.error.message, /no request "999999" is being served/);
});
