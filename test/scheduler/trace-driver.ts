/**
 * A pure, discrete-event driver for schedulers: replays a request trace on a
 * fake clock against a FakeEffects whose swaps take `stopMs + loadMs` and whose
 * requests take a fixed service time, and records each request's wait. No
 * timers, no sockets; the same inputs give the same run.
 *
 * What it models: one process per model; a swap stops its evicted models (the
 * stop takes `stopMs` when there is anything to stop) and then loads the
 * target; requests granted to a ready model run in parallel, each for its own
 * service time; a cancelled swap ends at once with an error. When the
 * scheduler implements `onTick`, it is called every `tickMs`.
 */
import { ProxyError } from '../../src/errors.ts';
import type { RequestId, Scheduler, SchedulerOptions } from '../../src/scheduler/types.ts';
import { FakeEffects, stubSwapper } from './fake-effects.ts';

export interface DriverRequest {
  readonly atMs: number;
  readonly model: string;
  /** How long the request is served once granted (ms). */
  readonly serviceMs: number;
}

export interface DriverSetup {
  readonly requests: readonly DriverRequest[];
  /** Load time per model (ms). */
  readonly loadMs: (model: string) => number;
  /** Time to stop the evicted models (ms); 0 by default. */
  readonly stopMs?: number;
  /** target -> models it evicts; by default every model evicts every other (one resident at a time). */
  readonly evict?: Readonly<Record<string, readonly string[]>>;
  /** Call `onTick` this often (ms), when the scheduler has one. */
  readonly tickMs?: number;
  readonly priority?: Readonly<Record<string, number>>;
}

/** Builds the scheduler under test around the driver's effects and options (clock included). */
export type DriverCreate = (effects: FakeEffects, opts: Omit<SchedulerOptions, 'effects'>) => Scheduler;

export interface DriverResult {
  /** Swaps started (cancelled ones included). */
  readonly swaps: number;
  /** Per request, in trace order: ms from arrival to grant (undefined if never granted). */
  readonly waits: ReadonlyArray<number | undefined>;
  /** Per request: ids of requests granted, in grant order (trace indexes). */
  readonly grantOrder: readonly number[];
  /** Time the last request finished. */
  readonly makespanMs: number;
  /** Requests failed with an error. */
  readonly failed: number;
}

type Ev =
  | { readonly kind: 'arrive'; readonly i: number }
  | { readonly kind: 'swapDone'; readonly model: string; readonly seq: number; readonly evict: readonly string[]; readonly failed: boolean }
  | { readonly kind: 'serveDone'; readonly id: RequestId }
  | { readonly kind: 'tick' };

class DriverEffects extends FakeEffects {
  readonly drv: Driver;

  constructor(drv: Driver) {
    super();
    this.drv = drv;
  }

  override startSwap(model: string, evict: readonly string[]): void {
    super.startSwap(model, evict);
    this.drv.swapStarted(model, evict);
  }

  override cancelSwap(model: string): void {
    super.cancelSwap(model);
    this.drv.swapCancelled(model);
  }

  override grantServe(id: RequestId): boolean {
    const ok = super.grantServe(id);
    if (ok) this.drv.granted(id);
    return ok;
  }
}

class Driver {
  now = 0;
  readonly #queue: Array<{ at: number; n: number; ev: Ev }> = [];
  #n = 0;
  readonly fx: DriverEffects;
  readonly s: Scheduler;
  readonly #setup: DriverSetup;
  readonly #idOf = new Map<RequestId, number>();
  readonly #grantAt = new Map<number, number>();
  readonly #grantOrder: number[] = [];
  /** model -> sequence number of its live swap (a cancelled one no longer matches). */
  readonly #swapSeq = new Map<string, number>();
  #seq = 0;
  #lastDone = 0;

  constructor(setup: DriverSetup, create: DriverCreate) {
    this.#setup = setup;
    this.fx = new DriverEffects(this);
    const models = [...new Set(setup.requests.map((r) => r.model))].sort();
    const evict = setup.evict ?? Object.fromEntries(models.map((m) => [m, models.filter((o) => o !== m)]));
    this.s = create(this.fx, {
      swapper: stubSwapper(evict),
      isKnown: () => true,
      concurrencyLimit: () => 1000,
      priority: (m) => setup.priority?.[m] ?? 0,
      now: () => this.now,
      loadCostMs: (m) => setup.loadMs(m),
      tickMs: setup.tickMs,
    });
    setup.requests.forEach((r, i) => this.#push(r.atMs, { kind: 'arrive', i }));
  }

  run(): DriverResult {
    const hasTick = this.#setup.tickMs !== undefined && this.s.onTick !== undefined;
    if (hasTick) this.#push(this.#setup.tickMs!, { kind: 'tick' });
    let pending = this.#setup.requests.length;
    for (let steps = 0; this.#queue.length > 0; steps++) {
      if (steps > 1_000_000) throw new Error('driver: no progress');
      const { at, ev } = this.#queue.shift()!;
      this.now = at;
      switch (ev.kind) {
        case 'arrive': {
          const r = this.#setup.requests[ev.i]!;
          const req = this.fx.request(r.model);
          this.#idOf.set(req.id, ev.i);
          this.s.onRequest(req);
          break;
        }
        case 'swapDone':
          if (this.#swapSeq.get(ev.model) !== ev.seq) break; // cancelled: reported by its own event
          this.#swapSeq.delete(ev.model);
          this.fx.setStatus('stopped', ...ev.evict);
          this.fx.setStatus(ev.failed ? 'stopped' : 'ready', ev.model);
          this.s.onSwapDone(ev.model, ev.failed ? cancelled() : undefined);
          break;
        case 'serveDone':
          this.#lastDone = at;
          this.s.onServeDone(ev.id);
          pending--;
          break;
        case 'tick':
          if (pending - this.fx.errors.length > 0) {
            this.s.onTick!();
            this.#push(at + this.#setup.tickMs!, { kind: 'tick' });
          }
          break;
      }
    }
    const waits = this.#setup.requests.map((r, i) => {
      const g = this.#grantAt.get(i);
      return g === undefined ? undefined : g - r.atMs;
    });
    return { swaps: this.fx.starts.length, waits, grantOrder: this.#grantOrder, makespanMs: this.#lastDone, failed: this.fx.errors.length };
  }

  swapStarted(model: string, evict: readonly string[]): void {
    this.fx.setStatus('stopping', ...evict);
    this.fx.setStatus('starting', model);
    const seq = ++this.#seq;
    this.#swapSeq.set(model, seq);
    const stop = evict.length > 0 ? (this.#setup.stopMs ?? 0) : 0;
    this.#push(this.now + stop + this.#setup.loadMs(model), { kind: 'swapDone', model, seq, evict, failed: false });
  }

  /** The load stops at once; its swapDone (with an error) comes as the next event, never from inside the scheduler's call. */
  swapCancelled(model: string): void {
    if (!this.#swapSeq.has(model)) return;
    const seq = ++this.#seq;
    this.#swapSeq.set(model, seq);
    const evict = this.fx.lastStart(model)?.evict ?? [];
    this.#push(this.now, { kind: 'swapDone', model, seq, evict, failed: true });
  }

  granted(id: RequestId): void {
    const i = this.#idOf.get(id)!;
    this.#grantAt.set(i, this.now);
    this.#grantOrder.push(i);
    this.#push(this.now + this.#setup.requests[i]!.serviceMs, { kind: 'serveDone', id });
  }

  #push(at: number, ev: Ev): void {
    const item = { at, n: this.#n++, ev };
    let k = this.#queue.length;
    while (k > 0 && this.#queue[k - 1]!.at > at) k--;
    this.#queue.splice(k, 0, item);
  }
}

/** Replay `setup` against the scheduler `create` builds. */
export function drive(setup: DriverSetup, create: DriverCreate): DriverResult {
  return new Driver(setup, create).run();
}

/** The error a cancelled load ends with. */
const cancelled = (): ProxyError => new ProxyError('CLIENT_CLOSED', 'load cancelled');
