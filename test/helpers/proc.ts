/**
 * Process liveness from /proc (Linux), for tests that must know whether an
 * upstream process *exists*, not what the proxy believes about it.
 *
 * "Alive" means: /proc/<pid> exists and the process is not a zombie (a zombie
 * has exited and only waits to be reaped; it holds no port and no memory).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { GATE_NAME, WATCHDOG_NAME } from '../../src/process/launch.ts';

/** The one-letter state from /proc/<pid>/stat (R, S, D, Z, …), or undefined when there is no such process. */
export function procState(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid …": comm may contain spaces and parentheses, so split after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

export function isAlive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
}

/** Every process in process group `pgid` (zombies included, with state 'Z'), from one scan of /proc. */
export function groupMembers(pgid: number): Array<{ readonly pid: number; readonly state: string }> {
  const out: Array<{ pid: number; state: string }> = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // After "pid (comm) ": state ppid pgrp …
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== undefined) out.push({ pid, state });
  }
  return out;
}

/**
 * Live children of `ppid` whose command line contains `match`. Reads
 * /proc/<ppid>/task/<tid>/children for every thread (a child belongs to the
 * thread that forked it), which is far cheaper than scanning all of /proc.
 * A launch wrapper still waiting at its gate (src/process/launch.ts: its
 * argv ends in `modelswap-gate`) is not the server yet and is not counted;
 * once released it execs into the server, same pid. Nor is the watchdog
 * (`modelswap-watchdog`).
 */
export function liveChildren(ppid: number, match: string): number[] {
  const out = new Set<number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${ppid}/task`);
  } catch {
    return [];
  }
  for (const tid of tasks) {
    let text = '';
    try {
      text = readFileSync(`/proc/${ppid}/task/${tid}/children`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    for (const word of text.split(' ')) {
      const pid = Number(word);
      if (word === '' || !Number.isInteger(pid) || !isAlive(pid)) continue;
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      const argv = cmdline.split('\0');
      if (cmdline.includes(match) && !argv.includes(WATCHDOG_NAME) && !argv.includes(GATE_NAME)) out.add(pid); // a wrapper waiting at its gate runs no server
    }
  }
  return [...out];
}

type RunningRow = { readonly model: string; readonly state: string; readonly pid: number | undefined };

/** One observation of a sampler: the upstream processes alive, and the rows /running listed. */
export interface AliveSample {
  readonly at: number;
  /** `model` is the model /running last showed with this pid (undefined if it never did). */
  readonly alive: ReadonlyArray<{ readonly pid: number; readonly model: string | undefined }>;
  readonly listed: readonly RunningRow[];
}

export interface AliveSamplerOptions {
  /** Rows as GET /running returns them (in-process: `router.running()`). */
  readonly running: () => readonly RunningRow[];
  /** Also count live children of this process whose cmdline contains this (catches a pid the proxy never listed). */
  readonly childMatch: string;
  /** A broken rule in one sample, described; the first few are kept. */
  readonly violation: (s: AliveSample) => string | undefined;
  readonly intervalMs?: number;
}

/**
 * Samples, every `intervalMs`, which upstream processes exist at once, and
 * checks each sample with `violation`. A pid counts as alive from the first
 * time /running shows it until /proc says it is gone, even after the proxy
 * stops listing it (a process the proxy considers stopped but that still runs
 * is exactly what we must catch); any live matching child of this process
 * counts too.
 */
export class AliveSampler {
  readonly #opts: AliveSamplerOptions;
  /** Pids to watch -> the model /running last showed them under. */
  readonly #known = new Map<number, string | undefined>();
  readonly #everSeen = new Set<number>();
  readonly #violations: string[] = [];
  readonly #timer: NodeJS.Timeout;
  #samples = 0;
  #max: AliveSample = { at: 0, alive: [], listed: [] };

  constructor(opts: AliveSamplerOptions) {
    this.#opts = opts;
    this.#timer = setInterval(() => this.sample(), opts.intervalMs ?? 20);
  }

  /** Take one sample now (also run by the timer). */
  sample(): AliveSample {
    const listed = this.#opts.running().map((r) => ({ model: r.model, state: r.state, pid: r.pid }));
    for (const r of listed) if (r.pid !== undefined) this.#known.set(r.pid, r.model);
    for (const pid of liveChildren(process.pid, this.#opts.childMatch)) if (!this.#known.has(pid)) this.#known.set(pid, undefined);
    const alive: Array<{ pid: number; model: string | undefined }> = [];
    for (const [pid, model] of this.#known) {
      if (isAlive(pid)) alive.push({ pid, model });
      else this.#known.delete(pid); // gone for good (pid reuse within a test run is not a concern)
    }
    for (const a of alive) this.#everSeen.add(a.pid);
    const s: AliveSample = { at: performance.now(), alive, listed };
    this.#samples += 1;
    if (alive.length > this.#max.alive.length) this.#max = s;
    const v = this.#opts.violation(s);
    if (v !== undefined && this.#violations.length < 5) this.#violations.push(`${v}; alive ${JSON.stringify(alive)}; /running ${JSON.stringify(listed)}`);
    return s;
  }

  /** The sample with the most live upstreams (the first such). */
  get max(): AliveSample {
    return this.#max;
  }

  /** The first (up to 5) samples that broke the rule, described. */
  get violations(): readonly string[] {
    return this.#violations;
  }

  get samples(): number {
    return this.#samples;
  }

  /** Every upstream pid seen alive at some sample. */
  get pids(): readonly number[] {
    return [...this.#everSeen];
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
