/** How upstreams are launched (src/process/launch.ts): plan, command lookup, setpriv, the watchdog with real processes. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { signalGroup } from '../../src/process/kill-group.ts';
import { findExecutable, findSetpriv, planLaunch, WATCHDOG_NAME, WATCHDOG_SCRIPT } from '../../src/process/launch.ts';
import { spawnChild } from '../../src/process/spawn.ts';
import { cmdline, groupMembersNow, NODE } from './helpers.ts';

const T = { timeout: 15_000 };

test('planLaunch: setpriv --pdeathsig SIGKILL around the watchdog, which gets the argv unchanged', () => {
  assert.deepEqual(planLaunch(['llama-server', '--port', '5800'], '/usr/bin/setpriv'), {
    file: '/usr/bin/setpriv',
    args: ['--pdeathsig', 'SIGKILL', '--', '/bin/sh', '-c', WATCHDOG_SCRIPT, WATCHDOG_NAME, 'llama-server', '--port', '5800'],
    mode: 'setpriv+watchdog',
  });
  assert.deepEqual(planLaunch(['sh', '-c', 'a & b; wait'], undefined), {
    file: '/bin/sh',
    args: ['-c', WATCHDOG_SCRIPT, WATCHDOG_NAME, 'sh', '-c', 'a & b; wait'],
    mode: 'watchdog',
  });
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

test('the watchdog execs the argv: the leader is the server itself, one watcher beside it, stdin /dev/null, no watchdog pipe', T, async (t) => {
  let out = '';
  // libuv's pipes are socketpairs: besides stdout and stderr the server must hold none (not the watchdog's).
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
  const members = groupMembersNow(pgid);
  assert.equal(members.length, 2);
  assert.match(cmdline(members.find((p) => p !== pgid)!), new RegExp(WATCHDOG_NAME));
});

test('the leader exiting takes its group with it: the watcher SIGKILLs what is left, then itself', T, async (t) => {
  const child = spawnChild(['sh', '-c', `"${NODE}" -e "setInterval(() => {}, 1000)" & sleep 0.2; exit 3`], { env: {}, onOutput: () => {} });
  const pgid = child.pid!;
  t.after(() => signalGroup(pgid, 'SIGKILL'));
  const exit = await child.exited;
  assert.equal(exit.code, 3);
  const deadline = Date.now() + 2000;
  while (groupMembersNow(pgid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(groupMembersNow(pgid), []);
});

test('a command that is not found is a spawn error naming it, even through setpriv and the watchdog', T, async () => {
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
