/**
 * What a simulated run measured: each request's arrival, grant, end or error,
 * and each load and eviction. Written by the run loop and the simulated
 * Effects; read once at the end by ./report.ts.
 */
import assert from 'node:assert/strict';
import type { ProxyErrorCode } from '../errors.ts';
import type { RequestId } from '../scheduler/types.ts';

export type RequestOutcome =
  | { readonly kind: 'waiting'; readonly arrivedAt: number }
  | { readonly kind: 'serving'; readonly arrivedAt: number; readonly grantedAt: number }
  | { readonly kind: 'served'; readonly arrivedAt: number; readonly grantedAt: number; readonly doneAt: number }
  | { readonly kind: 'failed'; readonly arrivedAt: number; readonly code: ProxyErrorCode };

export class SimRecorder {
  readonly #requests = new Map<RequestId, RequestOutcome>();
  /** Loads started (a swap whose target was not ready). */
  loads = 0;
  /** Sum of the load times of those loads, ms (parallel loads add up). */
  loadingMs = 0;
  /** Running models stopped to make room for a swap. */
  evictions = 0;
  /** Requests served or failed. */
  finished = 0;

  arrived(id: RequestId, at: number): void {
    assert.ok(!this.#requests.has(id), `request ${id} arrived twice`);
    this.#requests.set(id, { kind: 'waiting', arrivedAt: at });
  }

  granted(id: RequestId, at: number): void {
    const r = this.#requests.get(id);
    assert.ok(r?.kind === 'waiting', `grant of request ${id}, which is not waiting`);
    this.#requests.set(id, { kind: 'serving', arrivedAt: r.arrivedAt, grantedAt: at });
  }

  done(id: RequestId, at: number): void {
    const r = this.#requests.get(id);
    assert.ok(r?.kind === 'serving', `end of request ${id}, which is not being served`);
    this.#requests.set(id, { kind: 'served', arrivedAt: r.arrivedAt, grantedAt: r.grantedAt, doneAt: at });
    this.finished += 1;
  }

  failed(id: RequestId, code: ProxyErrorCode): void {
    const r = this.#requests.get(id);
    assert.ok(r?.kind === 'waiting', `error for request ${id}, which is not waiting`);
    this.#requests.set(id, { kind: 'failed', arrivedAt: r.arrivedAt, code });
    this.finished += 1;
  }

  loadStarted(loadMs: number): void {
    this.loads += 1;
    this.loadingMs += loadMs;
  }

  /** Every request's outcome, by request id (the trace's line order), whatever the order of arrival. */
  outcomes(): readonly RequestOutcome[] {
    return [...this.#requests].sort(([a], [b]) => a - b).map(([, o]) => o);
  }
}
