/**
 * The benchmark instruments' SCHED_IDLE helper threads
 * (src/demo/idle-helpers.ts), read back through /proc in a child process:
 * every V8Worker thread changes policy, nothing else does.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';

const MODULE = fileURLToPath(new URL('../../src/demo/idle-helpers.ts', import.meta.url));
const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

interface Thread {
  readonly tid: number;
  readonly comm: string;
  readonly policy: number;
}

/** Threads of this process with their policy (/proc/self/task/<tid>/stat field 41); runs in the child. */
const probe = `
import { readdirSync, readFileSync } from 'node:fs';
import { idleV8Helpers } from ${JSON.stringify(MODULE)};
const threads = () => readdirSync('/proc/self/task').map((tid) => {
  const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { tid: Number(tid), comm: readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim(), policy: Number(fields[38]) };
});
const before = threads();
const result = await idleV8Helpers();
console.log(JSON.stringify({ before, result, after: threads() }));
`;

test('idleV8Helpers puts every V8Worker thread, and only those, under SCHED_IDLE', async () => {
  const r = await execa(process.execPath, ['--input-type=module', '-e', probe]);
  const out = JSON.parse(r.stdout) as { before: Thread[]; result: { ok: boolean; threads?: number; reason?: string }; after: Thread[] };
  assert.ok(out.result.ok, out.result.reason);
  const workers = out.after.filter((t) => t.comm.startsWith('V8Worker'));
  assert.ok(workers.length > 0, 'Node starts V8 helper threads');
  assert.equal(out.result.threads, workers.length);
  assert.ok(out.before.every((t) => t.policy === SCHED_OTHER), 'everything starts as SCHED_OTHER');
  for (const t of workers) assert.equal(t.policy, SCHED_IDLE, `${t.comm} ${t.tid}`);
  for (const t of out.after.filter((x) => !x.comm.startsWith('V8Worker'))) assert.equal(t.policy, SCHED_OTHER, `${t.comm} ${t.tid} keeps its policy`);
});
