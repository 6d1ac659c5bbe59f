/**
 * An in-memory `Upstream` (contract: src/process/types.ts) whose start and
 * stop are finished by the test, for router tests with no child processes
 * and no sockets. It follows the real state machine's transitions
 * (src/process/upstream-process.ts):
 *
 *   stopped  → starting  ensureReady()                       (startCalls++)
 *   starting → ready     resolveStart()
 *   starting → stopped   failStart(err): every ensureReady caller rejects with err
 *   starting → stopping  stop(): the start is aborted, its callers reject
 *                        (MODEL_UNLOADED, or SHUTTING_DOWN for 'shutdown')
 *   ready    → stopping  stop()
 *   ready    → stopped   crash()
 *   stopping → stopped   finishStop(), or at once (next microtask) unless holdStops
 *   stopping → shutdown  the same, after shutdown()
 *   stopped  → shutdown  shutdown()
 *
 * Every transition is also appended to a journal (shared by a test's fakes,
 * so the order across models can be asserted), and `until(cond)` waits for a
 * condition on the fake, re-checked after every change: no sleeps.
 */
import assert from 'node:assert/strict';
import { ProxyError } from '../../src/errors.ts';
import type { ExitReason, ProcessStatus, StatusDetail, StopReason, Upstream } from '../../src/process/types.ts';

/** One stop() call, with the status it found. */
export interface StopCall {
  readonly reason: StopReason;
  readonly from: ProcessStatus;
}

type State =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'starting'; readonly ready: PromiseWithResolvers<void> }
  | { readonly kind: 'ready' }
  | { readonly kind: 'stopping'; readonly done: PromiseWithResolvers<void> }
  | { readonly kind: 'shutdown' };

interface Waiter {
  readonly cond: () => boolean;
  readonly resolve: () => void;
}

export class FakeUpstream implements Upstream {
  readonly model: string;
  /** stopped → starting transitions. */
  startCalls = 0;
  ensureReadyCalls = 0;
  shutdownCalls = 0;
  /** prepareLaunch() calls made while stopped (when a real process would spawn its gated wrapper), and discardLaunch() calls. */
  prepareCalls = 0;
  discardCalls = 0;
  /** Every stop() call, including the ones that found nothing to stop or joined a stop. */
  readonly stopCalls: StopCall[] = [];
  /** When true, a stop stays in `stopping` until finishStop(). */
  holdStops = false;
  /** What device() answers while a run lasts (not stopped or shut down). */
  placedOn: string | undefined;
  /** Told of every status change, as the real process tells its owner (the router sets it). */
  onStatus: ((status: ProcessStatus, detail: StatusDetail) => void) | undefined;
  #reason: ExitReason | undefined;
  readonly #journal: string[];
  readonly #waiters = new Set<Waiter>();
  #state: State = { kind: 'stopped' };
  #closing = false;

  constructor(model: string, journal: string[] = []) {
    this.model = model;
    this.#journal = journal;
  }

  status(): ProcessStatus {
    return this.#state.kind;
  }

  pid(): number | undefined {
    return this.#state.kind === 'stopped' || this.#state.kind === 'shutdown' ? undefined : 4242;
  }

  device(): string | undefined {
    return this.#state.kind === 'stopped' || this.#state.kind === 'shutdown' ? undefined : this.placedOn;
  }

  confirmDown(_waitMs: number): Promise<boolean> {
    return Promise.resolve(this.#state.kind !== 'ready' && this.#state.kind !== 'shutdown');
  }

  prepareLaunch(): void {
    if (this.#state.kind === 'stopped' && !this.#closing) this.prepareCalls++;
  }

  discardLaunch(): void {
    this.discardCalls++;
  }

  async ensureReady(signal?: AbortSignal): Promise<void> {
    this.ensureReadyCalls++;
    this.#changed();
    for (;;) {
      signal?.throwIfAborted();
      const s = this.#state;
      switch (s.kind) {
        case 'ready':
          return;
        case 'stopped':
          if (this.#closing) throw shuttingDown(this.model);
          this.startCalls++;
          this.#set({ kind: 'starting', ready: quietDeferred() }, 'start');
          continue;
        case 'starting':
          return await orAbort(s.ready.promise, signal);
        case 'stopping':
          await orAbort(s.done.promise, signal);
          continue; // re-decide: stopped (start again) or shutdown (refuse)
        case 'shutdown':
          throw shuttingDown(this.model);
      }
    }
  }

  stop(reason: StopReason): Promise<void> {
    const s = this.#state;
    this.stopCalls.push({ reason, from: s.kind });
    switch (s.kind) {
      case 'stopped':
      case 'shutdown':
        this.#changed();
        return Promise.resolve();
      case 'stopping':
        this.#changed();
        return s.done.promise;
      case 'starting':
      case 'ready': {
        const done = Promise.withResolvers<void>();
        this.#set({ kind: 'stopping', done }, `stop(${reason})`);
        if (s.kind === 'starting') {
          s.ready.reject(reason === 'shutdown'
            ? shuttingDown(this.model)
            : new ProxyError('MODEL_UNLOADED', `model "${this.model}" was stopped (${reason}) while starting`));
        }
        if (!this.holdStops) void Promise.resolve().then(() => this.finishStop());
        return done.promise;
      }
    }
  }

  async shutdown(): Promise<void> {
    this.shutdownCalls++;
    this.#closing = true;
    await this.stop('shutdown');
    if (this.#state.kind === 'stopped') this.#set({ kind: 'shutdown' }, 'shutdown');
  }

  /** starting → ready: every ensureReady caller resolves. */
  resolveStart(): void {
    const s = this.#expect('starting');
    this.#set({ kind: 'ready' }, 'ready');
    s.ready.resolve();
  }

  /** starting → stopped: every ensureReady caller rejects with `err`. */
  failStart(err: unknown = new ProxyError('UPSTREAM_START_FAILED', `model "${this.model}" exited during start`)): void {
    const s = this.#expect('starting');
    this.#set({ kind: 'stopped' }, 'start-failed');
    s.ready.reject(err);
  }

  /** stopping → stopped (or shutdown after shutdown()): stop() callers resolve. */
  finishStop(): void {
    const s = this.#expect('stopping');
    this.#set(this.#closing ? { kind: 'shutdown' } : { kind: 'stopped' }, this.#closing ? 'shutdown' : 'stopped');
    s.done.resolve();
  }

  /** ready → stopped: the server died on its own. */
  crash(): void {
    this.#expect('ready');
    this.#set({ kind: 'stopped' }, 'crash');
  }

  /** The reasons of the stop() calls that actually stopped something (found starting or ready). */
  stopReasons(): StopReason[] {
    return this.stopCalls.filter((c) => c.from === 'starting' || c.from === 'ready').map((c) => c.reason);
  }

  /** Resolves once `cond()` holds (checked now and after every change of this fake). */
  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.add({ cond, resolve });
    return promise;
  }

  /** Resolves once the status is `status`. */
  untilStatus(status: ProcessStatus): Promise<void> {
    return this.until(() => this.#state.kind === status);
  }

  #expect<K extends State['kind']>(kind: K): Extract<State, { kind: K }> {
    const s = this.#state;
    assert.equal(s.kind, kind, `fake ${this.model}: expected ${kind}, is ${s.kind}`);
    return s as Extract<State, { kind: K }>;
  }

  #set(next: State, event: string): void {
    const prev = this.#state.kind;
    this.#state = next;
    this.#journal.push(`${this.model}:${event}`);
    if (next.kind === 'starting') this.#reason = undefined;
    const stop = /^stop\((.+)\)$/.exec(event);
    if (stop !== null) this.#reason ??= stop[1] as StopReason;
    if (event === 'crash') this.#reason ??= 'crashed';
    if (event === 'start-failed') this.#reason ??= 'start-failed';
    if (prev !== next.kind) this.onStatus?.(next.kind, { pid: 4242, reason: this.#reason });
    this.#changed();
  }

  #changed(): void {
    for (const w of this.#waiters) {
      if (w.cond()) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }
}

function shuttingDown(model: string): ProxyError {
  return new ProxyError('SHUTTING_DOWN', `model "${model}" is shutting down`);
}

/** A deferred whose rejection is not unhandled when nobody is waiting any more. */
function quietDeferred(): PromiseWithResolvers<void> {
  const d = Promise.withResolvers<void>();
  d.promise.catch(() => {});
  return d;
}

/** `p`, or a rejection with the signal's reason once it aborts (this caller only). */
function orAbort(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return p;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {});
  });
}
