/**
 * The data of UpstreamProcess's state machine: one spawned server (a Run) and
 * the states that carry it, plus the group's termination at the end of a run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/types.ts';
import { closeIdleConnections } from '../upstream-agent.ts';
import { withDevice } from './device-macro.ts';
import type { OutputWaker } from './health.ts';
import type { Launcher } from './launcher.ts';
import type { OutputTail } from './output-tail.ts';
import type { Child, ChildExit } from './spawn.ts';
import { terminateGroup } from './terminate.ts';
import type { ExitReason, ProcessStatus } from './types.ts';

/** One spawned server, from spawn until its group is gone. */
export interface Run {
  readonly child: Child;
  readonly tail: OutputTail;
  /** Poked on every chunk of output: wakes the health poll (./health.ts). */
  readonly waker: OutputWaker;
  readonly startedAt: number;
  /** What `${DEVICE}` became in its cmd and env (./device-macro.ts); undefined: placed on no device. */
  readonly device: string | undefined;
  /** Why it ended; the first writer wins. */
  exitReason: ExitReason | undefined;
  exit: ChildExit | undefined;
}

export type State =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'launching'; readonly ready: Promise<void>; readonly abort: AbortController }
  | { readonly kind: 'starting'; readonly run: Run; readonly ready: Promise<void>; readonly abort: AbortController }
  | { readonly kind: 'ready'; readonly run: Run }
  | { readonly kind: 'stopping'; readonly run: Run; readonly done: Promise<void> }
  | { readonly kind: 'shutdown' };

/** The status callers see: `launching` is part of starting. */
export function statusOf(s: State): ProcessStatus {
  return s.kind === 'launching' ? 'starting' : s.kind;
}

/** The run a state carries, if any. */
export function runOf(s: State): Run | undefined {
  return s.kind === 'starting' || s.kind === 'ready' || s.kind === 'stopping' ? s.run : undefined;
}

/** The pid of the run's leader while it is alive. */
export function pidOf(s: State): number | undefined {
  if (s.kind !== 'starting' && s.kind !== 'ready' && s.kind !== 'stopping') return undefined;
  return s.run.exit === undefined ? s.run.child.pid : undefined;
}

/**
 * Upstream.confirmDown on state `s`: true at once when not ready (it is not
 * the server that refused), true when the ready run exits within `waitMs`,
 * false when it is still running then, or the process is shut down.
 */
export async function confirmDown(s: State, waitMs: number): Promise<boolean> {
  if (s.kind === 'shutdown') return false;
  if (s.kind !== 'ready') return true;
  const ac = new AbortController();
  try {
    return await Promise.race([s.run.child.exited.then(() => true), sleep(waitMs, false, { signal: ac.signal })]);
  } finally {
    ac.abort();
  }
}

export interface TerminateRunOptions {
  readonly config: ModelConfig;
  readonly launcher: Launcher;
  readonly log: Logger;
  readonly onOutput: (text: string) => void;
  readonly graceMs: number;
  /** cmdStop or SIGTERM first (true), or SIGKILL at once. */
  readonly polite: boolean;
}

/** Terminate the run's whole group (./terminate.ts), then log. Never rejects unless terminateGroup does. */
export async function terminateRun(run: Run, o: TerminateRunOptions): Promise<void> {
  const pgid = run.child.pid;
  if (pgid === undefined) return; // never spawned
  // Our idle kept-alive connections would hold a llama-server's exit back (../upstream-agent.ts).
  closeIdleConnections(o.config.proxy);
  const gone = await terminateGroup({
    pgid,
    leaderExited: run.child.exited,
    graceMs: o.graceMs,
    polite: o.polite,
    cmdStop: o.config.cmdStop,
    env: withDevice([], o.config.env, run.device).env, // the environment the server was started with
    log: o.log,
    onOutput: o.onOutput,
  });
  if (gone) o.launcher.groupEnded(run.child); // else keep it listed (the next start may reap it) and watched
  o.log.info({ pid: pgid, reason: run.exitReason }, 'upstream stopped');
}
