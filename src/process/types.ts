/**
 * The process layer's public face: one upstream server's life. The router
 * never branches on `status()` to decide an action; it calls `ensureReady` or
 * `stop` and the process decides inside its own state machine (llama-swap #946).
 */
export type ProcessStatus = 'stopped' | 'starting' | 'ready' | 'stopping' | 'shutdown';

/** Why a process stopped; the first writer wins. */
export type ExitReason = 'evicted' | 'unloaded' | 'ttl' | 'cancelled' | 'reloaded' | 'shutdown' | 'crashed' | 'start-failed' | 'health-timeout';

/**
 * Reasons a caller may give to stop(). 'cancelled': a load nobody waits for any
 * more (llama-swap #727); 'reloaded': its definition changed or was removed.
 */
export type StopReason = 'evicted' | 'unloaded' | 'ttl' | 'cancelled' | 'reloaded' | 'shutdown';

/** What a status change reports besides the status. */
export interface StatusDetail {
  /** The pid of the run that changed (also once it has exited), if one was spawned. */
  readonly pid: number | undefined;
  /** Why the run ended or is ending, once known (first writer wins). */
  readonly reason: ExitReason | undefined;
}

export interface ExitInfo {
  readonly model: string;
  readonly reason: ExitReason;
  readonly code: number | null;
  readonly signal: string | null;
}

export interface Upstream {
  readonly model: string;
  status(): ProcessStatus;
  /** PID of the process-group leader while a child is alive. */
  pid(): number | undefined;
  /**
   * The device `${DEVICE}` was replaced with in the current run's cmd and env
   * (where the memory router placed it), while it is starting, ready or
   * stopping; undefined when stopped, or when it was placed on no device.
   */
  device(): string | undefined;
  /**
   * Resolve once the server answers its health check. Joins a start in
   * progress; waits out a stop in progress and then starts. Rejects with a
   * ProxyError: UPSTREAM_START_FAILED (spawn error or exit during start, with
   * the last log lines), UPSTREAM_NOT_READY (health timeout), SHUTTING_DOWN.
   * `signal` aborting rejects this caller only (the start goes on).
   */
  ensureReady(signal?: AbortSignal): Promise<void>;
  /**
   * Stop: cmdStop or SIGTERM to the whole group, wait `graceMs` (default the
   * model's unloadTimeout), then SIGKILL the group. Aborts a start in
   * progress. Idempotent: a second call joins the first. Never rejects.
   */
  stop(reason: StopReason, graceMs?: number): Promise<void>;
  /** stop('shutdown') and refuse every later ensureReady. */
  shutdown(graceMs?: number): Promise<void>;
  /**
   * A hint that ensureReady() follows soon (a swap calls it while it stops
   * other models): when stopped, check the model's port now (a port found
   * free need not be checked again at the start). Starts nothing and changes
   * no status; does nothing in any other state. (The fork a start would pay
   * is saved by the shared spare, ./spare-pool.ts, not here: forking while
   * the evicted servers exit slowed their exit.)
   */
  prepareLaunch(): void;
  /** Forget a prepared launch that was not used (the swap failed or was cancelled). Idempotent. */
  discardLaunch(): void;
  /**
   * A request to this server was refused or reset before any byte of an
   * answer. Resolves true once the server is known not to be serving (it has
   * exited, or it is not ready: a retry through the router will start it),
   * false when it is still ready after `waitMs` (it is up and refuses) or the
   * process is shut down (no retry would help). Never rejects.
   */
  confirmDown(waitMs: number): Promise<boolean>;
}
