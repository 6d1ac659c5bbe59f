/**
 * Graceful, then bounded, then forced, for one process group, in four steps
 * (the order llama-swap stops a server in):
 * 1. ask: run cmdStop (falling back to SIGTERM if it fails) or SIGTERM the
 *    group; `polite: false` (sweeping after a crash) skips straight to 3;
 * 2. wait up to graceMs for the leader to exit and the group to empty;
 * 3. SIGKILL the group;
 * 4. wait for that too (bounded), then forget the group.
 */
import type { Logger } from 'pino';
import { cmdStopArgv, runCmdStop } from './cmd-stop.ts';
import { signalGroup, unregisterGroup, waitGroupGone } from './kill-group.ts';

/** After SIGKILL, how long to wait for the group to vanish before giving up loudly (D-state processes). */
const KILL_WAIT_MS = 5000;

export interface TerminateOptions {
  /** The group (=== leader pid). */
  readonly pgid: number;
  /** Settles when the leader has exited and been reaped. */
  readonly leaderExited: Promise<unknown>;
  readonly graceMs: number;
  /** false: no SIGTERM/cmdStop, SIGKILL at once (a crashed leader's stragglers). */
  readonly polite: boolean;
  /** argv with literal `${PID}`s, or undefined for SIGTERM. */
  readonly cmdStop: readonly string[] | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly log: Logger;
  /** cmdStop's own output goes to the model's log. */
  readonly onOutput: (text: string) => void;
}

/** Resolves true once every member is gone (false if SIGKILL did not finish them in time). Never rejects. */
export async function terminateGroup(o: TerminateOptions): Promise<boolean> {
  const { pgid } = o;
  let gone = false;
  if (o.polite) {
    ask(o); // (1)
    gone = await waitGroupGone(pgid, o.leaderExited, o.graceMs); // (2)
    if (!gone) o.log.warn({ pid: pgid, graceMs: o.graceMs }, 'upstream did not stop in time; sending SIGKILL to its group');
  }
  if (!gone) {
    signalGroup(pgid, 'SIGKILL'); // (3)
    gone = await waitGroupGone(pgid, o.leaderExited, KILL_WAIT_MS); // (4)
  }
  // Keep a group that is still alive registered, so the exit-time SIGKILL tries again.
  if (gone) unregisterGroup(pgid);
  else o.log.error({ pid: pgid }, 'upstream process group still alive after SIGKILL');
  return gone;
}

/** Step (1). cmdStop runs concurrently with the wait of step (2), like llama-swap's asynchronous stop signal. */
function ask(o: TerminateOptions): void {
  if (o.cmdStop === undefined) {
    signalGroup(o.pgid, 'SIGTERM');
    return;
  }
  const argv = cmdStopArgv(o.cmdStop, o.pgid);
  o.log.info({ cmdStop: argv }, 'running cmdStop');
  let leaderDone = false;
  void o.leaderExited.then(() => (leaderDone = true));
  void runCmdStop(argv, { env: o.env, timeoutMs: o.graceMs, onOutput: o.onOutput }).then((r) => {
    if (r.ok || leaderDone) return;
    o.log.warn({ cmdStop: argv, result: r.detail }, 'cmdStop failed; sending SIGTERM to the group');
    signalGroup(o.pgid, 'SIGTERM');
  });
}
