/**
 * One timer per model for TTL unloads. Timers only post an event; the
 * decision to unload is made on the run loop (src/router/router.ts idleCheck).
 */
export class IdleTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  /** (Re)arm the model's timer; `fire` runs once after `ms` unless cleared. */
  arm(model: string, ms: number, fire: () => void): void {
    this.clear(model);
    const t = setTimeout(() => {
      this.#timers.delete(model);
      fire();
    }, ms);
    t.unref();
    this.#timers.set(model, t);
  }

  clear(model: string): void {
    const t = this.#timers.get(model);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(model);
  }

  clearAll(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
