/**
 * The admission ledger shared by every Scheduler: which requests are admitted,
 * for which model, and which of them are in flight.
 *
 * A reservation lives from admission until the request is served-done,
 * cancelled, or finished with an error (llama-swap FIFO `reserved`). Per model,
 * `reserved = inFlight + waiting`, so `load()` is consistent by construction.
 *
 * Releasing a reservation that does not exist is a broken invariant (a double
 * serveDone, or a scheduler bug) and throws an AssertionError, like
 * llama-swap's `FIFO.release` panic. Never a ProxyError: no client caused it.
 */
import assert from 'node:assert/strict';
import { ProxyError } from '../errors.ts';
import type { Effects, ModelLoad, RequestId, SchedRequest } from './types.ts';

/** Seconds sent as Retry-After with CONCURRENCY_LIMIT. */
export const RETRY_AFTER_SECONDS = 1;

interface Entry {
  readonly model: string;
  granted: boolean;
}

/** The error for requests whose model was unloaded while they waited. */
export function unloadedError(model: string): ProxyError {
  return new ProxyError('MODEL_UNLOADED', `model ${model} was unloaded while the request waited`);
}

export class Reservations {
  readonly #effects: Effects;
  readonly #isKnown: (model: string) => boolean;
  readonly #limit: (model: string) => number;
  readonly #refusal: (model: string) => string | undefined;
  readonly #byId = new Map<RequestId, Entry>();
  readonly #reserved = new Map<string, number>();
  readonly #inFlight = new Map<string, number>();

  constructor(
    effects: Effects,
    isKnown: (model: string) => boolean,
    limit: (model: string) => number,
    refusal: (model: string) => string | undefined = () => undefined,
  ) {
    this.#effects = effects;
    this.#isKnown = isKnown;
    this.#limit = limit;
    this.#refusal = refusal;
  }

  /**
   * Admit `req` or refuse it with `grantError` (MODEL_NOT_FOUND, MODEL_TOO_LARGE, CONCURRENCY_LIMIT).
   * Returns whether it was admitted; a refused request holds no reservation.
   */
  admit(req: SchedRequest): boolean {
    assert.ok(!this.#byId.has(req.id), `request ${req.id} admitted twice`);
    if (!this.#isKnown(req.model)) {
      this.#effects.grantError(req.id, new ProxyError('MODEL_NOT_FOUND', `model not found: ${req.model}`));
      return false;
    }
    const refused = this.#refusal(req.model);
    if (refused !== undefined) {
      this.#effects.grantError(req.id, new ProxyError('MODEL_TOO_LARGE', refused));
      return false;
    }
    const limit = this.#limit(req.model);
    if (this.reserved(req.model) >= limit) {
      this.#effects.grantError(
        req.id,
        new ProxyError('CONCURRENCY_LIMIT', `too many requests for ${req.model} (concurrencyLimit ${limit})`, {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        }),
      );
      return false;
    }
    this.#byId.set(req.id, { model: req.model, granted: false });
    bump(this.#reserved, req.model, 1);
    return true;
  }

  /**
   * Hand a waiting request to its caller. On true it is in flight until
   * `serveDone`; on false (caller gone) its reservation is released and it is
   * never counted in flight (llama-swap `grantHandler`).
   */
  grant(id: RequestId): boolean {
    const e = this.#waitingEntry(id);
    if (!this.#effects.grantServe(id)) {
      this.release(id);
      return false;
    }
    e.granted = true;
    bump(this.#inFlight, e.model, 1);
    return true;
  }

  /**
   * Count a request that a previous scheduler granted (before a config reload)
   * as reserved and in flight here; its `serveDone` follows as usual. The
   * concurrency limit is not applied: the request is already being served.
   */
  adopt(req: SchedRequest): void {
    assert.ok(!this.#byId.has(req.id), `request ${req.id} adopted twice`);
    this.#byId.set(req.id, { model: req.model, granted: true });
    bump(this.#reserved, req.model, 1);
    bump(this.#inFlight, req.model, 1);
  }

  /** Finish a waiting request with `err` and release its reservation. */
  fail(id: RequestId, err: ProxyError): void {
    this.#waitingEntry(id);
    this.#effects.grantError(id, err);
    this.release(id);
  }

  /**
   * Fail (MODEL_UNLOADED) every request in `queue` for one of `models`;
   * returns the requests kept, in their order.
   */
  failUnloaded(queue: readonly SchedRequest[], models: ReadonlySet<string>): SchedRequest[] {
    const kept: SchedRequest[] = [];
    for (const q of queue) {
      if (models.has(q.model)) this.fail(q.id, unloadedError(q.model));
      else kept.push(q);
    }
    return kept;
  }

  /** A granted request finished. Returns its model and the model's remaining in-flight count. */
  serveDone(id: RequestId): { readonly model: string; readonly inFlight: number } {
    const e = this.#byId.get(id);
    assert.ok(e?.granted === true, `serveDone for request ${id}, which is not in flight`);
    bump(this.#inFlight, e.model, -1);
    this.release(id);
    return { model: e.model, inFlight: this.inFlight(e.model) };
  }

  /** Drop a reservation (cancel, or the paths above). Throws if there is none. */
  release(id: RequestId): void {
    const e = this.#byId.get(id);
    assert.ok(e !== undefined, `release of request ${id}, which holds no reservation`);
    this.#byId.delete(id);
    bump(this.#reserved, e.model, -1);
  }

  /** Whether `id` is admitted and not yet granted. */
  isWaiting(id: RequestId): boolean {
    return this.#byId.get(id)?.granted === false;
  }

  reserved(model: string): number {
    return this.#reserved.get(model) ?? 0;
  }

  inFlight(model: string): number {
    return this.#inFlight.get(model) ?? 0;
  }

  /** Requests in flight, in admission order. */
  inFlightRequests(): SchedRequest[] {
    const out: SchedRequest[] = [];
    for (const [id, e] of this.#byId) if (e.granted) out.push({ id, model: e.model });
    return out;
  }

  /** Requests in flight across every model. */
  totalInFlight(): number {
    let n = 0;
    for (const v of this.#inFlight.values()) n += v;
    return n;
  }

  load(model: string): ModelLoad {
    const inFlight = this.inFlight(model);
    return { inFlight, waiting: this.reserved(model) - inFlight };
  }

  #waitingEntry(id: RequestId): Entry {
    const e = this.#byId.get(id);
    assert.ok(e !== undefined && !e.granted, `request ${id} is not waiting`);
    return e;
  }
}

function bump(counts: Map<string, number>, model: string, by: number): void {
  const n = (counts.get(model) ?? 0) + by;
  assert.ok(n >= 0, `count for ${model} went negative`);
  if (n === 0) counts.delete(model);
  else counts.set(model, n);
}
