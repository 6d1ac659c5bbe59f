/** How upstreams are launched (src/process/launch.ts): plan, command lookup, setpriv, the watchdog and the gate with real processes. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { signalGroup } from '../../src/process/kill-group.ts';
import { findExecutable, findSetpriv, GATE_NAME, GATE_SCRIPT, planGate, planLaunch, planWatchdog, WATCHDOG_NAME, WATCHDOG_SCRIPT } from '../../src/process/launch.ts';
import { spawnChild } from '../../src/process/spawn.ts';
import { aliveNow, cmdline, groupMembersNow, NODE, watchdogChildren, watchdogsNow } from './helpers.ts';
import { unwatchGroup, watchdogPid, watchedGroups, watchGroup } from '../../src/process/watchdog.ts';

const T = { timeout: 15_000 };

test('planLaunch: setpriv --pdeathsig SIGKILL around the argv unchanged; planGate the same around the gate wrapper; planWatchdog is one sh for all groups', () => {
  assert.deepEqual(planLaunch(['llama-server', '--port', '5800'], '/usr/bin/setpriv'), {
    file: '/usr/bin/setpriv',
    args: ['--pdeathsig', 'SIGKILL', '--', 'llama-server', '--port', '5800'],
    mode: 'setpriv+watchdog',
  });
  assert.deepEqual(planLaunch(['sh', '-c', 'a & b; wait'], undefined), { file: 'sh', args: ['-c', 'a & b; wait'], mode: 'watchdog' });
  assert.deepEqual(planGate('/usr/bin/setpriv'), {
    file: '/usr/bin/setpriv',
    args: ['--pdeathsig', 'SIGKILL', '--', '/bin/sh', '-c', GATE_SCRIPT, GATE_NAME],
    mode: 'setpriv+watchdog',
  });
  assert.deepEqual(planGate(undefined), { file: '/bin/sh', args: ['-c', GATE_SCRIPT, GATE_NAME], mode: 'watchdog' });
  assert.deepEqual(planWatchdog(), { file: '/bin/sh', args: ['-c', WATCHDOG_SCRIPT, WATCHDOG_NAME] });
});

test('findExecutable: as given with a slash, else on PATH; ENOENT and EACCES like execvp', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-launch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'runme'), '#!/bin/sh\n');
  chmodSync(join(dir, 'runme'), 0o755);
  writeFileSync(join(dir, 'plain'), 'data');
  chmodSync(join(dir, 'plain'), 0o644);
  assert.deepEqual(findExecutable('runme', `/nonexistent:${dir}`), { ok: true, path: join(dir, 'runme') });
  assert.deepEqual(findExecutable(join(dir, 'runme'), ''), { ok: true, path: join(dir, 'runme') });
  assert.deepEqual(findExecutable('runme', '/nonexistent'), { ok: false, code: 'ENOENT' });
  assert.deepEqual(findExecutable('plain', dir), { ok: false, code: 'EACCES' });
  assert.deepEqual(findExecutable(dir, ''), { ok: false, code: 'ENOENT' }, 'a directory is not a command');
  assert.equal(findExecutable(NODE, undefined).ok, true);
});

test('findSetpriv finds util-linux setpriv here (the e2e kill -9 tests rely on it)', (t) => {
  const path = findSetpriv();
  if (path === undefined) return t.skip('no setpriv with --pdeathsig on this machine; the watchdog alone is used');
  assert.match(path, /setpriv$/);
});

/** The watchdog holding `pgid` (helpers.ts watchdogsNow), with its parent and session id (/proc/<pid>/stat fields 4 and 6). */
function watchdogsOf(pgid: number): { pid: number; ppid: number; sid: number }[] {
  return watchdogsNow(pgid).map((pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), sid: Number(fields[3]) };
  });
}

test('the leader is the server itself, alone in its group, stdin /dev/null, no pipe of ours; the watchdog is our child in a session of its own', T, async (t) => {
  let out = '';
  // libuv's pipes are socketpairs: besides stdout and stderr the server must hold none.
  const script =
    "const fs=require('fs');const link=(f)=>{try{return fs.readlinkSync('/proc/self/fd/'+f)}catch{return ''}};" +
    "const other=fs.readdirSync('/proc/self/fd').filter(f=>f!=='1'&&f!=='2'&&link(f).startsWith('socket:'));" +
    "console.log('stdin='+link(0));console.log('sockets='+other.length);setInterval(()=>{},1000)";
  const child = spawnChild([NODE, '-e', script], { env: {}, onOutput: (s) => (out += s) });
  const pgid = child.pid!;
  t.after(() => signalGroup(pgid, 'SIGKILL'));
  assert.equal(await child.spawned, true);
  while (!out.includes('sockets=')) await new Promise((r) => setTimeout(r, 10));
  assert.match(out, /stdin=\/dev\/null/);
  assert.match(out, /sockets=0/);
  assert.equal(cmdline(pgid), `${NODE} -e ${script}`, 'the leader runs the argv exactly');
  assert.deepEqual(groupMembersNow(pgid), [pgid]);
  const [watchdog] = watchdogsOf(pgid);
  assert.ok(watchdog !== undefined, 'the watchdog holds the group');
  assert.deepEqual(watchdogChildren(process.pid), [watchdog.pid], 'one watchdog among our children, for every group');
  assert.equal(watchdog.ppid, process.pid, 'our own child');
  assert.equal(watchdog.sid, watchdog.pid, 'it leads a session of its own: no terminal signal reaches it');
  assert.notEqual(watchdog.sid, pgid);
});

test('groupGone() withdraws the group: the watchdog drops it and stays for the others; a leader that exits alone ends in ESRCH, no zombie left', T, async (t) => {
  const child = spawnChild(['sh', '-c', `"${NODE}" -e "setInterval(() => {}, 1000)" & sleep 0.2; exit 3`], { env: {}, onOutput: () => {} });
  const pgid = child.pid!;
  t.after(() => signalGroup(pgid, 'SIGKILL'));
  const [watchdog] = watchdogsOf(pgid);
  assert.ok(watchdog !== undefined);
  assert.equal((await child.exited).code, 3);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(groupMembersNow(pgid).length, 1, 'the leader\'s child outlives it: sweeping is the caller\'s job (upstream-process.ts)');
  assert.deepEqual(watchdogsOf(pgid).map((w) => w.pid), [watchdog.pid], 'the watchdog holds the group while it lives');
  signalGroup(pgid, 'SIGKILL');
  while (groupMembersNow(pgid).length > 0) await new Promise((r) => setTimeout(r, 10));
  child.groupGone();
  assert.ok(!watchedGroups().includes(pgid), 'withdrawn');
  assert.ok(aliveNow(watchdog.pid), 'the watchdog stays, for the groups to come');

  // A leader that is the whole group: once it exits, kill(-pgid, 0) says ESRCH at once (nothing left to scan for).
  const alone = spawnChild([NODE, '-e', 'setTimeout(() => {}, 100)'], { env: {}, onOutput: () => {} });
  assert.equal(watchdogPid(), watchdog.pid, 'the same watchdog for the next group');
  await alone.exited;
  assert.equal(signalGroup(alone.pid!, 0), false);
  alone.groupGone();
});

test('a pgid announced twice (the kernel gave it to a new group before the old one was withdrawn) is withdrawn once per group, once per child', T, async (t) => {
  const child = spawnChild([NODE, '-e', 'setInterval(() => {}, 1000)'], { env: {}, onOutput: () => {} });
  const pgid = child.pid!;
  t.after(() => signalGroup(pgid, 'SIGKILL'));
  const count = (): number => watchedGroups().filter((g) => g === pgid).length;
  assert.equal(count(), 1);
  assert.equal(watchGroup(pgid), undefined); // the later group with the same pgid
  assert.equal(count(), 2);
  child.groupGone();
  child.groupGone(); // idempotent: the same child withdraws its group once
  assert.equal(count(), 1, 'the later group is still held');
  unwatchGroup(pgid);
  assert.equal(count(), 0);
  unwatchGroup(pgid); // nothing left to withdraw: no effect
  assert.equal(count(), 0);
});

test('the watchdog script: +PGID holds a group, -PGID drops it, other lines are ignored; EOF (the proxy gone) SIGKILLs each group still held, whole', T, async (t) => {
  const group = (): number => {
    const g = spawn('sh', ['-c', `"${NODE}" -e "setInterval(() => {}, 1000)" & exec "${NODE}" -e "setInterval(() => {}, 1000)"`], { detached: true, stdio: 'ignore' });
    t.after(() => signalGroup(g.pid!, 'SIGKILL'));
    return g.pid!;
  };
  const [kept, dropped, alsoHeld, twice] = [group(), group(), group(), group()];
  for (const g of [kept, dropped, alsoHeld, twice]) while (groupMembersNow(g).length < 2) await new Promise((r) => setTimeout(r, 10));
  const plan = planWatchdog();
  const wd = spawn(plan.file, plan.args, { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = once(wd, 'exit');
  // A pgid that is a prefix or suffix of another must not drop it: write the lookalikes too.
  wd.stdin!.write(`+${dropped}\n+${alsoHeld}\n+${kept}\n-${String(kept).slice(0, -1)}\n-${kept}0\nnoise\n+\n-0\n+-1\n-${dropped}\n-${dropped}\n+${twice}\n+${twice}\n-${twice}\n+${kept}*\n+${kept} ${dropped}\n-${alsoHeld}*\n-${alsoHeld}x\n`);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(groupMembersNow(kept).length, 2, 'nothing is killed while the pipe is open');
  wd.stdin!.destroy();
  assert.deepEqual(await exited, [0, null]);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(groupMembersNow(kept).length, 0, 'EOF: a held group is gone, whole');
  assert.equal(groupMembersNow(alsoHeld).length, 0, 'EOF: every held group (a line with more than digits is ignored)');
  assert.equal(groupMembersNow(twice).length, 0, 'added twice, dropped once: still held');
  assert.equal(groupMembersNow(dropped).length, 2, 'a dropped group is left alone');

  // Nothing held: EOF ends it quietly.
  const idle = spawn(plan.file, plan.args, { stdio: ['pipe', 'ignore', 'ignore'] });
  const idleExit = once(idle, 'exit');
  idle.stdin!.end();
  assert.deepEqual(await idleExit, [0, null]);
});

test('a command that is not found is a spawn error naming it, even through setpriv', T, async () => {
  const child = spawnChild(['/nonexistent/llama-server', '--port', '1'], { env: {}, onOutput: () => {} });
  assert.equal(child.pid, undefined);
  assert.equal(await child.spawned, false);
  const exit = await child.exited;
  assert.equal((exit.spawnError as NodeJS.ErrnoException).code, 'ENOENT');
  assert.match(exit.spawnError!.message, /\/nonexistent\/llama-server/);
});

test('spawnChild never throws: a NUL byte in an argument and running out of file descriptors are spawn errors', T, async (t) => {
  const nul = spawnChild([NODE, '-e', 'a\0b'], { env: {}, onOutput: () => {} });
  assert.equal(nul.pid, undefined);
  assert.equal(await nul.spawned, false);
  assert.match(String((await nul.exited).spawnError), /null bytes/);

  // A process that has used up its descriptors (ulimit -n 128): Node sets up no pipes and reports EMFILE.
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-emfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spawnTs = fileURLToPath(new URL('../../src/process/spawn.ts', import.meta.url));
  writeFileSync(join(dir, 'emfile.ts'), `import { openSync } from 'node:fs';
import { spawnChild } from ${JSON.stringify(spawnTs)};
try { for (;;) openSync('/dev/null', 'r'); } catch {}
const c = spawnChild(['/bin/true'], { env: {}, onOutput: () => {} });
const exit = await c.exited;
console.log(JSON.stringify({ pid: c.pid ?? null, spawned: await c.spawned, code: exit.spawnError?.code ?? null }));
process.exit(0);
`);
  const out = execFileSync('/bin/sh', ['-c', 'ulimit -n 128 && exec "$0" "$1"', NODE, join(dir, 'emfile.ts')], { encoding: 'utf8', timeout: 10_000 });
  assert.deepEqual(JSON.parse(out), { pid: null, spawned: false, code: 'EMFILE' });
});
