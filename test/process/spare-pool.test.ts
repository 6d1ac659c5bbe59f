/**
 * The spare launch wrapper (src/process/spare-pool.ts) and its gate
 * (src/process/launch.ts) with real processes: a spare waits at its gate
 * running nothing, a start takes it (same pid, same group) with the model's
 * argv and environment, a new spare follows, and every way of not using one
 * leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { registeredGroups, signalGroup } from '../../src/process/kill-group.ts';
import { GATE_NAME, gateLine, planGate } from '../../src/process/launch.ts';
import { SPARE_LABEL, SparePool } from '../../src/process/spare-pool.ts';
import { GroupStateFile, type StateFileContent } from '../../src/process/state-file.ts';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGate } from '../../src/process/spawn.ts';
import { cmdline, envOf, fakeCmd, freePort, groupMembersNow, harness, modelConfig, NODE, untilNoWatchdog, watchdogsNow } from './helpers.ts';

const T = { timeout: 15_000 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const silent = pino({ level: 'silent' });

async function untilGone(pgid: number): Promise<void> {
  for (let i = 0; groupMembersNow(pgid).length > 0; i++) {
    assert.ok(i < 500, `group ${pgid} still has ${JSON.stringify(groupMembersNow(pgid))}`);
    await sleep(10);
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    assert.ok(i < 500, what);
    await sleep(10);
  }
}


/** A pool closed after the test, its spares SIGKILLed by the harness too. */
function pool(t: Parameters<typeof harness>[0], refillDelayMs = 20): SparePool {
  const spares = new SparePool({ log: silent, refillDelayMs });
  t.after(() => spares.close());
  return spares;
}

test('a spare waits at its gate running nothing; a start takes it (same pid) with the model\'s argv and env; the next spare follows', T, async (t) => {
  const spares = pool(t);
  spares.fill();
  const spare = spares.pid!;
  assert.ok(spare !== undefined);
  spares.fill(); // at most one
  assert.equal(spares.pid, spare);
  assert.ok(registeredGroups().includes(spare), 'registered for the exit-time kill');
  assert.equal(watchdogsNow(spare).length, 1, 'it has its watchdog');
  await sleep(200);
  assert.match(cmdline(spare), new RegExp(GATE_NAME), 'still the wrapper, not a server');

  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--load-ms', '50'), env: { MS_SPARE: "it's $HOME `x`" } }), { spares });
  h.pgids.add(spare);
  assert.equal(h.up.status(), 'stopped', 'a spare is no state');
  await h.up.ensureReady();
  assert.equal(h.up.pid(), spare, 'the released wrapper exec\'d the server');
  assert.match(cmdline(spare), /fake-llama-server/);
  assert.equal(envOf(spare, 'MS_SPARE'), "it's $HOME `x`", 'the model\'s env, unexpanded');
  assert.equal(envOf(spare, 'PATH'), process.env.PATH, 'on top of the proxy\'s');
  assert.match(h.logs.history(), /server is listening/, 'its output reaches the model log');
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  assert.deepEqual(h.statuses, ['starting', 'ready']);

  await until(() => spares.pid !== undefined, 'a new spare after the take');
  const next = spares.pid!;
  assert.notEqual(next, spare);
  h.pgids.add(next);

  await h.up.stop('unloaded');
  assert.deepEqual(groupMembersNow(spare), []);
  assert.ok(!registeredGroups().includes(spare));
  assert.deepEqual(h.exits, [{ model: 'm', reason: 'unloaded', code: 0, signal: null }]);
  assert.equal(spares.pid, next, 'the next spare still waits');
});

test('the state file lists a waiting spare, then the model that took it, then nothing', T, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-spare-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'state.json');
  const groups = new GroupStateFile(path, silent);
  const spares = new SparePool({ log: silent, refillDelayMs: 60_000, groups });
  t.after(() => spares.close());
  const listed = (): string[] => (JSON.parse(readFileSync(path, 'utf8')) as StateFileContent).groups.map((g) => `${g.model}:${g.pid}`);
  spares.fill();
  const spare = spares.pid!;
  assert.deepEqual(listed(), [`${SPARE_LABEL}:${spare}`], 'on disk before a start could take it');
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port) }), { spares, groups });
  h.pgids.add(spare);
  await h.up.ensureReady();
  assert.equal(h.up.pid(), spare);
  await sleep(10); // relabelled on the next turn
  assert.deepEqual(listed(), [`m:${spare}`]);
  await spares.close(); // nothing waits (the refill is a minute away): nothing to remove
  await h.up.stop('unloaded');
  await sleep(10);
  assert.equal(existsSync(path), false, 'the last group gone: no state file');
});

test('close() drops the waiting spare (group gone, withdrawn from the watchdog, unregistered) and spawns no more', T, async (t) => {
  const spares = pool(t);
  spares.fill();
  const spare = spares.pid!;
  await spares.close();
  assert.equal(spares.pid, undefined);
  await untilGone(spare);
  await untilNoWatchdog(spare);
  assert.ok(!registeredGroups().includes(spare));
  spares.fill();
  assert.equal(spares.pid, undefined, 'closed: no new spare');

  // A start without a spare spawns as ever.
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port) }), { spares });
  await h.up.ensureReady();
  assert.notEqual(h.up.pid(), undefined);
});

test('a spare that died while waiting is dropped: the start spawns directly and a new spare follows', T, async (t) => {
  const spares = pool(t);
  spares.fill();
  const spare = spares.pid!;
  signalGroup(spare, 'SIGKILL');
  await untilGone(spare);
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port, '--load-ms', '50') }), { spares });
  await h.up.ensureReady();
  const pid = h.up.pid();
  assert.ok(pid !== undefined && pid !== spare, 'a new process');
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  await until(() => !registeredGroups().includes(spare), 'the dead spare is unregistered');
  await until(() => spares.pid !== undefined, 'a new spare');
  h.pgids.add(spares.pid!);
});

test('a command the gate line cannot carry (a newline in an env value) is spawned directly, with it; the spare stays', T, async (t) => {
  const spares = pool(t);
  spares.fill();
  const spare = spares.pid!;
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port), env: { MS_TWO: 'two\nlines' } }), { spares });
  h.pgids.add(spare);
  await h.up.ensureReady();
  assert.notEqual(h.up.pid(), spare);
  assert.equal(envOf(h.up.pid()!, 'MS_TWO'), 'two\nlines');
  assert.equal(spares.pid, spare, 'not taken');
});

test('a command that is not found is not given to the spare: the start fails with the spawn error naming it', T, async (t) => {
  const spares = pool(t);
  spares.fill();
  const spare = spares.pid!;
  const h = harness(t, modelConfig(await freePort(), { cmd: ['/nonexistent/llama-server', '--port', '1'] }), { spares });
  h.pgids.add(spare);
  await assert.rejects(h.up.ensureReady(), (e: unknown) => e instanceof Error && /cannot run/.test(e.message) && /\/nonexistent\/llama-server/.test(e.message) && /ENOENT/.test(e.message));
  assert.equal(spares.pid, spare, 'not taken');
  assert.match(cmdline(spare), new RegExp(GATE_NAME));
});

test('the gate runs exactly the argv and env it is given (quotes, $, backticks and spaces unchanged), with stdin /dev/null and no pipe of ours', T, async (t) => {
  let out = '';
  const child = spawnGate({ onOutput: (s) => (out += s) });
  t.after(() => signalGroup(child.pid!, 'SIGKILL'));
  assert.equal(await child.spawned, true);
  const args = ["it's", '$HOME', '`id`', 'a b', '', '"q"', '\\', '*'];
  const env = { MS_A: "x 'y' $z", MS_B: '' };
  // Also what it holds: stdin /dev/null, and no socket of ours but stdout and stderr (libuv's pipes are socketpairs; the gate, fd 3, is closed).
  const script = "const fs=require('fs');const link=(f)=>{try{return fs.readlinkSync('/proc/self/fd/'+f)}catch{return ''}};" +
    "const fds=fs.readdirSync('/proc/self/fd').filter(f=>f!=='0'&&f!=='1'&&f!=='2'&&link(f).startsWith('socket:'));" +
    'console.log(JSON.stringify([process.argv.slice(1), process.env.MS_A, process.env.MS_B, link(0), fds.length]))';
  const line = gateLine([NODE, '-e', script, ...args], env);
  assert.ok(line !== undefined);
  child.release(line);
  assert.equal((await child.exited).code, 0);
  await child.closed;
  assert.deepEqual(JSON.parse(out), [args, env.MS_A, env.MS_B, '/dev/null', 0]);
});

test('gateLine refuses what one sh line cannot carry', () => {
  assert.equal(gateLine(['a', 'b\nc'], {}), undefined);
  assert.equal(gateLine(['a'], { X: 'b\nc' }), undefined);
  assert.equal(gateLine(['a\0'], {}), undefined);
  assert.equal(gateLine(['a'], { 'not-a-name': 'x' }), undefined);
  assert.equal(gateLine(['-a'], {}), undefined, 'bash\'s exec would read it as an option');
  assert.equal(gateLine([], {}), undefined);
  assert.equal(gateLine(['/bin/x', "it's"], { A: 'b' }), "export A='b'; exec '/bin/x' 'it'\\''s'");
});

test('the gate closed unopened (the proxy gone before the release): the wrapper exits 0 and runs nothing', T, async () => {
  // The gate's plan spawned by hand, as spawnGate does, so the test can close our end of the gate (fd 3).
  const plan = planGate(undefined);
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
