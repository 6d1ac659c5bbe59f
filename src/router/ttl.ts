/**
 * TTL unloads: when each model was last used, and one timer per idle model.
 * Timers only post an event; whether to unload is decided on the run loop
 * (`expired`), on the state at that moment.
 */
import type { ModelLoad } from '../scheduler/types.ts';
import { IdleTimers } from './idle-timers.ts';

export interface TtlDeps {
  /** The model's ttl in ms (0: never unloaded for idleness). */
  readonly ttlMs: (model: string) => number;
  readonly load: (model: string) => ModelLoad;
  /** A model's timer fired: post an idleCheck for it. */
  readonly fire: (model: string) => void;
}

export class TtlClock {
  readonly #deps: TtlDeps;
  readonly #lastUse = new Map<string, number>();
  readonly #timers = new IdleTimers();
  #stopped = false;

  constructor(deps: TtlDeps) {
    this.#deps = deps;
  }

  /** The model was used now (granted, served, loaded): its idle time starts again. */
  touch(model: string): void {
    this.#lastUse.set(model, Date.now());
  }

  /** It is busy again (or unloaded): no TTL while it is. */
  clear(model: string): void {
    this.#timers.clear(model);
  }

  /** Arm the model's timer if it has a ttl and nothing in flight or waiting. */
  armIfIdle(model: string): void {
    const left = this.leftMs(model);
    if (left !== undefined) this.#timers.arm(model, left, () => this.#deps.fire(model));
  }

  /**
   * Milliseconds until the model is unloaded for idleness, while its
   * countdown runs (it has a ttl and nothing in flight or waiting);
   * undefined otherwise. Only meaningful for a ready model.
   */
  leftMs(model: string, now = Date.now()): number | undefined {
    const ttl = this.#deps.ttlMs(model);
    if (ttl <= 0 || this.#stopped || !isIdle(this.#deps.load(model))) return undefined;
    return Math.max(0, ttl - (now - (this.#lastUse.get(model) ?? 0)));
  }

  /** When the model was last used (epoch ms), if it has been since start-up. */
  lastUse(model: string): number | undefined {
    return this.#lastUse.get(model);
  }

  /**
   * The timer fired: true when the model has been idle for its whole ttl (it
   * should be unloaded now). Otherwise re-arms if it is still idle.
   */
  expired(model: string): boolean {
    const left = this.leftMs(model);
    if (left === undefined) return false;
    if (left <= 5) return true; // timers may fire a few ms early
    this.#timers.arm(model, left, () => this.#deps.fire(model));
    return false;
  }

  /** Forget every timer (a reload re-arms them under the new ttls). */
  reset(models: Iterable<string>): void {
    this.#timers.clearAll();
    for (const m of models) this.armIfIdle(m);
  }

  /** Shutting down: no timer fires or is armed again. */
  stop(): void {
    this.#stopped = true;
    this.#timers.clearAll();
  }
}

const isIdle = (l: ModelLoad): boolean => l.inFlight === 0 && l.waiting === 0;
