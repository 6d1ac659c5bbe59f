/**
 * "modelswap under faults: nothing orphaned, nothing lost", process side, with
 * the real CLI as a separate process (as in cli.test.ts): the proxy SIGKILLed
 * leaves no upstream and no grandchild behind; the next start reaps what a
 * killed one listed in its state file, never touching a reused pid; a model
 * port taken by another program fails the start at once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { liveStatSync, signalGroup } from '../../src/process/kill-group.ts';
import { SPARE_LABEL } from '../../src/process/spare-pool.ts';
import type { StateFileContent } from '../../src/process/state-file.ts';
import { FAKE, postJson, startFromYaml, until } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';
import { aliveNow, cmdline, groupMembersNow } from '../process/helpers.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const T = { timeout: 30_000 };
const msg = [{ role: 'user', content: 'x' }];

interface Cli {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
}

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-faults-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The CLI on 127.0.0.1:port; SIGKILLed after the test if still running. */
async function runCli(t: TestContext, dir: string, yaml: string, port: number, stateFile: string): Promise<Cli> {
  const config = join(dir, 'config.yaml');
  writeFileSync(config, yaml.replaceAll('${fake}', FAKE));
  const child = spawn(process.execPath, [CLI, '--config', config, '--listen', `127.0.0.1:${port}`, '--state-file', stateFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  t.after(() => void child.kill('SIGKILL'));
  await until(() => /modelswap listening/.test(out) || child.exitCode !== null, 10_000, 'modelswap to listen');
  assert.match(out, /modelswap listening/);
  return { child, stdout: () => out, exited };
}

/** A detached process group of ours (pgid === leader pid) with `members` processes, SIGKILLed after the test. */
async function ownGroup(t: TestContext, script: string, members: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' });
  await once(child, 'spawn');
  const pgid = child.pid!;
  t.after(() => signalGroup(pgid, 'SIGKILL'));
  await until(() => groupMembersNow(pgid).length === members, 5000, `group ${pgid} to have ${members} members`);
  return pgid;
}

const FOREVER = 'setInterval(() => {}, 1000)';

test('kill -9 of the proxy: both loaded models (a forking server, a shell wrapper with a TERM-ignoring child) are gone within 2 s', T, async (t) => {
  const dir = tmp(t);
  const ignorer = join(dir, 'ignorer.js');
  writeFileSync(ignorer, `process.on('SIGTERM', () => {}); console.log('ignorer up'); ${FOREVER}`);
  const [port, start] = [await freePortRange(1), await freePortRange(2)];
  const stateFile = join(dir, 'state.json');
  const cli = await runCli(t, dir, `
startPort: ${start}
routing: { scheduler: { use: fifo } }
groups:
  pair: { swap: false, members: [forking, wrapper] }
models:
  forking:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --fork-grandchild
  wrapper:
    cmd: sh -c "\${fake} --port \${PORT} --model-id \${MODEL_ID} & ${process.execPath} ${ignorer}; wait"
`, port, stateFile);
  const base = `http://127.0.0.1:${port}`;
  for (const model of ['forking', 'wrapper']) {
    const r = await postJson(`${base}/v1/chat/completions`, { model, messages: msg });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  const rows = ((await (await fetch(`${base}/running`)).json()) as { running: { model: string; pid: number }[] }).running;
  const pgids = ['forking', 'wrapper'].map((m) => rows.find((r) => r.model === m)?.pid);
  assert.ok(pgids.every((p) => p !== undefined), 'both models run side by side');
  const [forking, wrapper] = pgids as [number, number];
  t.after(() => [forking, wrapper].forEach((g) => signalGroup(g, 'SIGKILL')));
  // forking: server, grandchild; wrapper: sh, server, ignorer (each watchdog is outside its group)
  await until(() => groupMembersNow(forking).length === 2 && groupMembersNow(wrapper).length === 3, 5000, 'both trees to be complete')
    .catch((e: unknown) => assert.fail(`${String(e)}: ${groupMembersNow(forking).map(cmdline).join(' | ')} || ${groupMembersNow(wrapper).map(cmdline).join(' | ')}`));
  const listed = JSON.parse(readFileSync(stateFile, 'utf8')) as StateFileContent;
  assert.equal(listed.proxy.pid, cli.child.pid);
  const spares = listed.groups.filter((g) => g.model === SPARE_LABEL).map((g) => g.pgid);
  assert.ok(spares.length <= 1, 'at most one spare launch wrapper');
  assert.deepEqual(listed.groups.filter((g) => g.model !== SPARE_LABEL).map((g) => g.pgid).sort(), [forking, wrapper].sort(), 'the state file lists both groups');
  t.after(() => spares.forEach((g) => signalGroup(g, 'SIGKILL')));

  cli.child.kill('SIGKILL');
  await cli.exited;
  const killed = performance.now();
  const alive = (): number[] => [...groupMembersNow(forking), ...groupMembersNow(wrapper), ...spares.flatMap(groupMembersNow)];
  while (alive().length > 0 && performance.now() - killed < 2000) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(alive(), [], 'survivors 2 s after kill -9');
});

test('start-up reaper: a live group listed in the state file is SIGKILLed and logged; a pid whose start time differs is not touched', T, async (t) => {
  const dir = tmp(t);
  const orphan = await ownGroup(t, `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(FOREVER)}], { stdio: 'ignore' }); ${FOREVER}`, 2);
  const bystander = await ownGroup(t, FOREVER, 1);
  const stateFile = join(dir, 'state.json');
  const deadProxy = 2 ** 22 + 5; // above pid_max: certainly not running
  const content: StateFileContent = {
    version: 1,
    proxy: { pid: deadProxy, startTime: '1' },
    groups: [
      { model: 'orphan', pgid: orphan, pid: orphan, startTime: liveStatSync(orphan)!.startTime, argv: ['llama-server', '--port', '1'] },
      { model: 'stale', pgid: bystander, pid: bystander, startTime: String(Number(liveStatSync(bystander)!.startTime) + 1), argv: ['x'] },
    ],
  };
  writeFileSync(stateFile, JSON.stringify(content));
  const port = await freePortRange(1);
  const cli = await runCli(t, dir, 'models: {}\n', port, stateFile);
  // Reaping is done before the proxy listens.
  assert.deepEqual(groupMembersNow(orphan), [], 'the orphaned group (leader and child) is gone');
  assert.equal(aliveNow(bystander), true, 'a pid whose start time does not match is never killed');
  const reaped = cli.stdout().split('\n').filter((l) => l.includes('reaped orphaned upstream')).map((l) => JSON.parse(l) as { level: number; msg: string });
  assert.equal(reaped.length, 1);
  assert.equal(reaped[0]!.level, 40, 'logged at warn');
  assert.match(reaped[0]!.msg, new RegExp(`"orphan" \\(process group ${orphan}, 2 process\\(es\\)\\) left by a previous modelswap \\(pid ${deadProxy}\\)`));
  const left = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as StateFileContent).groups : [];
  assert.deepEqual(left.filter((g) => g.model !== SPARE_LABEL), [], 'consumed; nothing running now but the spare launch wrapper');
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
});

test('a second modelswap on the same state file refuses to start (exit 1) and leaves the first one\'s upstreams alone', T, async (t) => {
  const dir = tmp(t);
  const [port, other, start] = [await freePortRange(1), await freePortRange(1), await freePortRange(1)];
  const stateFile = join(dir, 'state.json');
  const yaml = `
startPort: ${start}
models:
  one:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
`;
  const first = await runCli(t, dir, yaml, port, stateFile);
  assert.equal((await postJson(`http://127.0.0.1:${port}/v1/chat/completions`, { model: 'one', messages: msg })).status, 200);
  const config = join(dir, 'config.yaml');
  const second = spawn(process.execPath, [CLI, '--config', config, '--listen', `127.0.0.1:${other}`, '--state-file', stateFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => void second.kill('SIGKILL'));
  let err = '';
  second.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(second, 'exit')) as [number];
  assert.equal(code, 1);
  assert.match(err, new RegExp(`belongs to a modelswap that is still running \\(pid ${first.child.pid}\\)`));
  assert.equal((await postJson(`http://127.0.0.1:${port}/v1/chat/completions`, { model: 'one', messages: msg })).status, 200, 'the first one still serves');
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  assert.equal(existsSync(stateFile), false, 'a clean shutdown leaves no state file');
});

test('a model port held by another program: 502 at once naming the port, the model and the listener; nothing is spawned', T, async (t) => {
  const squatter = createServer((s) => {
    s.on('error', () => {}); // the port check hangs up at once
    s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
  squatter.listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  t.after(() => squatter.close());
  const port = (squatter.address() as { port: number }).port;
  const app = await startFromYaml(t, `
startPort: ${port}
healthCheckTimeout: 30
models:
  victim:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
`);
  const started = performance.now();
  const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'victim', messages: msg });
  assert.equal(r.status, 502);
  assert.equal(r.json.error.code, 'upstream_start_failed');
  assert.match(r.json.error.message, new RegExp(`^port ${port} of model "victim" is already in use by another program \\(pid ${process.pid}: `));
  assert.ok(performance.now() - started < 2000, 'at once, not after healthCheckTimeout');
  assert.equal(app.logs.model('victim').history(), '', 'the fake was never spawned');
});
