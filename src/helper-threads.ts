/**
 * Scheduling policy of this process's V8 helper threads (named "V8Worker":
 * concurrent JIT compilation and GC), so that they do not take the CPU from
 * the event loop.
 *
 * Found by the benchmark (BENCHMARKS.md, findings, "Coalesced reads"): on 2
 * cores, `perf sched timehist` (bench/tools/coalesced.ts) showed an event
 * loop, just woken by an SSE event, post a compile job and be preempted at
 * once by the helper thread it woke (a thread that slept for a second is owed
 * CPU time), for ~2 ms, while the other CPU idled; the event then left late,
 * in one read with the next.
 *
 * - `batch` (modelswap itself, src/cli-main.ts): SCHED_BATCH keeps the
 *   helpers' fair share of CPU, but a waking helper never preempts a running
 *   thread. Nothing starves, so a GC job the main thread waits for finishes.
 * - `idle` (the benchmark's instruments only: the fake llama-server's
 *   --idle-helpers and the load generator): SCHED_IDLE runs them only on a
 *   CPU nothing else wants. Not for modelswap: a starved idle helper holding
 *   part of a parallel GC job makes the main thread wait (priority
 *   inversion), and modelswap shares its machine with inference servers that
 *   can keep every CPU busy.
 *
 * Linux only, through `chrt` (util-linux); lowering one's own threads'
 * policy needs no privilege. Never throws: the result says what happened.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type HelperPolicy = 'batch' | 'idle';
export type HelperPolicyResult = { readonly ok: true; readonly threads: number } | { readonly ok: false; readonly reason: string };

export async function setV8HelperPolicy(policy: HelperPolicy): Promise<HelperPolicyResult> {
  if (process.platform !== 'linux') return { ok: false, reason: `not on Linux (${process.platform})` };
  let tids: string[];
  try {
    const all = await readdir('/proc/self/task');
    const comms = await Promise.all(all.map((tid) => readFile(`/proc/self/task/${tid}/comm`, 'utf8').catch(() => '')));
    tids = all.filter((_, i) => comms[i]!.startsWith('V8Worker'));
  } catch (err) {
    return { ok: false, reason: `cannot list threads: ${(err as Error).message}` };
  }
  if (tids.length === 0) return { ok: false, reason: 'no V8Worker threads found' };
  for (const tid of tids) {
    try {
      await run('chrt', [`--${policy}`, '--pid', '0', tid]);
    } catch (err) {
      const e = err as Error & { stderr?: string };
      return { ok: false, reason: `chrt --${policy} --pid 0 ${tid}: ${e.stderr?.trim() || e.message}` };
    }
  }
  return { ok: true, threads: tids.length };
}
