import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmdStopArgv, runCmdStop } from '../../src/process/cmd-stop.ts';
import { liveGroupMembers, liveStatSync, parseStat, signalGroup } from '../../src/process/kill-group.ts';
import { OutputTail } from '../../src/process/output-tail.ts';
import { abortIf, timeoutIf } from '../../src/process/start-race.ts';

const STAT_TAIL = '0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 387928 3133440 381 18446744073709551615 0 0 0';

test('parseStat reads state, pgrp and start time even when comm contains spaces and parentheses', () => {
  assert.deepEqual(parseStat(`1234 (llama) server (x)) S 1 5678 5678 ${STAT_TAIL}`), { state: 'S', pgrp: 5678, startTime: '387928' });
  assert.deepEqual(parseStat(`77 (node) Z 1 77 77 ${STAT_TAIL}`), { state: 'Z', pgrp: 77, startTime: '387928' });
  assert.equal(parseStat('77 (node) Z 1 77 77 0'), undefined, 'truncated: no start time');
  assert.equal(parseStat('garbage'), undefined);
});

test('liveStatSync: this process is alive with a start time; a pid that cannot exist is not', () => {
  const me = liveStatSync(process.pid);
  assert.ok(me !== undefined);
  assert.match(me.startTime, /^\d+$/);
  assert.equal(liveStatSync(2 ** 23), undefined);
});

test('cmdStopArgv replaces every ${PID} in every argument', () => {
  assert.deepEqual(cmdStopArgv(['kill', '-TERM', '${PID}', 'x${PID}y${PID}'], 42), ['kill', '-TERM', '42', 'x42y42']);
});

test('runCmdStop reports failures without rejecting', async () => {
  assert.deepEqual(await runCmdStop([process.execPath, '-e', 'process.exit(0)'], { env: {}, timeoutMs: 5000, onOutput: () => {} }), { ok: true, detail: 'exit code 0' });
  assert.equal((await runCmdStop([process.execPath, '-e', 'process.exit(5)'], { env: {}, timeoutMs: 5000, onOutput: () => {} })).detail, 'exit code 5');
  const missing = await runCmdStop(['/nonexistent/stopper'], { env: {}, timeoutMs: 5000, onOutput: () => {} });
  assert.equal(missing.ok, false);
  assert.match(missing.detail, /ENOENT/);
  // spawn() itself throws on a NUL byte: still a result, not a rejection
  assert.deepEqual(await runCmdStop([process.execPath, 'a\0b'], { env: {}, timeoutMs: 5000, onOutput: () => {} }), { ok: false, detail: 'spawn failed: ERR_INVALID_ARG_VALUE' });
});

test('runCmdStop ends a stop command that outlives its timeout: SIGTERM, then SIGKILL', async () => {
  const obeys = await runCmdStop([process.execPath, '-e', 'setInterval(() => {}, 1000)'], { env: {}, timeoutMs: 200, onOutput: () => {} });
  assert.deepEqual(obeys, { ok: false, detail: 'signal SIGTERM (timed out)' });
  let out = '';
  const ignores = await runCmdStop([process.execPath, '-e', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)'], { env: {}, timeoutMs: 300, onOutput: (s) => (out += s) });
  assert.deepEqual(ignores, { ok: false, detail: 'signal SIGKILL (timed out)' });
  assert.match(out, /up/);
});

test('a group that does not exist has no live members and cannot be signalled', async () => {
  // pid_max is at most 2^22, so this pgid cannot exist.
  assert.equal(signalGroup(2 ** 23, 'SIGTERM'), false);
  assert.deepEqual(await liveGroupMembers(2 ** 23), []);
});

test('OutputTail keeps the last non-empty lines of this run only', () => {
  const tail = new OutputTail(64);
  assert.equal(tail.describe(), 'no output');
  tail.push('a\n\nb\r\n');
  tail.push('c');
  assert.deepEqual(tail.lastLines(2), ['b', 'c']);
  for (let i = 0; i < 100; i++) tail.push(`line ${i}\n`);
  assert.deepEqual(tail.lastLines(1), ['line 99']);
  assert.match(tail.describe(2), /^last output:\n {2}line 98\n {2}line 99$/);
});

test('timeoutIf and abortIf contribute nothing when disabled', () => {
  const signal = new AbortController().signal;
  assert.deepEqual(timeoutIf(0, signal, () => ({ kind: 'healthy' })), []);
  assert.deepEqual(timeoutIf(Infinity, signal, () => ({ kind: 'healthy' })), []);
  assert.deepEqual(abortIf(undefined), []);
});
