import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyError } from '../../src/errors.ts';
import { registeredGroups } from '../../src/process/kill-group.ts';
import { fakeCmd, freePort, groupMembersNow, harness, modelConfig } from './helpers.ts';

const T = { timeout: 15_000 };

function isProxyError(code: ProxyError['code'], ...fragments: string[]) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ProxyError, `expected ProxyError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `message lacks ${JSON.stringify(f)}: ${err.message}`);
    return true;
  };
}

test('start → ready → stop, with the group gone afterwards', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--load-ms', '100') }));
  assert.equal(h.up.status(), 'stopped');
  await h.up.ensureReady();
  assert.equal(h.up.status(), 'ready');
  const pid = h.up.pid();
  assert.ok(pid !== undefined);
  assert.ok(registeredGroups().includes(pid));
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-served-by'), `m@${port}`);
  await h.up.stop('unloaded');
  assert.equal(h.up.status(), 'stopped');
  assert.equal(h.up.pid(), undefined);
  assert.deepEqual(h.statuses, ['starting', 'ready', 'stopping', 'stopped']);
  assert.deepEqual(h.exits, [{ model: 'm', reason: 'unloaded', code: 0, signal: null }]);
  assert.deepEqual(groupMembersNow(pid), []);
  assert.ok(!registeredGroups().includes(pid));
  assert.match(h.logs.history(), /server is listening/);
});

test('concurrent ensureReady calls join one start (one spawn)', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--load-ms', '200') }));
  const calls = [h.up.ensureReady(), h.up.ensureReady()];
  await h.until(() => h.up.status() === 'starting');
  calls.push(h.up.ensureReady());
  await Promise.all(calls);
  assert.deepEqual(h.statuses, ['starting', 'ready']);
  assert.equal(h.logs.history().match(/fake llama-server pid/g)?.length, 1);
  await h.up.ensureReady(); // ready: resolves at once, no new spawn
  assert.equal(h.logs.history().match(/fake llama-server pid/g)?.length, 1);
});

test('checkEndpoint none: ready as soon as spawned', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { checkEndpoint: null, cmd: fakeCmd(port, '--load-ms', '5000') }));
  await h.up.ensureReady();
  assert.equal(h.up.status(), 'ready');
});

test('exit during load → UPSTREAM_START_FAILED with exit code and last log lines', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--exit-at-start', '3') }));
  await assert.rejects(h.up.ensureReady(), isProxyError('UPSTREAM_START_FAILED', 'exit code 3', "error: failed to load model 'm'", 'loading model'));
  assert.equal(h.up.status(), 'stopped');
  assert.deepEqual(h.exits, [{ model: 'm', reason: 'start-failed', code: 3, signal: null }]);
  // No sticky failure: the next call tries again (and fails again, the same way).
  await assert.rejects(h.up.ensureReady(), isProxyError('UPSTREAM_START_FAILED', 'exit code 3'));
  assert.equal(h.exits.length, 2);
});

test('command not found → UPSTREAM_START_FAILED naming the command', T, async (t) => {
  const h = harness(t, modelConfig(1, { cmd: ['/nonexistent/llama-server-xyz', '--port', '1'] }));
  await assert.rejects(h.up.ensureReady(), isProxyError('UPSTREAM_START_FAILED', '"/nonexistent/llama-server-xyz"', 'command not found'));
  assert.equal(h.up.status(), 'stopped');
  assert.equal(h.exits[0]?.reason, 'start-failed');
});

test('a spawn that throws (NUL byte in the cmd) → UPSTREAM_START_FAILED and stopped, every time (never stuck starting)', T, async (t) => {
  const h = harness(t, modelConfig(1, { cmd: [process.execPath, '-e', 'a\0b'] }));
  for (let i = 0; i < 2; i++) {
    await assert.rejects(h.up.ensureReady(), isProxyError('UPSTREAM_START_FAILED', 'cannot run', 'null bytes'));
    assert.equal(h.up.status(), 'stopped');
  }
  h.up.prepareLaunch(); // a port check only: nothing spawned, nothing registered
  assert.equal(h.up.status(), 'stopped');
});

test('health timeout → UPSTREAM_NOT_READY and the process is killed', T, async (t) => {
  const port = await freePort();
  // Long enough for the fake (a Node process) to be up and answering 503 on a loaded machine.
  const h = harness(t, modelConfig(port, { healthCheckTimeoutMs: 2000, unloadTimeoutMs: 300, cmd: fakeCmd(port, '--load-ms', '60000') }));
  const started = performance.now();
  await assert.rejects(h.up.ensureReady(), isProxyError('UPSTREAM_NOT_READY', 'health check timed out after 2s', 'HTTP 503', 'loading model'));
  assert.ok(performance.now() - started >= 2000);
  assert.equal(h.up.status(), 'stopped');
  const [pgid] = h.pgids;
  assert.ok(pgid !== undefined);
  assert.deepEqual(groupMembersNow(pgid), []);
  assert.equal(h.exits[0]?.reason, 'health-timeout');
});

test('health timeout while nothing listens reports the connection error', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { healthCheckTimeoutMs: 300, cmd: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] }));
  await assert.rejects(h.up.ensureReady(), isProxyError('UPSTREAM_NOT_READY', 'ECONNREFUSED'));
  assert.equal(h.up.status(), 'stopped');
});

test("a caller's abort signal rejects that caller only; the start goes on", T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--load-ms', '200') }));
  const ac = new AbortController();
  const mine = h.up.ensureReady(ac.signal);
  const other = h.up.ensureReady();
  ac.abort(new Error('client went away'));
  await assert.rejects(mine, /client went away/);
  await other;
  assert.equal(h.up.status(), 'ready');
});

test('stop during the health check aborts the start with a clear error', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--load-ms', '60000') }));
  const pending = h.up.ensureReady();
  await h.until(() => h.logs.history().includes('server is listening'));
  const pid = h.up.pid();
  assert.ok(pid !== undefined);
  const rejected = assert.rejects(pending, isProxyError('MODEL_UNLOADED', 'stopped (evicted) while starting'));
  await h.up.stop('evicted');
  await rejected;
  assert.equal(h.up.status(), 'stopped');
  assert.deepEqual(h.exits, [{ model: 'm', reason: 'evicted', code: 0, signal: null }]);
  assert.deepEqual(groupMembersNow(pid), []);
});

test('env is the proxy environment plus model.env', T, async (t) => {
  const port = await freePort();
  const script = 'console.log("ENV", process.env.MS_TEST_A, process.env.PATH ? "path" : "nopath"); setInterval(() => {}, 1000)';
  const h = harness(t, modelConfig(port, { checkEndpoint: null, env: { MS_TEST_A: 'hello' }, cmd: [process.execPath, '-e', script] }));
  await h.up.ensureReady();
  await h.until(() => h.logs.history().includes('ENV'));
  assert.match(h.logs.history(), /ENV hello path/);
});
