/**
 * The batch scheduler's waiting requests: per model, in arrival order, each
 * with the time it arrived. A request is here from admission until it is
 * granted, failed or cancelled; whether its model is loading does not matter.
 * No decisions live here, only bookkeeping and the ordering helpers the
 * decisions read.
 */
import assert from 'node:assert/strict';
import type { RequestId, SchedRequest } from './types.ts';

export interface Waiter {
  readonly id: RequestId;
  /** When it arrived, on the scheduler's clock (ms). */
  readonly at: number;
}

export class WaitingBook {
  readonly #byModel = new Map<string, Waiter[]>();
  readonly #modelOf = new Map<RequestId, string>();

  add(req: SchedRequest, at: number): void {
    assert.ok(!this.#modelOf.has(req.id), `request ${req.id} is already waiting`);
    const list = this.#byModel.get(req.model);
    const w = { id: req.id, at };
    if (list === undefined) this.#byModel.set(req.model, [w]);
    else {
      assert.ok(list.at(-1)!.at <= at, 'the clock went backwards');
      list.push(w);
    }
    this.#modelOf.set(req.id, req.model);
  }

  /** Forget one request; returns its model, or undefined if it was not waiting. */
  remove(id: RequestId): string | undefined {
    const model = this.#modelOf.get(id);
    if (model === undefined) return undefined;
    this.#modelOf.delete(id);
    const list = this.#byModel.get(model)!;
    list.splice(list.findIndex((w) => w.id === id), 1);
    if (list.length === 0) this.#byModel.delete(model);
    return model;
  }

  /** Remove and return a model's waiters that arrived before `before` (all by default), oldest first. */
  take(model: string, before = Infinity): Waiter[] {
    const list = this.#byModel.get(model);
    if (list === undefined) return [];
    let n = 0;
    while (n < list.length && list[n]!.at < before) n++;
    const out = list.splice(0, n);
    if (list.length === 0) this.#byModel.delete(model);
    for (const w of out) this.#modelOf.delete(w.id);
    return out;
  }

  count(model: string): number {
    return this.#byModel.get(model)?.length ?? 0;
  }

  /** Arrival time of the model's oldest waiting request. */
  oldest(model: string): number | undefined {
    return this.#byModel.get(model)?.[0]?.at;
  }

  /** Models with waiting requests, oldest request first (ties: model id). */
  modelsByAge(): string[] {
    return [...this.#byModel.keys()].sort((a, b) => this.oldest(a)! - this.oldest(b)! || cmp(a, b));
  }

  /** Every waiting request's model and arrival, oldest first. */
  all(): Array<Waiter & { readonly model: string }> {
    const out: Array<Waiter & { readonly model: string }> = [];
    for (const [model, list] of this.#byModel) for (const w of list) out.push({ ...w, model });
    return out.sort((a, b) => a.at - b.at || a.id - b.id);
  }

  get size(): number {
    return this.#modelOf.size;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
