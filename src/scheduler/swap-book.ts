/**
 * The batch scheduler's swaps: those in progress (target → the models it
 * evicts) and those forgotten by an unload, a cancel or a shutdown whose
 * swapDone is still due. Bookkeeping and the collision rule only; which swap
 * to start is decided by the scheduler.
 */
import assert from 'node:assert/strict';

export class SwapBook {
  readonly #active = new Map<string, readonly string[]>();
  /** model -> forgotten swaps still due to report. */
  readonly #orphans = new Map<string, number>();

  start(model: string, evict: readonly string[]): void {
    assert.ok(!this.#active.has(model), `a swap for ${model} is already in progress`);
    this.#active.set(model, evict);
  }

  /** A swap for `model` reported: 'active' if it was in progress, 'orphan' if forgotten. Throws if there was none. */
  done(model: string): 'active' | 'orphan' {
    if (this.#active.delete(model)) return 'active';
    const n = this.#orphans.get(model);
    assert.ok(n !== undefined, `swapDone for ${model}, which has no swap`);
    if (n > 1) this.#orphans.set(model, n - 1);
    else this.#orphans.delete(model);
    return 'orphan';
  }

  /** Nobody waits for the swap in progress for `model` any more; its swapDone is still due. */
  forget(model: string): void {
    if (!this.#active.delete(model)) return;
    this.#orphans.set(model, (this.#orphans.get(model) ?? 0) + 1);
  }

  isActive(model: string): boolean {
    return this.#active.has(model);
  }

  isOrphan(model: string): boolean {
    return this.#orphans.has(model);
  }

  /** A swap for `model` is in progress or still due to report: no second one may start. */
  busy(model: string): boolean {
    return this.#active.has(model) || this.#orphans.has(model);
  }

  targets(): string[] {
    return [...this.#active.keys()];
  }

  /** `running` plus the targets of the other swaps in progress, sorted (what a swap for `exclude` competes with). */
  running(running: readonly string[], exclude: string): string[] {
    const out = new Set(running);
    for (const target of this.#active.keys()) if (target !== exclude) out.add(target);
    return [...out].sort();
  }

  /** A swap for `target` evicting `evict` would evict a loading target, be evicted by one, or overlap its evictions. */
  collides(target: string, evict: readonly string[]): boolean {
    for (const [other, otherEvict] of this.#active) {
      if (other === target) continue;
      if (evict.includes(other) || otherEvict.includes(target) || evict.some((m) => otherEvict.includes(m))) return true;
    }
    return false;
  }
}
