/**
 * TTL unloads in virtual time, as the proxy's router does them: a model is
 * "used" when a request for it is granted, when its load succeeds and when a
 * request ends; once it has nothing in flight or waiting, an `idleCheck`
 * event is due `ttlMs` after its last use. The run loop unloads the model
 * (`Scheduler.onUnload([model], 'ttl')`) when that check finds it ready,
 * still idle, and unused for the whole ttl. A grant or a newer arming makes an
 * older check stale (its token no longer matches): it does nothing.
 */
import type { ModelLoad } from '../scheduler/types.ts';
import type { SimEvent } from './events.ts';
import type { VirtualClock } from './virtual-clock.ts';

export interface SimTtlDeps {
  readonly clock: VirtualClock<SimEvent>;
  /** The model's ttl in ms; 0: never unloaded for idleness. */
  readonly ttlMs: (model: string) => number;
  readonly load: (model: string) => ModelLoad;
}

const isIdle = (l: ModelLoad): boolean => l.inFlight === 0 && l.waiting === 0;

export class SimTtl {
  readonly #deps: SimTtlDeps;
  readonly #lastUse = new Map<string, number>();
  /** The token of each model's current check; a check with another token is stale. */
  readonly #armed = new Map<string, number>();
  #token = 0;

  constructor(deps: SimTtlDeps) {
    this.#deps = deps;
  }

  /** The model was used now: its idle time starts again. */
  touch(model: string): void {
    this.#lastUse.set(model, this.#deps.clock.now);
  }

  /** Busy again: no pending check counts. */
  clear(model: string): void {
    this.#armed.delete(model);
  }

  /** Schedule the model's check if it has a ttl and nothing in flight or waiting. */
  armIfIdle(model: string): void {
    const ttl = this.#deps.ttlMs(model);
    if (ttl <= 0 || !isIdle(this.#deps.load(model))) return;
    const token = ++this.#token;
    this.#armed.set(model, token);
    const { clock } = this.#deps;
    clock.at(Math.max(clock.now, (this.#lastUse.get(model) ?? 0) + ttl), { type: 'idleCheck', model, token });
  }

  /** An `idleCheck` event: true when the model should be unloaded now (the caller also checks it is ready). */
  expired(model: string, token: number): boolean {
    if (this.#armed.get(model) !== token) return false;
    this.#armed.delete(model);
    const ttl = this.#deps.ttlMs(model);
    if (ttl <= 0 || !isIdle(this.#deps.load(model))) return false;
    return this.#deps.clock.now - (this.#lastUse.get(model) ?? 0) >= ttl;
  }
}
