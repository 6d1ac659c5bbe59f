/**
 * The one watchdog of every upstream's process group (./launch.ts, layer 2):
 * a small `sh` that SIGKILLs the groups it holds when the proxy dies, even by
 * SIGKILL. Spawned with the first group, it stays for the proxy's life; each
 * group is announced (`+PGID`) right after its spawn and withdrawn (`-PGID`)
 * once the proxy saw every member end.
 *
 * A pgid is counted, not just listed: the kernel may hand a pgid to a new
 * group before the proxy withdrew the old one (its stop still confirming),
 * and then each group's withdrawal must take away one entry only, here as in
 * the watchdog.
 *
 * It is our child in a session of its own (no terminal signal reaches it)
 * and does not keep the event loop alive. Should it end while the proxy lives
 * (someone killed it), or fail to start, another is spawned and told every
 * group still held: at the next `watchGroup`, and meanwhile from a timer (one
 * second after the last start, doubling up to a minute while they fail), so
 * that held groups are not left unwatched until the next start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { planWatchdog } from './launch.ts';

interface Running {
  readonly child: ChildProcess;
  readonly stdin: Writable;
  readonly startedAt: number;
}

/** Groups announced and not withdrawn, with how many times each pgid was announced. */
const held = new Map<number, number>();
let running: Running | undefined;
let retry: NodeJS.Timeout | undefined;
let retryMs = 1000;
let lastStartAt = Number.NEGATIVE_INFINITY;
let log: Pick<Logger, 'warn'> | undefined;

/** Where a watchdog that ended while groups were held, or could not start, is reported (none by default). */
export function setWatchdogLog(logger: Pick<Logger, 'warn'> | undefined): void {
  log = logger;
}

/**
 * Announce group `pgid` to the watchdog, spawning it first if none runs; the
 * error that kept it from starting, if any (the caller then must not let the
 * group run unprotected).
 */
export function watchGroup(pgid: number): Error | undefined {
  held.set(pgid, (held.get(pgid) ?? 0) + 1);
  if (running !== undefined) {
    running.stdin.write(`+${pgid}\n`);
    return undefined;
  }
  const started = start(); // tells it every group held, this one included
  if (started instanceof Error) {
    unwatchGroup(pgid);
    return new Error(`cannot start the watchdog of process group ${pgid}: ${started.message}`, { cause: started });
  }
  return undefined;
}

/** One group with pgid `pgid` is gone: the watchdog drops one entry of it, so a pgid handed out again is never signalled. */
export function unwatchGroup(pgid: number): void {
  const n = held.get(pgid);
  if (n === undefined) return;
  if (n > 1) held.set(pgid, n - 1);
  else held.delete(pgid);
  running?.stdin.write(`-${pgid}\n`);
}

/** The groups the watchdog holds, each as often as announced (for tests and diagnostics). */
export function watchedGroups(): readonly number[] {
  return [...held].flatMap(([pgid, n]) => Array.from({ length: n }, () => pgid));
}

/** The watchdog's pid while it runs (for tests and diagnostics). */
export function watchdogPid(): number | undefined {
  return running?.child.pid;
}

/** Spawn the watchdog and tell it every group held; the error if it could not start. */
function start(): Running | Error {
  clearTimeout(retry);
  retry = undefined;
  lastStartAt = performance.now();
  const plan = planWatchdog();
  let child: ChildProcess;
  try {
    child = spawn(plan.file, plan.args, { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch (err) {
    log?.warn({ err: (err as Error).message, groups: held.size }, 'cannot start the process-group watchdog; trying again');
    scheduleRetry();
    return err as Error;
  }
  child.on('error', () => {}); // a spawn error: its exit follows, handled below
  const stdin = (child.stdio as ChildProcess['stdio'] | undefined)?.[0];
  if (stdin == null || child.pid === undefined) {
    stdin?.destroy();
    const err = new Error(stdin == null ? 'out of file descriptors (EMFILE)' : 'spawn failed');
    log?.warn({ err: err.message, groups: held.size }, 'cannot start the process-group watchdog; trying again');
    scheduleRetry();
    return err;
  }
  stdin.on('error', () => {}); // EPIPE: it is gone, its exit says so
  child.unref();
  (stdin as Writable & { unref?: () => void }).unref?.();
  const self: Running = { child, stdin, startedAt: lastStartAt };
  running = self;
  if (held.size > 0) stdin.write(watchedGroups().map((pgid) => `+${pgid}\n`).join(''));
  child.once('exit', (code, signal) => {
    if (running !== self) return;
    running = undefined;
    if (held.size > 0) log?.warn({ pid: child.pid, code, signal, groups: held.size }, 'the process-group watchdog ended while groups were held; starting another');
    if (performance.now() - self.startedAt >= 1000) retryMs = 1000; // it had lived: not a failing start
    scheduleRetry();
  });
  return self;
}

/** While groups are held and none watches them: start another, a second after the last start at least, backing off to a minute. */
function scheduleRetry(): void {
  if (retry !== undefined || held.size === 0) return;
  const wait = Math.max(0, lastStartAt + retryMs - performance.now());
  retryMs = Math.min(retryMs * 2, 60_000);
  retry = setTimeout(() => {
    retry = undefined;
    if (running === undefined && held.size > 0) start();
  }, wait);
  retry.unref();
}
