/**
 * Scheduling policy of V8's helper threads (src/helper-threads.ts), read back
 * through /proc in real child processes: the module with each policy (every
 * V8Worker thread changes, nothing else does), and the modelswap CLI, whose
 * helpers run under SCHED_BATCH while its event loop stays SCHED_OTHER.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';
import { startCli } from './helpers/cli-process.ts';
import { until } from './helpers/modelswap.ts';

const MODULE = fileURLToPath(new URL('../src/helper-threads.ts', import.meta.url));
const SCHED_OTHER = 0;
const SCHED_BATCH = 3;
const SCHED_IDLE = 5;

interface Thread {
  readonly tid: number;
  readonly comm: string;
  readonly policy: number;
}

/** Threads of `pid` with their policy (/proc/<pid>/task/<tid>/stat field 41). */
function threads(pid: number | 'self'): Thread[] {
  const dir = `/proc/${pid}/task`;
  return readdirSync(dir).map((tid) => {
    const stat = readFileSync(`${dir}/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { tid: Number(tid), comm: readFileSync(`${dir}/${tid}/comm`, 'utf8').trim(), policy: Number(fields[38]) };
  });
}

const probe = (policy: string): string => `
import { readdirSync, readFileSync } from 'node:fs';
import { setV8HelperPolicy } from ${JSON.stringify(MODULE)};
${threads.toString()}
const before = threads('self');
const result = await setV8HelperPolicy(${JSON.stringify(policy)});
console.log(JSON.stringify({ before, result, after: threads('self') }));
`;

for (const [policy, expected] of [['batch', SCHED_BATCH], ['idle', SCHED_IDLE]] as const) {
  test(`setV8HelperPolicy('${policy}') changes every V8Worker thread, and only those`, async () => {
    const r = await execa(process.execPath, ['--input-type=module', '-e', probe(policy)]);
    const out = JSON.parse(r.stdout) as { before: Thread[]; result: { ok: boolean; threads?: number; reason?: string }; after: Thread[] };
    assert.ok(out.result.ok, out.result.reason);
    const workers = out.after.filter((t) => t.comm.startsWith('V8Worker'));
    assert.ok(workers.length > 0, 'Node starts V8 helper threads');
    assert.equal(out.result.threads, workers.length);
    assert.ok(out.before.every((t) => t.policy === SCHED_OTHER), 'everything starts as SCHED_OTHER');
    for (const t of workers) assert.equal(t.policy, expected, `${t.comm} ${t.tid}`);
    for (const t of out.after.filter((x) => !x.comm.startsWith('V8Worker'))) assert.equal(t.policy, SCHED_OTHER, `${t.comm} ${t.tid} keeps its policy`);
  });
}

test('the modelswap CLI runs its V8 helper threads under SCHED_BATCH and its event loop as SCHED_OTHER', async (t) => {
  const cli = await startCli(t, 'models: {}\n', 0);
  const pid = cli.child.pid!;
  const helpers = (): Thread[] => threads(pid).filter((x) => x.comm.startsWith('V8Worker'));
  await until(() => helpers().length > 0 && helpers().every((x) => x.policy === SCHED_BATCH), 10_000, 'V8Worker threads under SCHED_BATCH');
  assert.equal(threads(pid).find((x) => x.tid === pid)?.policy, SCHED_OTHER, 'the event loop keeps SCHED_OTHER');
  for (const x of threads(pid).filter((y) => !y.comm.startsWith('V8Worker'))) assert.equal(x.policy, SCHED_OTHER, `${x.comm} ${x.tid} keeps its policy`);
});
