/**
 * Drives one Scheduler against a FakeEffects the way the router's run loop
 * would: a swap "finishes" by the test calling onSwapDone (after setting the
 * statuses the real swap would leave behind), a request "finishes" by the
 * test calling onServeDone. Synchronous; no timers.
 */
import assert from 'node:assert/strict';
import { ProxyError } from '../../src/errors.ts';
import type { RequestId, Scheduler, SchedulerOptions } from '../../src/scheduler/types.ts';
import { FakeEffects, stubSwapper, type StartRec } from './fake-effects.ts';

/** Builds the scheduler under test. `opts.swapper` is the suite's table-driven stub. */
export type CreateScheduler = (effects: FakeEffects, opts: Omit<SchedulerOptions, 'effects'>) => Scheduler;

export interface HarnessOptions {
  /** target -> models it evicts (when running). */
  readonly evict?: Readonly<Record<string, readonly string[]>>;
  /** concurrencyLimit per model; default 10. */
  readonly limits?: Readonly<Record<string, number>>;
  /** fifo priority per model; default 0. */
  readonly priority?: Readonly<Record<string, number>>;
}

/** The configured models; anything else is unknown. */
export const KNOWN_MODELS: ReadonlySet<string> = new Set(['a', 'b', 'c', 'x', 'z', 'A', 'B', 'C', 'D']);

export class Harness {
  readonly fx = new FakeEffects();
  readonly s: Scheduler;
  /** What the swapper's onSwapStart was told, in order. */
  readonly swapStarts: StartRec[] = [];
  readonly #done = new Set<RequestId>();
  /** Index into fx.starts of the next swap settle() completes. */
  #settled = 0;

  constructor(create: CreateScheduler, opts: HarnessOptions = {}) {
    this.s = create(this.fx, {
      swapper: stubSwapper(opts.evict, this.swapStarts),
      isKnown: (m) => KNOWN_MODELS.has(m),
      concurrencyLimit: (m) => opts.limits?.[m] ?? 10,
      priority: (m) => opts.priority?.[m] ?? 0,
    });
  }

  /** A new request for `model`; returns its id. */
  send(model: string): RequestId {
    const req = this.fx.request(model);
    this.s.onRequest(req);
    return req.id;
  }

  /** The latest swap for `model` succeeds: its evicted models stopped, `model` ready. */
  swapDone(model: string): void {
    const st = this.fx.lastStart(model);
    assert.ok(st !== undefined, `no swap was started for ${model}`);
    this.#complete(st);
  }

  /** The swap for `model` fails; returns the error it reported. */
  swapFail(model: string, message = 'health check failed'): ProxyError {
    const err = new ProxyError('UPSTREAM_START_FAILED', message);
    this.fx.setStatus('stopped', model);
    this.s.onSwapDone(model, err);
    return err;
  }

  serveDone(id: RequestId): void {
    this.#done.add(id);
    this.s.onServeDone(id);
  }

  /** Finish granted requests, oldest first, until none is left in flight. Returns how many. */
  finishAll(): number {
    let n = 0;
    for (let id = this.#nextGranted(); id !== undefined; id = this.#nextGranted(), n++) this.serveDone(id);
    return n;
  }

  /** Complete every started swap (in start order) and finish every grant until nothing moves. */
  settle(): void {
    for (let moved = true; moved;) {
      moved = false;
      while (this.#settled < this.fx.starts.length) {
        this.#complete(this.fx.starts[this.#settled++]!);
        moved = true;
      }
      if (this.finishAll() > 0) moved = true;
    }
  }

  /** Granted and not yet finished. */
  inFlightIds(): RequestId[] {
    return this.fx.grants.filter((id) => !this.#done.has(id));
  }

  #nextGranted(): RequestId | undefined {
    return this.fx.grants.find((id) => !this.#done.has(id));
  }

  #complete(st: StartRec): void {
    this.fx.setStatus('stopped', ...st.evict);
    this.fx.setStatus('ready', st.model);
    this.s.onSwapDone(st.model, undefined);
  }
}
