/**
 * The router: owns the run loop, the scheduler and one Upstream per model.
 * Every scheduling decision happens in `#handle`, one event at a time; slow
 * work (swaps, stops) runs outside and comes back as an event.
 *
 * Lifecycle: open → closing (close/destroy) → closed. A second close() joins
 * the first; acquire() after close rejects with SHUTTING_DOWN.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.ts';
import { assertNever, ProxyError } from '../errors.ts';
import type { Upstream } from '../process/types.ts';
import type { RequestId, Scheduler } from '../scheduler/types.ts';
import type { RouterEvent } from './events.ts';
import { IdleTimers } from './idle-timers.ts';
import { RunLoop } from './run-loop.ts';
import { createRouterEffects, type Pending } from './effects.ts';

/** A granted request: forward to `upstream`, then call `release()` exactly once (extra calls are ignored). */
export interface Lease {
  readonly id: RequestId;
  readonly model: string;
  /** Base URL of the model's server, no trailing slash. */
  readonly upstream: string;
  release(): void;
}

export interface RunningInfo {
  readonly model: string;
  readonly state: string;
  readonly inFlight: number;
  readonly queued: number;
  readonly pid: number | undefined;
  readonly proxy: string;
  readonly cmd: string;
  readonly ttl: number;
  readonly name: string | undefined;
  readonly description: string | undefined;
}

export interface RouterDeps {
  readonly config: Config;
  readonly logger: Logger;
  /** Builds the process for a model (the real one is UpstreamProcess). */
  readonly createUpstream: (model: string) => Upstream;
  /** Builds the scheduler around the router's Effects. */
  readonly createScheduler: (effects: import('../scheduler/types.ts').Effects) => Scheduler;
}

export class Router {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #upstreams = new Map<string, Upstream>();
  readonly #scheduler: Scheduler;
  readonly #loop: RunLoop<RouterEvent>;
  readonly #pending = new Map<RequestId, Pending>();
  /** Granted, not yet released: id -> model. */
  readonly #inFlight = new Map<RequestId, string>();
  readonly #lastUse = new Map<string, number>();
  readonly #idle = new IdleTimers();
  /** Why the next stop of a model happens (set just before onUnload). */
  readonly #stopReason = new Map<string, 'unloaded' | 'ttl'>();
  #drainWaiters: Array<() => void> = [];
  /** Set by destroy(): ends a close()'s wait for in-flight requests at once. */
  #destroyed = false;
  #nextId = 1;
  #closing: Promise<void> | undefined;

  constructor(deps: RouterDeps) {
    this.#config = deps.config;
    this.#log = deps.logger;
    for (const id of deps.config.models.keys()) this.#upstreams.set(id, deps.createUpstream(id));
    this.#loop = new RunLoop<RouterEvent>(
      (ev) => this.#handle(ev),
      (err, ev) => this.#onHandlerError(err, ev),
    );
    const effects = createRouterEffects({
      upstreams: this.#upstreams,
      pending: this.#pending,
      post: (ev) => this.#loop.post(ev),
      onGranted: (id, model) => this.#onGranted(id, model),
      stopReason: (model) => this.#stopReason.get(model) ?? 'unloaded',
      logger: this.#log,
    });
    this.#scheduler = deps.createScheduler(effects);
  }

  /**
   * Wait for a grant to serve `model` (a resolved model id). Rejects with a
   * ProxyError (MODEL_NOT_FOUND, CONCURRENCY_LIMIT, UPSTREAM_*, MODEL_UNLOADED,
   * SHUTTING_DOWN, CLIENT_CLOSED). When `signal` aborts before the grant, the
   * request is withdrawn from the scheduler and never granted.
   */
  acquire(model: string, signal?: AbortSignal): Promise<Lease> {
    if (signal?.aborted) return Promise.reject(new ProxyError('CLIENT_CLOSED', 'client closed the request'));
    const id = this.#nextId++;
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = (): void => this.#loop.post({ type: 'cancel', id });
      this.#pending.set(id, { id, model, signal, resolve, reject, onAbort });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#loop.post({ type: 'request', id, model });
    });
  }

  /** Unload models (all when omitted) and resolve once their processes have stopped. */
  async unload(models?: readonly string[], reason: 'unloaded' | 'ttl' = 'unloaded'): Promise<void> {
    const targets = models ?? [...this.#upstreams.keys()];
    this.#loop.post({ type: 'unload', models: targets, reason });
    await Promise.all(targets.map((m) => this.#upstreams.get(m)?.stop(reason)));
  }

  /** A read for /running (may be stale by the time it is sent). Lists models not stopped or with requests. */
  running(): RunningInfo[] {
    const out: RunningInfo[] = [];
    for (const [model, up] of this.#upstreams) {
      const load = this.#scheduler.load(model);
      const state = up.status();
      if ((state === 'stopped' || state === 'shutdown') && load.inFlight === 0 && load.waiting === 0) continue;
      const m = this.#config.models.get(model)!;
      out.push({
        model, state, inFlight: load.inFlight, queued: load.waiting, pid: up.pid(),
        proxy: m.proxy, cmd: m.cmd.join(' '), ttl: m.ttlMs / 1000, name: m.name, description: m.description,
      });
    }
    return out;
  }

  /** Status of one model's process, for /v1/models. */
  status(model: string): string {
    return this.#upstreams.get(model)?.status() ?? 'stopped';
  }

  /** Load `hooks.on_startup.preload` models in order (each as a request, so eviction rules apply). */
  async preload(models: readonly string[]): Promise<void> {
    for (const model of models) {
      try {
        const lease = await this.acquire(model);
        lease.release();
        this.#log.info({ model }, 'preloaded');
      } catch (err) {
        this.#log.error({ model, err: (err as Error).message }, 'preload failed');
      }
    }
  }

  /**
   * Graceful: refuse new requests, fail waiting ones, let in-flight ones finish
   * for up to `deadlineMs`, then stop every process. Idempotent.
   */
  close(deadlineMs = 30_000): Promise<void> {
    this.#closing ??= this.#doClose(deadlineMs);
    return this.#closing;
  }

  /** Abort now: like close() with no time for in-flight requests; also cuts short a close() already waiting. */
  destroy(): Promise<void> {
    this.#destroyed = true;
    for (const w of this.#drainWaiters.splice(0)) w();
    return this.close(0);
  }

  async #doClose(deadlineMs: number): Promise<void> {
    this.#loop.post({ type: 'shutdown', error: new ProxyError('SHUTTING_DOWN', 'modelswap is shutting down') });
    if (this.#inFlight.size > 0 && deadlineMs > 0 && !this.#destroyed) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#drainWaiters.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, deadlineMs))),
      ]);
      clearTimeout(timer);
    }
    this.#idle.clearAll();
    await Promise.all([...this.#upstreams.values()].map((u) => u.shutdown()));
  }

  #onGranted(id: RequestId, model: string): Lease {
    this.#inFlight.set(id, model);
    this.#idle.clear(model);
    this.#lastUse.set(model, Date.now());
    let released = false;
    const upstream = this.#config.models.get(model)!.proxy;
    return {
      id, model, upstream,
      release: () => {
        if (released) return;
        released = true;
        this.#loop.post({ type: 'serveDone', id, model });
      },
    };
  }

  #handle(ev: RouterEvent): void {
    switch (ev.type) {
      case 'request':
        this.#scheduler.onRequest({ id: ev.id, model: ev.model });
        return;
      case 'cancel': {
        const model = this.#pending.get(ev.id)?.model;
        this.#scheduler.onCancel(ev.id);
        this.#forgetPending(ev.id);
        // The model may have just become idle (its last waiter left): restart its TTL clock.
        if (model !== undefined) this.#armIfIdle(model);
        return;
      }
      case 'swapDone':
        this.#scheduler.onSwapDone(ev.model, ev.error);
        if (ev.error === undefined) this.#lastUse.set(ev.model, Date.now());
        this.#armIfIdle(ev.model);
        return;
      case 'serveDone':
        this.#inFlight.delete(ev.id);
        this.#lastUse.set(ev.model, Date.now());
        this.#scheduler.onServeDone(ev.id);
        this.#armIfIdle(ev.model);
        if (this.#inFlight.size === 0) for (const w of this.#drainWaiters.splice(0)) w();
        return;
      case 'unload': {
        const models = ev.models === 'all' ? [...this.#upstreams.keys()] : ev.models;
        for (const m of models) {
          this.#stopReason.set(m, ev.reason);
          this.#idle.clear(m);
        }
        this.#scheduler.onUnload(models);
        for (const m of models) this.#stopReason.delete(m);
        return;
      }
      case 'idleCheck':
        this.#idleCheck(ev.model);
        return;
      case 'shutdown':
        this.#scheduler.onShutdown(ev.error);
        return;
      default:
        assertNever(ev);
    }
  }

  /**
   * A handler threw: a broken invariant (a bug). Log it, and never leave the
   * request that triggered it hanging: fail it with a 500.
   */
  #onHandlerError(err: unknown, ev: RouterEvent): void {
    this.#log.error({ err, event: ev.type }, 'run loop handler failed (bug)');
    if (ev.type !== 'request') return;
    const p = this.#pending.get(ev.id);
    if (p === undefined) return;
    this.#pending.delete(ev.id);
    p.signal?.removeEventListener('abort', p.onAbort);
    p.reject(new ProxyError('INTERNAL', `internal error while scheduling the request: ${String(err)}`, { cause: err }));
  }

  /** The scheduler dropped a cancelled request: settle its promise so nothing leaks. */
  #forgetPending(id: RequestId): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    p.signal?.removeEventListener('abort', p.onAbort);
    p.reject(new ProxyError('CLIENT_CLOSED', 'client closed the request'));
  }

  #armIfIdle(model: string): void {
    const ttl = this.#config.models.get(model)?.ttlMs ?? 0;
    if (ttl <= 0 || this.#closing !== undefined) return;
    const load = this.#scheduler.load(model);
    if (load.inFlight > 0 || load.waiting > 0) return;
    const since = Date.now() - (this.#lastUse.get(model) ?? 0);
    this.#idle.arm(model, Math.max(0, ttl - since), () => this.#loop.post({ type: 'idleCheck', model }));
  }

  /** TTL expiry: unload only if the model is still idle for its whole ttl. */
  #idleCheck(model: string): void {
    const up = this.#upstreams.get(model);
    const ttl = this.#config.models.get(model)?.ttlMs ?? 0;
    if (up === undefined || ttl <= 0 || this.#closing !== undefined) return;
    const state = up.status();
    if (state !== 'ready') return;
    const load = this.#scheduler.load(model);
    if (load.inFlight > 0 || load.waiting > 0) return;
    const idleFor = Date.now() - (this.#lastUse.get(model) ?? 0);
    if (idleFor + 5 < ttl) {
      this.#armIfIdle(model);
      return;
    }
    this.#log.info({ model, ttlSeconds: ttl / 1000 }, 'unloading idle model (ttl)');
    this.#handle({ type: 'unload', models: [model], reason: 'ttl' });
  }
}
