/**
 * One upstream server's life as a state machine (contract: ./types.ts; the
 * states' data: ./run-state.ts). Every transition is one `#setState` call:
 *
 *   stopped   → launching  ensureReady() (status 'starting')        (#start)
 *   launching → starting   the model's port is free (checked now, or
 *                          while preparing the launch): spawned     (#launch)
 *   launching → stopped    the port is in use by another program;
 *                          stop()/shutdown() during the check       (#launch, stop)
 *   starting → ready     the health check answered 200             (#awaitStart)
 *   starting → stopping  stop()/shutdown(); leader exited or health
 *                        timed out (kill/sweep the group)           (stop, #awaitStart)
 *   ready    → stopping  stop()/shutdown(); a crash that left group
 *                        members behind (SIGKILL sweep)             (stop, #onExit)
 *   ready    → stopped   a crash, group already empty              (#onExit)
 *   stopping → stopped   every group member is gone                (#beginStop)
 *   stopping → shutdown  the same, after shutdown()                (#beginStop)
 *   stopped  → shutdown  shutdown()
 *
 * Every gating decision is made here, on the current state, never by a caller
 * from a snapshot it read earlier: callers say what they want (`ensureReady`,
 * `stop`), never what to do. Each run records `exitReason ??= …`; the first
 * writer wins and `onExit` reports it. No failed state is sticky: a failed
 * start ends in `stopped` and the next ensureReady tries again.
 *
 * `launching` is the port check (./port-check.ts), before anything is
 * spawned; callers see it as `starting` (it is cancellable like one).
 * Spawning (through the shared spare, ./spare-pool.ts), the records of live
 * groups and the early port check of prepareLaunch() belong to ./launcher.ts.
 */
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/types.ts';
import { assertNever, type ProxyError } from '../errors.ts';
import { signalGroup } from './kill-group.ts';
import { OutputWaker } from './health.ts';
import { Launcher } from './launcher.ts';
import { OutputTail } from './output-tail.ts';
import { portTaken } from './port-check.ts';
import { confirmDown, pidOf, type Run, runOf, type State, statusOf, terminateRun } from './run-state.ts';
import type { ChildExit } from './spawn.ts';
import {
  abortedStartError, describeExit, exitedDuringStartError, healthTimeoutError, portInUseError, shutDownError, spawnFailedError,
} from './start-errors.ts';
import { raceStart } from './start-race.ts';
import { drain, untilAborted } from './wait.ts';
import type { UpstreamProcessOptions } from './options.ts';
import type { ProcessStatus, StopReason, Upstream } from './types.ts';

export type { UpstreamProcessOptions } from './options.ts';

export class UpstreamProcess implements Upstream {
  readonly model: string;
  readonly #config: ModelConfig;
  readonly #opts: UpstreamProcessOptions;
  readonly #log: Logger;
  readonly #launcher: Launcher;
  #state: State = { kind: 'stopped' };
  /** Set by shutdown(): no new start, and the stop in progress ends in `shutdown`. */
  #closing = false;

  constructor(model: ModelConfig, options: UpstreamProcessOptions) {
    this.model = model.id;
    this.#config = model;
    this.#opts = options;
    this.#log = options.logger.child({ model: model.id });
    this.#launcher = new Launcher(model, this.#log, options.groups, options.device, options.spares);
  }

  status(): ProcessStatus {
    return statusOf(this.#state);
  }

  pid(): number | undefined {
    return pidOf(this.#state);
  }

  device(): string | undefined {
    return runOf(this.#state)?.device;
  }

  async ensureReady(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const s = this.#state;
      switch (s.kind) {
        case 'ready':
          return;
        case 'stopped':
          if (this.#closing) throw shutDownError(this.model);
          this.#start(); // now `launching`; loop round to join it
          continue;
        case 'launching':
        case 'starting':
          return await untilAborted(s.ready, signal);
        case 'stopping':
          await untilAborted(s.done, signal); // never rejects except by `signal`
          continue; // re-decide: stopped (start again) or shutdown (refuse)
        case 'shutdown':
          throw shutDownError(this.model);
        default:
          assertNever(s);
      }
    }
  }

  stop(reason: StopReason, graceMs: number = this.#config.unloadTimeoutMs): Promise<void> {
    const s = this.#state;
    switch (s.kind) {
      case 'stopped':
      case 'shutdown':
        this.#launcher.discard();
        return Promise.resolve();
      case 'stopping':
        return s.done;
      case 'launching':
        s.abort.abort(reason); // nothing spawned yet: #launch sees the abort and spawns nothing
        this.#launcher.discard(); // nor will the start that would have used its port check
        this.#setState({ kind: 'stopped' });
        return Promise.resolve();
      case 'starting':
        s.run.exitReason ??= reason;
        s.abort.abort(reason);
        return this.#beginStop(s.run, graceMs, true);
      case 'ready':
        s.run.exitReason ??= reason;
        return this.#beginStop(s.run, graceMs, true);
      default:
        return assertNever(s);
    }
  }

  async shutdown(graceMs?: number): Promise<void> {
    this.#closing = true;
    await this.stop('shutdown', graceMs); // drops a spare too: one exists only while stopped or launching
    if (this.#state.kind === 'stopped') this.#setState({ kind: 'shutdown' });
  }

  prepareLaunch(): void {
    if (this.#state.kind === 'stopped' && !this.#closing) this.#launcher.prepare();
  }

  discardLaunch(): void {
    this.#launcher.discard();
  }

  confirmDown(waitMs: number): Promise<boolean> {
    return confirmDown(this.#state, waitMs);
  }

  #setState(next: State): void {
    const prev = this.#state;
    this.#state = next;
    if (statusOf(prev) === statusOf(next) || this.#opts.onStatus === undefined) return;
    const run = runOf(next) ?? runOf(prev);
    this.#opts.onStatus(statusOf(next), { pid: run?.child.pid, reason: run?.exitReason });
  }

  /** stopped → launching; #launch goes on from there. */
  #start(): void {
    const abort = new AbortController();
    const { promise: ready, resolve, reject } = Promise.withResolvers<void>();
    ready.catch(() => {}); // delivered to ensureReady callers; there may be none left
    this.#setState({ kind: 'launching', ready, abort });
    this.#launch(ready, abort).then(resolve, reject);
  }

  /** launching → starting (then the start race), or → stopped when the port is taken. */
  async #launch(ready: Promise<void>, abort: AbortController): Promise<void> {
    const early = this.#launcher.earlyPortFree();
    const taken = early !== undefined && (await early) ? undefined : await portTaken(this.#config, abort.signal);
    const s = this.#state;
    if (s.kind !== 'launching' || s.abort !== abort) throw abortedStartError(this.model, String(abort.signal.reason ?? 'unloaded')); // stop() won
    if (taken !== undefined) {
      const err = portInUseError(this.model, taken.port, this.#config.proxy, taken.who);
      this.#log.error({ err: err.message }, 'upstream not started');
      this.#setState({ kind: 'stopped' });
      throw err;
    }
    const run = this.#spawn();
    this.#setState({ kind: 'starting', run, ready, abort });
    return this.#awaitStart(run, abort);
  }

  /** Spawn the server, register its group, log. */
  #spawn(): Run {
    const tail = new OutputTail();
    const waker = new OutputWaker();
    const onOutput = (text: string): void => {
      tail.push(text);
      waker.poke();
      this.#output(text);
    };
    const { child, device, prepared } = this.#launcher.spawn(onOutput);
    const run: Run = { child, tail, waker, startedAt: performance.now(), device, exitReason: undefined, exit: undefined };
    this.#log.info({ pid: child.pid, cmd: this.#config.cmd, device, launch: child.launch, prepared }, 'starting upstream');
    if (child.launch === 'watchdog') this.#log.debug('no setpriv with --pdeathsig (util-linux) found: the watchdog alone kills this upstream if modelswap dies');
    void child.exited.then((exit) => this.#onExit(run, exit)); // subscribed before the race: runs first
    return run;
  }

  /** Runs the start race and applies its outcome (#state is already `starting` with this run). */
  async #awaitStart(run: Run, abort: AbortController): Promise<void> {
    const { healthCheckTimeoutMs: timeoutMs, checkEndpoint } = this.#config;
    const healthUrl = checkEndpoint === null ? null : this.#config.proxy + checkEndpoint;
    const raced = await raceStart(run.child, { healthUrl, intervalMs: this.#opts.healthIntervalMs ?? 50, waker: run.waker, timeoutMs, controller: abort });
    // A 200 answered by a leader that has exited since is no start.
    const outcome = raced.kind === 'healthy' && run.exit !== undefined ? { kind: 'exited' as const, exit: run.exit } : raced;
    const ours = (): boolean => this.#state.kind === 'starting' && this.#state.run === run;
    switch (outcome.kind) {
      case 'healthy':
        if (!ours()) throw abortedStartError(this.model, run.exitReason ?? 'unloaded'); // stop() won a tie with the health check
        this.#log.info({ pid: run.child.pid, ms: Math.round(performance.now() - run.startedAt) }, 'upstream ready');
        this.#setState({ kind: 'ready', run });
        run.child.batchOutput(true); // its per-request log lines, read a batch at a time (./read-pacer.ts)
        return;
      case 'aborted':
        throw abortedStartError(this.model, run.exitReason ?? 'unloaded'); // the stop() that aborted us owns the state
      case 'exited': {
        const { exit } = outcome;
        let err: ProxyError;
        if (exit.spawnError !== undefined) {
          err = spawnFailedError(this.model, this.#config.cmd[0], exit.spawnError);
        } else {
          await drain(run.child); // the last stderr lines may arrive after `exit`
          err = exitedDuringStartError(this.model, exit, Math.round(performance.now() - run.startedAt), run.tail);
        }
        this.#log.error({ err: err.message }, 'upstream failed to start');
        if (ours()) await this.#beginStop(run, 0, false); // sweep any grandchild left behind
        throw err;
      }
      case 'timeout': {
        run.exitReason ??= 'health-timeout';
        const err = healthTimeoutError(this.model, timeoutMs, healthUrl, outcome.lastAttempt, run.tail);
        this.#log.error({ err: err.message }, 'upstream health check timed out');
        if (ours()) await this.#beginStop(run, this.#config.unloadTimeoutMs, true);
        throw err;
      }
      default:
        assertNever(outcome);
    }
  }

  /** → stopping, then stopped (or shutdown). The returned promise never rejects. */
  #beginStop(run: Run, graceMs: number, polite: boolean): Promise<void> {
    run.child.batchOutput(false); // its last lines as they come
    const { promise: done, resolve } = Promise.withResolvers<void>();
    this.#setState({ kind: 'stopping', run, done });
    const finish = (): void => {
      this.#setState(this.#closing ? { kind: 'shutdown' } : { kind: 'stopped' });
      resolve();
    };
    terminateRun(run, { config: this.#config, launcher: this.#launcher, log: this.#log, onOutput: (t) => this.#output(t), graceMs, polite }).then(finish, (err: unknown) => {
      this.#log.error({ err }, 'stopping upstream failed');
      finish();
    });
    return done;
  }

  /** The leader exited (or never spawned). Crash handling lives here; start and stop handle their own. */
  #onExit(run: Run, exit: ChildExit): void {
    run.exit = exit;
    run.child.batchOutput(false); // drain what is left at once
    const s = this.#state;
    if (s.kind === 'starting' && s.run === run) run.exitReason ??= 'start-failed';
    if (s.kind === 'ready' && s.run === run) {
      run.exitReason ??= 'crashed';
      void drain(run.child).then(() =>
        this.#log.warn({ pid: run.child.pid, code: exit.code, signal: exit.signal }, `upstream exited unexpectedly (${describeExit(exit)}); ${run.tail.describe()}`),
      );
      const pgid = run.child.pid;
      if (pgid !== undefined && signalGroup(pgid, 0)) {
        void this.#beginStop(run, 0, false); // stragglers in the group: SIGKILL them, then stopped
      } else {
        this.#launcher.groupEnded(run.child);
        this.#setState({ kind: 'stopped' });
      }
    }
    this.#opts.onExit?.({ model: this.model, reason: run.exitReason ?? 'crashed', code: exit.code, signal: exit.signal });
  }

  #output(text: string): void {
    this.#opts.logs.push(text);
    this.#opts.onOutput?.(text);
  }
}
