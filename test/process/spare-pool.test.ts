/**
 * prepareLaunch (src/process/upstream-process.ts) and the launch gate
 * (src/process/launch.ts) with real processes: a spare wrapper waits at its
 * gate running no server, the next start releases it (same pid, same group),
 * and every way of not using it leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { test } from 'node:test';
import { registeredGroups, signalGroup } from '../../src/process/kill-group.ts';
import { GATE_NAME, planLaunch } from '../../src/process/launch.ts';
import { cmdline, fakeCmd, freePort, groupMembersNow, harness, modelConfig, NODE, type Harness, untilNoWatchdog, watchdogsNow } from './helpers.ts';

const T = { timeout: 15_000 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** prepareLaunch(), and the one group it registered (the spare's), killed after the test by the harness. */
function prepare(h: Harness): number {
  const before = registeredGroups();
  h.up.prepareLaunch();
  const added = registeredGroups().filter((g) => !before.includes(g));
  assert.equal(added.length, 1, `expected one new group, got ${JSON.stringify(added)}`);
  h.pgids.add(added[0]!);
  return added[0]!;
}

async function untilGone(pgid: number): Promise<void> {
  for (let i = 0; groupMembersNow(pgid).length > 0; i++) {
    assert.ok(i < 500, `group ${pgid} still has ${JSON.stringify(groupMembersNow(pgid))}`);
    await sleep(10);
  }
}

test('a prepared launch waits at its gate without starting the server; the next start releases it (same pid)', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--load-ms', '50') }));
  const before = registeredGroups();
  const spare = prepare(h);
  h.up.prepareLaunch(); // at most one spare
  assert.deepEqual(registeredGroups().filter((g) => !before.includes(g)), [spare]);
  await sleep(300);
  assert.equal(h.up.status(), 'stopped', 'a spare is no state');
  assert.equal(h.up.pid(), undefined);
  assert.match(cmdline(spare), new RegExp(GATE_NAME), 'still the wrapper, not the server');
  assert.doesNotMatch(h.logs.history(), /fake llama-server/, 'the server has not started');
  assert.deepEqual(h.statuses, []);

  await h.up.ensureReady();
  assert.equal(h.up.pid(), spare, 'the released wrapper exec\'d the server');
  assert.match(cmdline(spare), /fake-llama-server/);
  assert.match(h.logs.history(), /server is listening/, 'its output reaches the model log');
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(h.statuses, ['starting', 'ready']);

  await h.up.stop('unloaded');
  assert.deepEqual(groupMembersNow(spare), []);
  assert.ok(!registeredGroups().includes(spare));
  assert.deepEqual(h.exits, [{ model: 'm', reason: 'unloaded', code: 0, signal: null }]);
});

test('discardLaunch, stop() and shutdown() each drop an unused spare: group gone and unregistered, no exit reported', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port) }));
  const ends: [string, () => Promise<void>][] = [
    ['discardLaunch', async () => h.up.discardLaunch()],
    ['stop', () => h.up.stop('unloaded')],
    ['shutdown', () => h.up.shutdown()],
  ];
  for (const [name, end] of ends) {
    const spare = prepare(h);
    assert.equal(watchdogsNow(spare).length, 1, `${name}: the spare has its watchdog`);
    await end();
    await untilGone(spare);
    await untilNoWatchdog(spare);
    for (let i = 0; registeredGroups().includes(spare); i++) {
      assert.ok(i < 200, `${name}: ${spare} still registered`);
      await sleep(10);
    }
  }
  assert.deepEqual(h.exits, [], 'a spare is not a run');
  assert.doesNotMatch(h.logs.history(), /fake llama-server/);
  h.up.prepareLaunch(); // shut down: no new spare
  assert.equal(h.up.status(), 'shutdown');
});

test('a spare that died before the start is replaced by a fresh spawn', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--load-ms', '50') }));
  const spare = prepare(h);
  signalGroup(spare, 'SIGKILL');
  await untilGone(spare);
  await h.up.ensureReady();
  const pid = h.up.pid();
  assert.ok(pid !== undefined && pid !== spare, 'a new process');
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  assert.ok(!registeredGroups().includes(spare), 'the dead spare is unregistered');
});

test('the gate closed unopened (the proxy gone before the release): the wrapper exits 0 and the command never runs', T, async () => {
  // The launch plan spawned by hand, as spawnChild does, so the test can close our end of the gate (fd 3).
  const plan = planLaunch([NODE, '-e', 'console.log("ran")'], undefined, true);
  const sp = spawn(plan.file, plan.args, { detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let out = '';
  sp.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  sp.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(sp, 'exit');
  await sleep(100);
  (sp.stdio[3] as Writable).destroy();
  const [code, signal] = await exited;
  assert.deepEqual([code, signal], [0, null]);
  assert.equal(out, '');
  await untilGone(sp.pid!);
});
