/**
 * The scheduling seam. A Scheduler decides; it touches the world only through
 * Effects; eviction policy is a pure Swapper. Nothing but types lives here.
 *
 * Every Scheduler method runs on the router's single run loop
 * (src/router/run-loop.ts), one event at a time. They are synchronous: they
 * must not be `async`, must not `await`, and must not start timers.
 */
import type { ProxyError } from '../errors.ts';

export type RequestId = number;

/** A request as the scheduler sees it: an id and a resolved model id (never an alias). */
export interface SchedRequest {
  readonly id: RequestId;
  readonly model: string;
}

/** What the scheduler may know of a model's process. May be stale by the time a swap runs; the process decides for real (ensureReady). */
export type ModelStatus = 'stopped' | 'starting' | 'ready' | 'stopping';

/** Why models are unloaded: an explicit unload (API, CLI, config), or their TTL ran out. */
export type UnloadReason = 'unloaded' | 'ttl';

export interface ModelLoad {
  /** Requests granted and not yet done. */
  readonly inFlight: number;
  /** Requests admitted and not yet granted (queued or waiting on a swap). */
  readonly waiting: number;
}

export interface Effects {
  /** Status of a model's process. Used only for the fast path and for `running`. */
  modelStatus(model: string): ModelStatus;
  /** Ids of models whose process is not stopped, sorted. */
  runningModels(): readonly string[];
  /**
   * Start stopping `evict` (in parallel) and then making `model` ready. Returns
   * at once. Exactly one `onSwapDone(model, …)` follows, later, as an event.
   * Must not be called twice for the same model while a swap for it is active.
   */
  startSwap(model: string, evict: readonly string[]): void;
  /**
   * Nobody waits for the swap started for `model` any more (llama-swap #727):
   * do not start the model, or stop its start if it is under way. Evictions
   * already done stay done; a model that was already ready is left running.
   * Returns at once; the swap's `onSwapDone` still follows (usually with an
   * error), and the scheduler must treat it as the result of a forgotten swap.
   */
  cancelSwap(model: string): void;
  /**
   * Hand the request to its caller. Returns false if the caller is gone; the
   * scheduler must then release its reservation and must not count it in flight.
   * On true, exactly one `onServeDone(id)` follows when the request finishes.
   */
  grantServe(id: RequestId): boolean;
  /** Finish a request with an error. No `onServeDone` follows. */
  grantError(id: RequestId, err: ProxyError): void;
  /**
   * Stop these models' processes (in parallel), for `reason`. Returns at once;
   * idempotent per model. For 'shutdown' the stop may be deferred until the
   * requests in flight have drained.
   */
  stopProcesses(models: readonly string[], reason: UnloadReason | 'shutdown'): void;
}

export interface Scheduler {
  /** A new request. Either rejected at admission (grantError), granted, joined to a swap, or queued. */
  onRequest(req: SchedRequest): void;
  /** The caller of a request that is not granted yet went away: forget it, release its reservation. A no-op for granted or unknown ids. */
  onCancel(id: RequestId): void;
  /** The swap started for `model` finished; `error` set if the model could not be made ready. */
  onSwapDone(model: string, error: ProxyError | undefined): void;
  /** A granted request finished (response ended, client gone, or upstream failed). */
  onServeDone(id: RequestId): void;
  /**
   * Unload these models now: fail their waiting requests (MODEL_UNLOADED), forget
   * their active swaps (a later onSwapDone for them is ignored), stop their
   * processes (passing `reason` on to stopProcesses), then reconsider the
   * queue. Requests in flight are not waited for.
   */
  onUnload(models: readonly string[], reason: UnloadReason): void;
  /** Fail every waiting request with `err`, stop every process, refuse (with `err`) all later requests. */
  onShutdown(err: ProxyError): void;
  /**
   * A request granted by the scheduler this one replaces (config reload) is
   * still in flight: count it as in flight here (it blocks evicting its model,
   * and under serial it is the one request in flight). Exactly one
   * `onServeDone(req.id)` follows. Called only before any other event.
   */
  adopt(req: SchedRequest): void;
  /**
   * Optional: time has passed. A scheduler that decides by request age
   * (batch) implements it so a deadline is acted on even when no other event
   * comes; the router then calls it on the run loop at least every
   * `SchedulerOptions.tickMs`. Same rules as every other method: synchronous,
   * acts only through Effects.
   */
  onTick?(): void;
  /** Read-only counts for /running and TTL decisions. */
  load(model: string): ModelLoad;
  /**
   * Requests granted and not yet done, in admission order: what a successor
   * scheduler adopts after a config reload, and what a graceful close waits
   * for. The scheduler is the only place that counts requests in flight.
   */
  inFlight(): readonly SchedRequest[];
}

/** Read-only facts a scheduler may give a Swapper along with the running models. */
export interface EvictionContext {
  /**
   * Whether evicting `model` would have to wait: it has requests in flight, or
   * it is the target of a swap still in progress. A scheduler never stops such
   * a model; an eviction naming one makes the request wait.
   */
  busy(model: string): boolean;
}

/** Eviction policy. */
export interface Swapper {
  /**
   * Which of `running` must stop before `target` may run. A pure function: no
   * logging, no mutation, no process handles. `running` may include `target`
   * (never evict the target itself). `context`, when given, lets a policy
   * prefer idle models; without it every model counts as idle.
   */
  evictionFor(target: string, running: readonly string[], context?: EvictionContext): readonly string[];
  /** Called once per real swap, just before it starts: the only place a swapper may log. */
  onSwapStart(target: string, running: readonly string[], evict: readonly string[]): void;
}

/** What a Scheduler needs at construction besides Effects and Swapper. */
export interface SchedulerOptions {
  readonly effects: Effects;
  readonly swapper: Swapper;
  /** Whether a model id is configured (unknown -> MODEL_NOT_FOUND at admission). */
  readonly isKnown: (model: string) => boolean;
  /** Per-model admission limit (concurrencyLimit). */
  readonly concurrencyLimit: (model: string) => number;
  /** Higher is served first (fifo; a tie-breaker under batch); default 0. */
  readonly priority: (model: string) => number;
  /**
   * The clock, in ms, monotonic (the router's `performance.now`, a test's fake
   * clock). Only schedulers that decide by request age read it.
   */
  readonly now?: () => number;
  /** Expected time to load `model`, in ms (the router's load history); undefined when unknown. */
  readonly loadCostMs?: (model: string) => number | undefined;
  /**
   * The longest the router lets pass between two `onTick` calls, in ms;
   * undefined when it never calls `onTick`. A scheduler must not rely on time
   * passing without an event unless this is set.
   */
  readonly tickMs?: number;
  /**
   * Why a known model can never be served under this configuration (e.g. it
   * needs more memory than the budget has): refused at admission with
   * MODEL_TOO_LARGE instead of waiting forever. Undefined = always admissible.
   */
  readonly refusal?: (model: string) => string | undefined;
}
