/**
 * Scheduling policy of this process's V8 helper threads (named "V8Worker":
 * concurrent JIT compilation and GC), so that they do not take the CPU from
 * the event loop.
 *
 * Found by the benchmark (BENCHMARKS.md, findings): on a 2-core machine,
 * `perf sched timehist` showed the event-loop thread, just woken by an
 * upstream's SSE event, post a compile job, be preempted at once by the V8
 * helper thread it woke (a thread that slept for a second is owed CPU time),
 * and wait ~2 ms on that CPU while the other one idled; the event and the
 * next one then reached the client in one read.
 *
 * - `batch` (modelswap itself): SCHED_BATCH keeps the helpers' fair share
 *   but they never preempt a running thread when they wake. Nothing can
 *   starve, so a GC job the main thread waits for still finishes.
 * - `idle` (the benchmark's instruments only: fake upstream, load
 *   generator): SCHED_IDLE runs them only on a CPU nothing else wants. Not
 *   for the proxy: a starved idle helper holding part of a parallel GC job
 *   makes the main thread wait (priority inversion), and modelswap shares its
 *   machine with inference servers that can keep every CPU busy.
 *
 * Linux only, through `chrt` (util-linux); lowering one's own threads'
 * policy needs no privilege. Never throws: the result says what happened.
 */
import { readdir, readFile } from 'node:fs/promises';
import { execa } from 'execa';

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
    const r = await execa('chrt', [`--${policy}`, '--pid', '0', tid], { reject: false });
    if (r.failed) return { ok: false, reason: `chrt --${policy} --pid 0 ${tid}: ${r.stderr || r.shortMessage}` };
  }
  return { ok: true, threads: tids.length };
}
