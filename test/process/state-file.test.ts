/** The state file of live groups and the start-up reaper (src/process/state-file.ts, src/process/reap.ts), with real processes. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { liveStatSync, signalGroup } from '../../src/process/kill-group.ts';
import { reapOrphans, StateFileInUseError } from '../../src/process/reap.ts';
import { defaultStateFilePath, GroupStateFile, selfIdentity, type StateFileContent } from '../../src/process/state-file.ts';
import { aliveNow, groupMembersNow, NODE } from './helpers.ts';

const T = { timeout: 15_000 };
const FOREVER = 'setInterval(() => {}, 1000)';
const WITH_CHILD = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(FOREVER)}], { stdio: 'ignore' }); ${FOREVER}`;
const LEAVE_CHILD = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(FOREVER)}], { stdio: 'ignore' }); setTimeout(() => process.exit(0), 100)`;

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function recorder(): { log: pino.Logger; lines: () => { level: number; msg: string }[] } {
  const out: string[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => void out.push(s) });
  return { log, lines: () => out.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

/** A detached process group of our own (leader pgid === pid), SIGKILLed after the test. */
async function group(t: TestContext, script: string, members: number): Promise<ChildProcess & { pid: number }> {
  const child = spawn(NODE, ['-e', script], { detached: true, stdio: 'ignore' });
  await once(child, 'spawn');
  const pid = child.pid!;
  t.after(() => signalGroup(pid, 'SIGKILL'));
  const deadline = Date.now() + 5000;
  while (groupMembersNow(pid).length !== members && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(groupMembersNow(pid).length, members);
  return child as ChildProcess & { pid: number };
}

const DEAD_PROXY = { pid: 2 ** 22 + 7, startTime: '1' }; // cannot be alive: pid above pid_max

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('GroupStateFile: each add and remove rewrites the file atomically (a remove on the next turn of the event loop); the last remove deletes it', async (t) => {
  const path = join(tmp(t), 'state.json');
  const groups = new GroupStateFile(path, pino({ level: 'silent' }));
  groups.add('a', process.pid, ['llama-server', '--port', '1']); // this process: a pid with a real start time
  const content = JSON.parse(readFileSync(path, 'utf8')) as StateFileContent;
  assert.deepEqual(content.proxy, selfIdentity());
  assert.deepEqual(content.groups, [{ model: 'a', pgid: process.pid, pid: process.pid, startTime: liveStatSync(process.pid)!.startTime, argv: ['llama-server', '--port', '1'] }]);
  groups.add('b', 2 ** 22 + 9, ['x']); // gone already: recorded without a start time, so never reaped
  assert.equal((JSON.parse(readFileSync(path, 'utf8')) as StateFileContent).groups[1]?.startTime, undefined);
  const listed = (): string[] => (JSON.parse(readFileSync(path, 'utf8')) as StateFileContent).groups.map((g) => g.model);
  groups.remove(process.pid);
  assert.deepEqual(listed(), ['a', 'b'], 'not yet written');
  await nextTurn();
  assert.deepEqual(listed(), ['b']);
  groups.remove(2 ** 22 + 9);
  assert.equal(existsSync(path), true, 'not yet written');
  await nextTurn();
  assert.equal(existsSync(path), false);
  assert.deepEqual(readdirSync(join(path, '..')), [], 'no temporary file left');
});

test('GroupStateFile: flush() writes a pending removal at once and an add writes it too', (t) => {
  const path = join(tmp(t), 'state.json');
  const groups = new GroupStateFile(path, pino({ level: 'silent' }));
  const listed = (): string[] => (JSON.parse(readFileSync(path, 'utf8')) as StateFileContent).groups.map((g) => g.model);
  groups.add('a', 2 ** 22 + 1, ['x']);
  groups.add('b', 2 ** 22 + 2, ['x']);
  groups.add('c', 2 ** 22 + 3, ['x']);
  groups.remove(2 ** 22 + 1);
  groups.add('d', 2 ** 22 + 4, ['x']);
  assert.deepEqual(listed(), ['b', 'c', 'd'], 'the add wrote the whole list, removal included');
  groups.remove(2 ** 22 + 2);
  groups.remove(2 ** 22 + 3);
  groups.flush();
  assert.deepEqual(listed(), ['d']);
  groups.remove(2 ** 22 + 4);
  groups.flush();
  assert.equal(existsSync(path), false);
});

test('GroupStateFile: adding a group on file already (a spare taken by a model) relabels it on the next turn, start time kept', async (t) => {
  const path = join(tmp(t), 'state.json');
  const groups = new GroupStateFile(path, pino({ level: 'silent' }));
  const read = (): StateFileContent['groups'] => (JSON.parse(readFileSync(path, 'utf8')) as StateFileContent).groups;
  groups.add('(spare)', process.pid, ['modelswap-gate']);
  const startTime = read()[0]!.startTime;
  assert.ok(startTime !== undefined);
  groups.add('a', process.pid, ['llama-server', '--port', '1']);
  assert.equal(read()[0]!.model, '(spare)', 'not yet written');
  await nextTurn();
  assert.deepEqual(read(), [{ model: 'a', pgid: process.pid, pid: process.pid, startTime, argv: ['llama-server', '--port', '1'] }]);
  groups.remove(process.pid);
  groups.flush();
});

test('GroupStateFile: an unwritable path is logged once and never throws', (t) => {
  const { log, lines } = recorder();
  const groups = new GroupStateFile(join(tmp(t), 'missing-dir', 'state.json'), log);
  groups.add('a', process.pid, ['x']);
  groups.add('b', process.pid + 0, ['y']);
  assert.equal(lines().filter((l) => /cannot write the state file/.test(l.msg)).length, 1);
});

test('defaultStateFilePath: one file per config path and listen address', () => {
  const a = defaultStateFilePath('/etc/modelswap.yaml', '127.0.0.1:8080');
  assert.match(a, /modelswap-[0-9a-f]{16}\.json$/);
  assert.equal(defaultStateFilePath('/etc/../etc/modelswap.yaml', '127.0.0.1:8080'), a);
  assert.notEqual(defaultStateFilePath('/etc/modelswap.yaml', '127.0.0.1:8081'), a);
});

test('reapOrphans: the matching group is SIGKILLed and logged; a reused pid and a leaderless group are left alone', T, async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'state.json');
  const orphan = await group(t, WITH_CHILD, 2);
  const bystander = await group(t, FOREVER, 1);
  const leaderless = await group(t, LEAVE_CHILD, 2);
  await once(leaderless, 'exit');
  const survivors = groupMembersNow(leaderless.pid);
  assert.equal(survivors.length, 1);
  const start = (pid: number): string => liveStatSync(pid)!.startTime;
  const content: StateFileContent = {
    version: 1,
    proxy: DEAD_PROXY,
    groups: [
      { model: 'orphan', pgid: orphan.pid, pid: orphan.pid, startTime: start(orphan.pid), argv: ['orphan-server'] },
      { model: 'reused', pgid: bystander.pid, pid: bystander.pid, startTime: String(Number(start(bystander.pid)) + 1), argv: ['x'] },
      { model: 'leaderless', pgid: leaderless.pid, pid: leaderless.pid, startTime: '12345', argv: ['y'] },
      { model: 'gone', pgid: 2 ** 22 + 11, pid: 2 ** 22 + 11, startTime: '1', argv: ['z'] },
    ],
  };
  writeFileSync(path, JSON.stringify(content));
  const { log, lines } = recorder();
  const result = await reapOrphans(path, log);
  assert.deepEqual(result.groups.map((g) => [g.record.model, g.outcome]), [['orphan', 'reaped'], ['reused', 'pid-reused'], ['leaderless', 'leaderless'], ['gone', 'gone']]);
  assert.deepEqual(groupMembersNow(orphan.pid), [], 'the orphaned group is gone, child included');
  assert.equal(aliveNow(bystander.pid), true, 'a pid whose start time does not match is never killed');
  assert.deepEqual(groupMembersNow(leaderless.pid), survivors, 'a group without its leader is reported, not killed');
  const warned = lines().filter((l) => l.level === 40).map((l) => l.msg);
  assert.ok(warned.some((m) => m.includes(`reaped orphaned upstream "orphan" (process group ${orphan.pid}, 2 process(es)) left by a previous modelswap (pid ${DEAD_PROXY.pid})`)), warned.join('\n'));
  assert.ok(warned.some((m) => m.includes(`process group ${leaderless.pid} of upstream "leaderless"`) && m.includes('not killed')));
  assert.equal(existsSync(path), false, 'the file is consumed');
});

test('reapOrphans: a file whose owner still runs is refused and left untouched', T, async (t) => {
  const path = join(tmp(t), 'state.json');
  const bystander = await group(t, FOREVER, 1);
  const text = JSON.stringify({
    version: 1,
    proxy: selfIdentity(), // alive: this very process
    groups: [{ model: 'm', pgid: bystander.pid, pid: bystander.pid, startTime: liveStatSync(bystander.pid)!.startTime, argv: ['x'] }],
  });
  writeFileSync(path, text);
  await assert.rejects(reapOrphans(path, pino({ level: 'silent' })), (e: unknown) => e instanceof StateFileInUseError && /still running \(pid \d+\)/.test(e.message));
  assert.equal(aliveNow(bystander.pid), true);
  assert.equal(readFileSync(path, 'utf8'), text);
});

test('reapOrphans: no file, or a file that is not ours, changes nothing', async (t) => {
  const dir = tmp(t);
  const { log, lines } = recorder();
  assert.deepEqual(await reapOrphans(join(dir, 'none.json'), log), { previous: undefined, groups: [] });
  for (const junk of ['not json', '{"version":2}', JSON.stringify({ version: 1, proxy: DEAD_PROXY, groups: [{ model: 'm', pgid: 1, pid: 1, argv: [] }] })]) {
    writeFileSync(join(dir, 'junk.json'), junk);
    assert.deepEqual(await reapOrphans(join(dir, 'junk.json'), log), { previous: undefined, groups: [] });
  }
  assert.equal(lines().filter((l) => /ignoring an unreadable state file/.test(l.msg)).length, 3, 'pgid 1 is refused: kill(-1) would hit every process');
});
