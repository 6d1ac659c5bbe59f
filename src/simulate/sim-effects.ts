/**
 * The scheduler's Effects on a virtual clock, doing what the router's do:
 *   - `startSwap(model, evict)` stops `evict` in parallel (each takes its
 *     `stopMs`), waits for `model`'s own stop if one is under way, then loads
 *     `model` (`loadMs`) unless it is already ready; one `swapDone` follows.
 *   - `cancelSwap(model)` does not start a model nobody waits for; a load
 *     under way is stopped and its swap ends at once with an error.
 *   - `grantServe(id)` always succeeds (a trace's clients never leave) and
 *     schedules `serveDone` after the request's service time.
 *   - `stopProcesses` aborts the models' swaps and, except for 'shutdown',
 *     stops them.
 * Every method returns at once: what follows is queued on the clock, so the
 * scheduler is never called back from inside one of its own methods.
 */
import assert from 'node:assert/strict';
import { ProxyError } from '../errors.ts';
import type { Effects, ModelStatus, RequestId, UnloadReason } from '../scheduler/types.ts';
import type { SimEvent } from './events.ts';
import type { SimProcesses } from './sim-processes.ts';
import type { SimRecorder } from './recorder.ts';
import type { VirtualClock } from './virtual-clock.ts';

interface Swap {
  phase: 'evicting' | 'loading';
  /** Why the swap must not make its model ready (cancelled, unloaded); the first reason wins. */
  abort: ProxyError | undefined;
}

export interface SimEffectsDeps {
  readonly clock: VirtualClock<SimEvent>;
  readonly processes: SimProcesses;
  readonly recorder: SimRecorder;
  /** A request's service time, ms. */
  readonly serviceMs: (id: RequestId) => number;
  /** Told of each grant (on the scheduler's call, so it must not call the scheduler). */
  readonly onGrant?: (id: RequestId) => void;
}

export class SimEffects implements Effects {
  readonly #clock: VirtualClock<SimEvent>;
  readonly #procs: SimProcesses;
  readonly #rec: SimRecorder;
  readonly #serviceMs: (id: RequestId) => number;
  readonly #onGrant: (id: RequestId) => void;
  readonly #swaps = new Map<string, Swap>();

  constructor(deps: SimEffectsDeps) {
    this.#clock = deps.clock;
    this.#procs = deps.processes;
    this.#rec = deps.recorder;
    this.#serviceMs = deps.serviceMs;
    this.#onGrant = deps.onGrant ?? (() => {});
  }

  modelStatus(model: string): ModelStatus {
    return this.#procs.status(model);
  }

  runningModels(): readonly string[] {
    return this.#procs.running();
  }

  startSwap(model: string, evict: readonly string[]): void {
    assert.ok(!this.#swaps.has(model), `startSwap(${model}) while a swap for it is active`);
    this.#swaps.set(model, { phase: 'evicting', abort: undefined });
    let until = this.#procs.stoppedAt(model); // never two processes for one model
    for (const m of evict) {
      if (this.#procs.status(m) !== 'stopped') this.#rec.evictions += 1;
      until = Math.max(until, this.#stop(m, new ProxyError('UPSTREAM_START_FAILED', `${m} was stopped while it started (evicted for ${model})`)));
    }
    this.#clock.at(until, { type: 'evicted', model });
  }

  cancelSwap(model: string): void {
    const sw = this.#swaps.get(model);
    if (sw === undefined) return;
    sw.abort ??= new ProxyError('CLIENT_CLOSED', `load of ${model} cancelled: nobody waits for it any more`);
    if (sw.phase === 'loading') this.#stop(model, sw.abort);
  }

  grantServe(id: RequestId): boolean {
    this.#rec.granted(id, this.#clock.now);
    this.#onGrant(id);
    this.#clock.after(this.#serviceMs(id), { type: 'serveDone', id });
    return true;
  }

  grantError(id: RequestId, err: ProxyError): void {
    this.#rec.failed(id, err.code);
  }

  stopProcesses(models: readonly string[], reason: UnloadReason | 'shutdown'): void {
    for (const m of models) {
      const sw = this.#swaps.get(m);
      if (sw !== undefined) sw.abort ??= new ProxyError('MODEL_UNLOADED', `model ${m} was unloaded before it started`);
    }
    if (reason === 'shutdown') return;
    for (const m of models) this.#stop(m, this.#swaps.get(m)?.abort ?? new ProxyError('MODEL_UNLOADED', `model ${m} was unloaded`));
  }

  /** An `evicted` event: the swap for `model` may load it now. */
  onEvicted(model: string): void {
    const sw = this.#swaps.get(model);
    assert.ok(sw?.phase === 'evicting', `evicted event for ${model}, which has no swap evicting`);
    if (sw.abort !== undefined) return this.#finish(model, sw.abort);
    const status = this.#procs.status(model);
    if (status === 'ready') return this.#finish(model, undefined);
    assert.equal(status, 'stopped', `swap target ${model} is ${status} after its evictions`);
    sw.phase = 'loading';
    this.#rec.loadStarted(this.#procs.start(model));
  }

  /** A `loaded` event. */
  onLoaded(model: string, token: number): void {
    if (!this.#procs.loaded(model, token)) return; // a load stopped meanwhile: its swap already ended
    this.#finish(model, undefined);
  }

  /**
   * Stop `model`'s process; returns when it will have stopped. A load under
   * way for one of its swaps is abandoned, and that swap ends now with `why`
   * (as a real start fails when its process is stopped).
   */
  #stop(model: string, why: ProxyError): number {
    if (this.#swaps.get(model)?.phase === 'loading') this.#finish(model, why);
    return this.#procs.stop(model);
  }

  #finish(model: string, error: ProxyError | undefined): void {
    this.#swaps.delete(model);
    this.#clock.after(0, { type: 'swapDone', model, error });
  }
}
