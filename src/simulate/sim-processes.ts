/**
 * The simulated model processes: the states a real model's server goes
 * through (stopped → starting → ready → stopping → stopped), timed by the
 * model's `simulate.loadMs` and `simulate.stopMs` instead of a real spawn,
 * health check and exit. Transitions that take time are events on the
 * virtual clock; nothing here calls the scheduler.
 *
 * Contract, as the real process keeps it:
 *   - `stop` is idempotent: stopping a model that is already stopping keeps
 *     the first stop (and its end time); stopping a starting model abandons
 *     its load (its `loaded` event is then ignored).
 *   - `start` only starts a stopped model.
 */
import assert from 'node:assert/strict';
import { assertNever } from '../errors.ts';
import type { ModelSimulate } from '../config/types.ts';
import type { ModelStatus } from '../scheduler/types.ts';
import type { SimEvent } from './events.ts';
import type { VirtualClock } from './virtual-clock.ts';

type ProcState =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'starting'; readonly token: number }
  | { readonly kind: 'ready' }
  | { readonly kind: 'stopping'; readonly token: number; readonly until: number };

export class SimProcesses {
  readonly #clock: VirtualClock<SimEvent>;
  readonly #timing: (model: string) => ModelSimulate;
  readonly #states = new Map<string, ProcState>();
  #token = 0;

  constructor(clock: VirtualClock<SimEvent>, timing: (model: string) => ModelSimulate) {
    this.#clock = clock;
    this.#timing = timing;
  }

  status(model: string): ModelStatus {
    return this.#state(model).kind;
  }

  /** Models whose process is not stopped, sorted. */
  running(): string[] {
    return [...this.#states].filter(([, s]) => s.kind !== 'stopped').map(([m]) => m).sort();
  }

  /** When `model` is (or will be) stopped: now unless it is stopping. */
  stoppedAt(model: string): number {
    const s = this.#state(model);
    return s.kind === 'stopping' ? s.until : this.#clock.now;
  }

  /** Start stopping `model` (see the contract above); returns when it will have stopped. */
  stop(model: string): number {
    const s = this.#state(model);
    switch (s.kind) {
      case 'stopped':
        return this.#clock.now;
      case 'stopping':
        return s.until;
      case 'starting':
      case 'ready': {
        const token = ++this.#token;
        const until = this.#clock.now + this.#timing(model).stopMs;
        this.#states.set(model, { kind: 'stopping', token, until });
        this.#clock.at(until, { type: 'stopped', model, token });
        return until;
      }
      default:
        return assertNever(s);
    }
  }

  /** Start loading a stopped model; its `loaded` event follows after `loadMs`. Returns `loadMs`. */
  start(model: string): number {
    const s = this.#state(model);
    assert.equal(s.kind, 'stopped', `start of ${model}, which is ${s.kind}`);
    const token = ++this.#token;
    const { loadMs } = this.#timing(model);
    this.#states.set(model, { kind: 'starting', token });
    this.#clock.after(loadMs, { type: 'loaded', model, token });
    return loadMs;
  }

  /** A `loaded` event: true when it is the current load (the model is now ready), false for an abandoned one. */
  loaded(model: string, token: number): boolean {
    const s = this.#state(model);
    if (s.kind !== 'starting' || s.token !== token) return false;
    this.#states.set(model, { kind: 'ready' });
    return true;
  }

  /** A `stopped` event: the model is stopped, unless a later stop superseded this one. */
  stopped(model: string, token: number): void {
    const s = this.#state(model);
    if (s.kind === 'stopping' && s.token === token) this.#states.set(model, { kind: 'stopped' });
  }

  #state(model: string): ProcState {
    return this.#states.get(model) ?? { kind: 'stopped' };
  }
}
