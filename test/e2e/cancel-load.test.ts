/**
 * Loads that can be seen and cancelled, with real processes: /running shows
 * a load's progress (elapsed, the estimate from earlier loads, what it
 * evicts); `POST /api/models/unload/<model>` during the load answers every
 * waiter at once with a clear error, kills the server's whole process group,
 * and leaves nothing half-started, whether the load was still evicting
 * another model (nothing spawned yet) or polling the server's health.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postJson, startFromYaml, until } from '../helpers/modelswap.ts';
import { groupMembers, liveChildren } from '../helpers/proc.ts';

const msg = [{ role: 'user', content: 'x' }];

test('cancel during health polling: the waiters get a 503 at once and the process group is gone', { timeout: 30_000 }, async (t) => {
  // The grandchild ignores SIGTERM: the stop SIGKILLs the group after unloadTimeout (2 s).
  const app = await startFromYaml(t, `
unloadTimeout: 2
routing: { scheduler: { use: fifo } }
models:
  slow: { cmd: "\${fake} --port \${PORT} --model-id slow --load-ms 20000 --fork-grandchild" }
`);
  const waiters = [1, 2].map(() => postJson(`${app.url}/v1/chat/completions`, { model: 'slow', messages: msg }));
  await until(() => app.router.running().some((r) => r.model === 'slow' && r.queued === 2 && r.pid !== undefined), 10_000, 'both waiting on a spawned server');
  const row = app.router.running()[0]!;
  assert.equal(row.state, 'starting');
  assert.ok(row.load !== undefined && row.load.elapsedMs >= 0, '/running shows the load');
  const pid = row.pid!;
  await until(() => groupMembers(pid).filter((m) => m.state !== 'Z').length >= 2, 5000, 'the server and its grandchild');
  const started = performance.now();
  const cancel = postJson(`${app.url}/api/models/unload/slow`, {});
  for (const r of await Promise.all(waiters)) {
    assert.equal(r.status, 503);
    assert.match(r.json.error.message, /model slow was unloaded while the request waited/);
  }
  assert.ok(performance.now() - started < 1500, 'the waiters are answered at once, before the group is even gone');
  assert.equal((await cancel).status, 200, 'the unload answers once the group is gone');
  // A zombie is dead (this container's init may reap it late).
  assert.deepEqual(groupMembers(pid).filter((m) => m.state !== 'Z'), [], 'the whole group is gone, grandchild included');
  assert.deepEqual(app.router.running(), []);
});

test('cancel while the load is still evicting another model: nothing of it is ever spawned', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
unloadTimeout: 3
routing: { scheduler: { use: fifo } }
models:
  stubborn: { cmd: "\${fake} --port \${PORT} --model-id stubborn --ignore-sigterm" }
  next: { cmd: "\${fake} --port \${PORT} --model-id next" }
`);
  assert.equal((await postJson(`${app.url}/v1/chat/completions`, { model: 'stubborn', messages: msg })).status, 200);
  // next evicts stubborn, which ignores SIGTERM: the swap waits up to its unloadTimeout (3 s) before SIGKILL.
  const waiter = postJson(`${app.url}/v1/chat/completions`, { model: 'next', messages: msg });
  await until(() => app.router.running().some((r) => r.model === 'stubborn' && r.state === 'stopping'), 5000, 'the eviction to start');
  const load = app.router.running().find((r) => r.model === 'next')?.load;
  assert.deepEqual(load?.evicting, ['stubborn'], '/running says what the load evicts');
  assert.equal((await postJson(`${app.url}/api/models/unload/next`, {})).status, 200);
  const r = await waiter;
  assert.equal(r.status, 503);
  await until(() => app.router.running().length === 0, 10_000, 'the eviction to finish');
  assert.deepEqual(liveChildren(process.pid, 'next'), [], 'next never ran');
  assert.doesNotMatch(app.logs.model('next').history(), /listening/, 'next never printed anything: never started');
});

test('the second load of a model shows an estimate in /running', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
models:
  m: { cmd: "\${fake} --port \${PORT} --model-id m --load-ms 400" }
`);
  assert.equal((await postJson(`${app.url}/v1/chat/completions`, { model: 'm', messages: msg })).status, 200);
  await app.router.unload(['m']);
  const second = postJson(`${app.url}/v1/chat/completions`, { model: 'm', messages: msg });
  await until(() => app.router.running().some((r) => r.load !== undefined), 5000, 'the second load');
  const estimate = app.router.running()[0]!.load!.estimateMs;
  assert.ok(estimate !== undefined && estimate >= 400, `estimate ${estimate} ms from the first load`);
  assert.equal((await second).status, 200);
  assert.equal(app.router.running()[0]!.load, undefined, 'no load once ready');
});
