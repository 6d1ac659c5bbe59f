/**
 * The one watchdog of every upstream's process group (./launch.ts, layer 2):
 * a small `sh` that SIGKILLs the groups it holds when the proxy dies, even by
 * SIGKILL. Spawned with the first group, it stays for the proxy's life; each
 * group is announced (`+PGID`) right after its spawn and withdrawn (`-PGID`)
 * once the proxy saw every member end.
 *
 * It is our child in a session of its own (no terminal signal reaches it)
 * and does not keep the event loop alive. Should it end while the proxy lives
 * (someone killed it), the next `watchGroup` spawns another and tells it
 * every group still held; one that had lived a second or more is replaced at
 * once when groups are held, so a stray kill does not leave them unwatched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { planWatchdog } from './launch.ts';

interface Running {
  readonly child: ChildProcess;
  readonly stdin: Writable;
  readonly startedAt: number;
}

/** Groups announced and not withdrawn, in the order announced. */
const held = new Set<number>();
let running: Running | undefined;

/**
 * Announce group `pgid` to the watchdog, spawning it first if none runs; the
 * error that kept it from starting, if any (the caller then must not let the
 * group run unprotected).
 */
export function watchGroup(pgid: number): Error | undefined {
  held.add(pgid);
  if (running !== undefined) {
    running.stdin.write(`+${pgid}\n`);
    return undefined;
  }
  const started = start();
  if (started instanceof Error) {
    held.delete(pgid);
    return new Error(`cannot start the watchdog of process group ${pgid}: ${started.message}`, { cause: started });
  }
  return undefined;
}

/** Every member of group `pgid` is gone: the watchdog drops it, so a pgid handed out again is never signalled. Idempotent. */
export function unwatchGroup(pgid: number): void {
  if (!held.delete(pgid)) return;
  running?.stdin.write(`-${pgid}\n`);
}

/** The groups the watchdog holds (for tests and diagnostics). */
export function watchedGroups(): readonly number[] {
  return [...held];
}

/** The watchdog's pid while it runs (for tests and diagnostics). */
export function watchdogPid(): number | undefined {
  return running?.child.pid;
}

/** Spawn the watchdog and tell it every group held; the error if it could not start. */
function start(): Running | Error {
  const plan = planWatchdog();
  let child: ChildProcess;
  try {
    child = spawn(plan.file, plan.args, { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch (err) {
    return err as Error;
  }
  child.on('error', () => {}); // a spawn error: its exit follows, handled below
  const stdin = (child.stdio as ChildProcess['stdio'] | undefined)?.[0];
  if (stdin == null || child.pid === undefined) {
    stdin?.destroy();
    return new Error(stdin == null ? 'out of file descriptors (EMFILE)' : 'spawn failed');
  }
  stdin.on('error', () => {}); // EPIPE: it is gone, its exit says so
  child.unref();
  (stdin as Writable & { unref?: () => void }).unref?.();
  const self: Running = { child, stdin, startedAt: performance.now() };
  running = self;
  if (held.size > 0) stdin.write([...held].map((pgid) => `+${pgid}\n`).join(''));
  child.once('exit', () => {
    if (running !== self) return;
    running = undefined;
    // Killed by someone while the proxy lives: replace it now if it had run a while (never in a loop).
    if (held.size > 0 && performance.now() - self.startedAt >= 1000) start();
  });
  return self;
}
