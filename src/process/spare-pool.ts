/**
 * One launch wrapper kept waiting for whichever model starts next (Linux
 * only): a start takes it and writes the model's environment and argv
 * through its gate (./launch.ts `gateLine`), so the server is exec'd at once,
 * with no fork of the proxy on the start's path; a new spare is spawned
 * `refillDelayMs` later.
 *
 * Why (bench/findings.md, "Cold start and swaps: where the router's
 * milliseconds were"): forking the ~100 MB proxy blocks its event loop for
 * 1.5–5 ms, and a watchdog's fork another 1–4 ms (one per group then; one
 * for all now, ./watchdog.ts). A start
 * paid both before the server could exec; a swap, which used to spawn the
 * target's wrapper while the evicted server exited, slowed that exit by
 * ~2.5 ms (the forks and execs took the CPU the exiting server needed). The
 * refill lands while the new server loads, when nothing waits on the proxy.
 *
 * A spare is no model's and no state: it runs no server, holds no port and
 * no GPU memory, is registered for the exit-time kill (./kill-group.ts) and
 * in the state file (./state-file.ts, relabelled as the model's when taken),
 * and dies with the proxy like any upstream (setpriv's pdeathsig, the watchdog).
 * It does not keep the event loop alive while it waits. One that dies on its
 * own is cleaned up at once and replaced at the next start (never in a loop);
 * a take checks through /proc that the one it takes still lives.
 */
import type { Logger } from 'pino';
import { liveStatSync, registerGroup } from './kill-group.ts';
import { findExecutable, gateLine, GATE_NAME } from './launch.ts';
import { forgetGroup } from './launcher.ts';
import { type Child, spawnGate } from './spawn.ts';
import type { GroupStateFile } from './state-file.ts';
import { terminateGroup } from './terminate.ts';

/** The model name a waiting spare has in the state file. */
export const SPARE_LABEL = '(spare launch wrapper)';

/** How long after a take the next spare is spawned: inside the new server's load, past its exec. */
export const REFILL_DELAY_MS = 25;

interface Spare {
  readonly child: Child;
  /** Where its output goes: nowhere until a start takes it (the wrapper itself prints nothing). */
  readonly output: { to: (text: string) => void };
}

export interface SparePoolOptions {
  readonly log: Logger;
  readonly refillDelayMs?: number;
  /** Path of setpriv, or null not to use it (tests); default: found once on PATH. */
  readonly setpriv?: string | null;
  /** Where live groups are recorded for the next start's reaper; none by default. */
  readonly groups?: Pick<GroupStateFile, 'add' | 'remove'>;
}

export class SparePool {
  readonly #log: Logger;
  readonly #refillDelayMs: number;
  readonly #setpriv: string | null | undefined;
  readonly #groups: Pick<GroupStateFile, 'add' | 'remove'> | undefined;
  #spare: Spare | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SparePoolOptions) {
    this.#log = options.log;
    this.#refillDelayMs = options.refillDelayMs ?? REFILL_DELAY_MS;
    this.#setpriv = options.setpriv;
    this.#groups = options.groups;
  }

  /** The waiting spare's pid, if one waits. */
  get pid(): number | undefined {
    return this.#spare?.child.pid;
  }

  /** Spawn a spare now unless one waits (or the pool is closed, or this is not Linux). */
  fill(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#spare !== undefined || this.#closed || process.platform !== 'linux') return;
    const output = { to: (_text: string): void => {} };
    const child = spawnGate({ onOutput: (text) => output.to(text), setpriv: this.#setpriv });
    if (child.pid === undefined) {
      void child.exited.then((e) => this.#log.debug({ err: e.spawnError?.message }, 'could not spawn a spare launch wrapper'));
      return;
    }
    registerGroup(child.pid);
    this.#groups?.add(SPARE_LABEL, child.pid, [GATE_NAME]);
    child.keepAlive(false);
    const spare: Spare = { child, output };
    void child.exited.then(() => {
      if (this.#spare !== spare) return; // taken (the run's to handle) or dropped already
      this.#spare = undefined; // died while waiting: cleaned up, replaced at the next take (never in a loop)
      void this.#drop(spare);
    });
    this.#spare = spare;
  }

  /**
   * The waiting spare, released to run `argv` with `env` on top of the
   * proxy's environment, its output going to `onOutput`; undefined (start it
   * directly) when none waits, the one waiting died, the command is not
   * found (a direct spawn reports that as the spawn error naming it), or the
   * line cannot carry it (./launch.ts `gateLine`). Taking one, or finding
   * none, schedules the next spare.
   */
  take(argv: readonly string[], env: Readonly<Record<string, string>>, onOutput: (text: string) => void): Child | undefined {
    const spare = this.#spare;
    if (spare === undefined) {
      this.#scheduleRefill();
      return undefined;
    }
    const line = gateLine(argv, env);
    if (line === undefined || !findExecutable(argv[0]!, env.PATH ?? process.env.PATH).ok) return undefined;
    this.#spare = undefined;
    this.#scheduleRefill();
    if (liveStatSync(spare.child.pid!) === undefined) {
      // died, its exit not yet seen (one that was seen is no longer the pool's)
      void this.#drop(spare);
      return undefined;
    }
    spare.output.to = onOutput;
    spare.child.keepAlive(true);
    spare.child.release(line);
    return spare.child;
  }

  /** Drop the waiting spare (its group SIGKILLed, waited for) and spawn no more. Never rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare !== undefined) await this.#drop(spare);
  }

  #scheduleRefill(): void {
    if (this.#closed || this.#timer !== undefined || process.platform !== 'linux') return;
    this.#timer = setTimeout(() => this.fill(), this.#refillDelayMs);
    this.#timer.unref();
  }

  /** SIGKILL a spare's group (it holds nothing), wait until it is gone, and undo its records. */
  async #drop(spare: Spare): Promise<void> {
    const pgid = spare.child.pid!;
    const gone = await terminateGroup({
      pgid, leaderExited: spare.child.exited, graceMs: 0, polite: false,
      cmdStop: undefined, env: {}, log: this.#log, onOutput: () => {},
    }).catch(() => false);
    if (gone) forgetGroup(spare.child, this.#groups); // else still registered: the exit-time kill tries again
  }
}
