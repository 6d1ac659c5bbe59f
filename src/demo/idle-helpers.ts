/**
 * For the benchmark's instruments only (the fake llama-server's
 * --idle-helpers and the load generator), never modelswap: run this
 * process's V8 helper threads (named "V8Worker": JIT compilation, concurrent
 * GC) under SCHED_IDLE, so they use only a CPU nothing else wants.
 *
 * Why: on 2 cores, `perf sched timehist` (bench/tools/coalesced.ts) showed an
 * instrument's event loop post a compile job and be preempted at once by the
 * helper thread it woke, for ~2 ms, while the other CPU idled; a stamped SSE
 * event then left late, together with the next one, and was counted against
 * whichever path was being measured.
 *
 * Why not modelswap: a starved SCHED_IDLE helper that holds part of a
 * parallel GC job makes the main thread wait (priority inversion), and
 * modelswap shares its machine with inference servers that can keep every
 * CPU busy. (SCHED_BATCH was measured for modelswap: BENCHMARKS.md, findings.)
 *
 * Linux only, through `chrt` (util-linux); lowering one's own threads'
 * policy needs no privilege. Never throws: the result says what happened.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type IdleHelpersResult = { readonly ok: true; readonly threads: number } | { readonly ok: false; readonly reason: string };

export async function idleV8Helpers(): Promise<IdleHelpersResult> {
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
      await run('chrt', ['--idle', '--pid', '0', tid]);
    } catch (err) {
      const e = err as Error & { stderr?: string };
      return { ok: false, reason: `chrt --idle --pid 0 ${tid}: ${e.stderr?.trim() || e.message}` };
    }
  }
  return { ok: true, threads: tids.length };
}
