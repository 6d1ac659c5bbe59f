import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ProxyError } from '../../src/errors.ts';
import { killAllGroupsSync, registeredGroups } from '../../src/process/kill-group.ts';
import { upstreamRequest } from '../../src/upstream-agent.ts';
import { aliveNow, cmdline, FAKE, fakeCmd, freePort, groupMembersNow, harness, modelConfig, NODE, untilNoWatchdog, watchdogsNow } from './helpers.ts';

const T = { timeout: 15_000 };
const IGNORE_TERM =
  "process.on('SIGTERM', () => console.log('grandchild: ignoring SIGTERM')); console.log('grandchild: pid ' + process.pid + ' running, ignores SIGTERM'); setInterval(() => {}, 1000)";
const GRANDCHILD_UP = /grandchild: pid \d+ running/;

test('a server that ignores SIGTERM is SIGKILLed after the grace period', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { unloadTimeoutMs: 300, cmd: fakeCmd(port, '--ignore-sigterm') }));
  await h.up.ensureReady();
  const pid = h.up.pid()!;
  const started = performance.now();
  await h.up.stop('unloaded');
  const took = performance.now() - started;
  assert.ok(took >= 300, `stopped after ${took} ms, before the grace period`);
  assert.ok(took < 300 + 1500, `stopped after ${took} ms: SIGKILL must follow the grace period promptly`);
  assert.deepEqual(h.exits, [{ model: 'm', reason: 'unloaded', code: null, signal: 'SIGKILL' }]);
  assert.match(h.logs.history(), /received SIGTERM, ignoring it/);
  assert.deepEqual(groupMembersNow(pid), []);
  await untilNoWatchdog(pid);
});

test('stop(reason, graceMs) overrides the unload timeout', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { unloadTimeoutMs: 60_000, cmd: fakeCmd(port, '--ignore-sigterm') }));
  await h.up.ensureReady();
  await h.up.stop('evicted', 50);
  assert.equal(h.exits[0]?.signal, 'SIGKILL');
});

test('a shell wrapper whose grandchild ignores SIGTERM: no member of the group survives', T, async (t) => {
  const port = await freePort();
  const script = `"${NODE}" -e "${IGNORE_TERM}" & exec "${NODE}" "${FAKE}" --port ${port} --model-id m`;
  const h = harness(t, modelConfig(port, { unloadTimeoutMs: 300, cmd: ['sh', '-c', script] }));
  await h.up.ensureReady();
  const pgid = h.up.pid()!;
  await h.until(() => GRANDCHILD_UP.test(h.logs.history()));
  const before = groupMembersNow(pgid);
  // the leader (the fake, exec'd by the shell) and the grandchild; the watchdog is outside the group (src/process/launch.ts)
  assert.equal(before.length, 2, `expected leader + grandchild, got ${before}`);
  assert.equal(before.filter((pid) => cmdline(pid).includes('modelswap-watchdog')).length, 0, 'no watchdog in the group');
  const started = performance.now();
  await h.up.stop('unloaded');
  assert.ok(performance.now() - started >= 300, 'the grandchild ignores SIGTERM: only SIGKILL after the grace ends it');
  assert.match(h.logs.history(), /grandchild: ignoring SIGTERM/);
  assert.deepEqual(groupMembersNow(pgid), []);
  for (const pid of before) assert.equal(aliveNow(pid), false, `pid ${pid} survived`);
  assert.equal(h.exits[0]?.code, 0); // the server itself exited on SIGTERM; the grandchild needed SIGKILL
});

test('a wrapper member slow to exit on SIGTERM gets its grace: it is not SIGKILLed when the leader exits first', T, async (t) => {
  const port = await freePort();
  const slow = "process.on('SIGTERM', () => setTimeout(() => { console.log('slow: clean exit'); process.exit(0); }, 300)); console.log('slow: up'); setInterval(() => {}, 1000)";
  const script = `"${NODE}" -e "${slow}" & exec "${NODE}" "${FAKE}" --port ${port} --model-id m`;
  const h = harness(t, modelConfig(port, { unloadTimeoutMs: 5000, cmd: ['sh', '-c', script] }));
  await h.up.ensureReady();
  await h.until(() => h.logs.history().includes('slow: up'));
  const pgid = h.up.pid()!;
  const started = performance.now();
  await h.up.stop('unloaded');
  const took = performance.now() - started;
  assert.match(h.logs.history(), /slow: clean exit/, 'not SIGKILLed when its leader (the fake) exited at once');
  assert.ok(took >= 290 && took < 5000, `took ${took} ms`);
  assert.deepEqual(groupMembersNow(pgid), []);
});

test('--fork-grandchild: the forked grandchild is killed with the group', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { unloadTimeoutMs: 200, cmd: fakeCmd(port, '--fork-grandchild', '--ignore-sigterm') }));
  await h.up.ensureReady();
  const pgid = h.up.pid()!;
  await h.until(() => GRANDCHILD_UP.test(h.logs.history()));
  const before = groupMembersNow(pgid);
  assert.equal(before.length, 2, 'leader, grandchild');
  await h.up.stop('unloaded');
  assert.deepEqual(groupMembersNow(pgid), []);
  for (const pid of before) assert.equal(aliveNow(pid), false);
});

test('cmdStop runs with ${PID} replaced, instead of SIGTERM', T, async (t) => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-cmdstop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pid');
  // The server ignores SIGTERM, so only this command (SIGINT) can stop it before the 10 s grace.
  const stopScript = `require('fs').writeFileSync(${JSON.stringify(file)}, process.argv[1]); process.kill(Number(process.argv[1]), 'SIGINT')`;
  const h = harness(t, modelConfig(port, { unloadTimeoutMs: 10_000, cmd: fakeCmd(port, '--ignore-sigterm'), cmdStop: [NODE, '-e', stopScript, '${PID}'] }));
  await h.up.ensureReady();
  const pid = h.up.pid()!;
  const started = performance.now();
  await h.up.stop('unloaded');
  assert.ok(performance.now() - started < 5000);
  assert.equal(readFileSync(file, 'utf8'), String(pid));
  assert.deepEqual(h.exits, [{ model: 'm', reason: 'unloaded', code: 0, signal: null }]);
  assert.doesNotMatch(h.logs.history(), /received SIGTERM/);
});

test('a failing cmdStop falls back to SIGTERM on the group', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { unloadTimeoutMs: 10_000, cmdStop: [NODE, '-e', 'process.exit(7)', '${PID}'] }));
  await h.up.ensureReady();
  const started = performance.now();
  await h.up.stop('unloaded');
  assert.ok(performance.now() - started < 5000);
  assert.match(h.logs.history(), /received SIGTERM, cleaning up/);
});

test('stop is idempotent and joins; stop when stopped resolves at once', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { unloadTimeoutMs: 200, cmd: fakeCmd(port, '--ignore-sigterm') }));
  await h.up.stop('unloaded'); // stopped: no-op
  await h.up.ensureReady();
  const a = h.up.stop('evicted');
  const b = h.up.stop('ttl');
  await Promise.all([a, b]);
  assert.deepEqual(h.statuses, ['starting', 'ready', 'stopping', 'stopped']);
  assert.equal(h.exits.length, 1);
  assert.equal(h.exits[0]?.reason, 'evicted'); // first writer wins
});

test('ensureReady during stopping waits for the stop, then starts again', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { unloadTimeoutMs: 200, cmd: fakeCmd(port, '--ignore-sigterm') }));
  await h.up.ensureReady();
  const first = h.up.pid();
  const stopping = h.up.stop('unloaded');
  assert.equal(h.up.status(), 'stopping');
  await h.up.ensureReady();
  await stopping;
  assert.equal(h.up.status(), 'ready');
  assert.notEqual(h.up.pid(), first);
  assert.deepEqual(h.statuses, ['starting', 'ready', 'stopping', 'stopped', 'starting', 'ready']);
});

test('crash while ready → stopped, onExit crashed with the code, next ensureReady restarts', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--crash-after-chunks', '2') }));
  await h.up.ensureReady();
  const first = h.up.pid()!;
  assert.equal(watchdogsNow(first).length, 1, 'one watchdog while it runs');
  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'x', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text().catch(() => ''); // the stream is cut off
  await h.until(() => h.up.status() === 'stopped');
  assert.deepEqual(h.exits, [{ model: 'm', reason: 'crashed', code: 1, signal: null }]);
  assert.deepEqual(groupMembersNow(first), []);
  assert.ok(!registeredGroups().includes(first));
  await untilNoWatchdog(first); // the group ended with its leader: dismissed at once
  await h.up.ensureReady();
  assert.equal(h.up.status(), 'ready');
  assert.notEqual(h.up.pid(), first);
});

test('a crash leaves no straggler: grandchildren of a dead leader are SIGKILLed', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--fork-grandchild') }));
  await h.up.ensureReady();
  const pgid = h.up.pid()!;
  await h.until(() => GRANDCHILD_UP.test(h.logs.history()));
  assert.equal(groupMembersNow(pgid).length, 2, 'leader, grandchild');
  process.kill(pgid, 'SIGKILL'); // the leader only
  await h.until(() => h.up.status() === 'stopped');
  assert.deepEqual(h.statuses.slice(-2), ['stopping', 'stopped']);
  assert.equal(h.exits[0]?.reason, 'crashed');
  assert.equal(h.exits[0]?.signal, 'SIGKILL');
  assert.deepEqual(groupMembersNow(pgid), []);
  await untilNoWatchdog(pgid); // dismissed after the sweep
});

test('shutdown stops and refuses later starts', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port));
  await h.up.ensureReady();
  await h.up.shutdown();
  assert.equal(h.up.status(), 'shutdown');
  assert.equal(h.exits[0]?.reason, 'shutdown');
  await assert.rejects(h.up.ensureReady(), (e: unknown) => e instanceof ProxyError && e.code === 'SHUTTING_DOWN');
  await h.up.shutdown(); // idempotent
  await h.up.stop('unloaded');
  assert.equal(h.up.status(), 'shutdown');
});

test('shutdown during a start rejects its callers with SHUTTING_DOWN', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--load-ms', '60000') }));
  const pending = assert.rejects(h.up.ensureReady(), (e: unknown) => e instanceof ProxyError && e.code === 'SHUTTING_DOWN');
  await h.until(() => h.up.status() === 'starting');
  await h.up.shutdown();
  await pending;
  assert.equal(h.up.status(), 'shutdown');
});

test('killAllGroupsSync SIGKILLs every live group', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--fork-grandchild') }));
  await h.up.ensureReady();
  const pgid = h.up.pid()!;
  await h.until(() => GRANDCHILD_UP.test(h.logs.history()));
  assert.equal(groupMembersNow(pgid).length, 2, 'leader, grandchild');
  killAllGroupsSync();
  assert.ok(!registeredGroups().includes(pgid));
  await h.until(() => h.up.status() === 'stopped');
  assert.deepEqual(groupMembersNow(pgid), []);
});

test("stopping a server first closes our idle kept-alive connections to it (llama-server's keep-alive threads would hold its exit back)", T, async (t) => {
  const port = await freePort();
  // Counts its open connections and reports them 100 ms into its SIGTERM handling.
  const server = `
    const http = require('node:http');
    let open = 0;
    const s = http.createServer((req, res) => res.end('ok'));
    s.on('connection', (c) => { open += 1; c.on('close', () => { open -= 1; }); });
    s.listen(${port}, '127.0.0.1', () => console.log('listening'));
    process.on('SIGTERM', () => setTimeout(() => { console.log('open connections at exit: ' + open); process.exit(0); }, 100));`;
  const h = harness(t, modelConfig(port, { cmd: [NODE, '-e', server, String(port)] }));
  await h.up.ensureReady();
  const req = upstreamRequest(`http://127.0.0.1:${port}/v1/models`, { method: 'GET' });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end'); // the connection goes back to the pool, idle
  await h.up.stop('evicted');
  assert.match(h.logs.history(), /open connections at exit: 0/);
});
