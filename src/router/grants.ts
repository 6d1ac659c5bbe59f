/**
 * The one owner of requests that wait for a grant: their promises, their
 * abort listeners, and the leases handed out when they are granted. Used only
 * on the router's run loop (the abort listener only posts an event).
 *
 * A waiter ends exactly once, in one of three ways: `grant` (a Lease), `fail`
 * (the scheduler's error), or `withdraw` (its caller left: CLIENT_CLOSED).
 * Each removes the abort listener and the entry in the same step.
 */
import { ProxyError } from '../errors.ts';
import type { RequestId, SchedRequest } from '../scheduler/types.ts';
import type { RequestInfo, TokenUsage } from './feed.ts';

/** What the HTTP layer saw of a served request, for the feed. */
export interface ServeOutcome {
  readonly status?: number;
  /** From the grant to the first byte of the answer. */
  readonly ttfbMs?: number;
  /** The client left before the answer was complete. */
  readonly clientAborted?: boolean;
  readonly error?: string;
  /** What the answer reported of its tokens. */
  readonly usage?: TokenUsage;
  /** The answer's Content-Type. */
  readonly contentType?: string;
}

/** When a request arrived and was granted (performance.now()). */
export interface LeaseTimes {
  readonly arrivedAt: number;
  readonly grantedAt: number;
}

/** A granted request: forward to `upstream`, then call `release()` exactly once (extra calls are ignored). */
export interface Lease {
  readonly id: RequestId;
  readonly model: string;
  /** Base URL of the model's server, no trailing slash. */
  readonly upstream: string;
  /** How long the request waited for its grant. */
  readonly waitedMs: number;
  release(outcome?: ServeOutcome): void;
}

interface Waiter {
  readonly model: string;
  readonly request: RequestInfo | undefined;
  readonly arrivedAt: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (lease: Lease) => void;
  readonly reject: (err: ProxyError) => void;
  readonly onAbort: () => void;
}

export interface GrantsDeps {
  /** The caller of a waiting request left (its signal aborted): post a cancel for it. */
  readonly onAbort: (id: RequestId) => void;
  /** A request was granted: record its use and return its upstream's base URL. */
  readonly onGrant: (id: RequestId, model: string, waitedMs: number) => string;
  /** A lease was released (once per lease): post its serveDone. */
  readonly onRelease: (id: RequestId, model: string, times: LeaseTimes, outcome: ServeOutcome | undefined, request: RequestInfo | undefined) => void;
  /** A waiting request ended with an error (not its caller leaving). */
  readonly onFail: (id: RequestId, model: string, err: ProxyError, waitedMs: number, request: RequestInfo | undefined) => void;
}

const clientClosed = (): ProxyError => new ProxyError('CLIENT_CLOSED', 'client closed the request');

export class Grants {
  readonly #deps: GrantsDeps;
  /** In arrival order (ids grow), so `waiting()` needs no sort. */
  readonly #waiting = new Map<RequestId, Waiter>();

  constructor(deps: GrantsDeps) {
    this.#deps = deps;
  }

  /** Register request `id` for `model`; the promise settles when it ends. `request` travels to its end. */
  wait(id: RequestId, model: string, signal: AbortSignal | undefined, request?: RequestInfo): Promise<Lease> {
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = (): void => this.#deps.onAbort(id);
      this.#waiting.set(id, { model, request, arrivedAt: performance.now(), signal, resolve, reject, onAbort });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Hand request `id` its lease. Returns false when there is nothing to grant:
   * the request ended already, or its caller left (it is then withdrawn).
   */
  grant(id: RequestId): boolean {
    const w = this.#take(id);
    if (w === undefined) return false;
    if (w.signal?.aborted === true) {
      w.reject(clientClosed());
      return false;
    }
    const times = { arrivedAt: w.arrivedAt, grantedAt: performance.now() };
    const waitedMs = times.grantedAt - w.arrivedAt;
    const upstream = this.#deps.onGrant(id, w.model, waitedMs);
    let released = false;
    w.resolve({
      id, model: w.model, upstream, waitedMs,
      release: (outcome) => {
        if (released) return;
        released = true;
        this.#deps.onRelease(id, w.model, times, outcome, w.request);
      },
    });
    return true;
  }

  /** End request `id` with `err`. A no-op if it already ended. */
  fail(id: RequestId, err: ProxyError): void {
    const w = this.#take(id);
    if (w === undefined) return;
    w.reject(err);
    this.#deps.onFail(id, w.model, err, performance.now() - w.arrivedAt, w.request);
  }

  /** Its caller left: end request `id` with CLIENT_CLOSED. Returns what it was, or undefined if it already ended. */
  withdraw(id: RequestId): { readonly model: string; readonly waitedMs: number; readonly request: RequestInfo | undefined } | undefined {
    const w = this.#take(id);
    w?.reject(clientClosed());
    return w === undefined ? undefined : { model: w.model, waitedMs: Math.round(performance.now() - w.arrivedAt), request: w.request };
  }

  /** Requests still waiting, in arrival order. */
  waiting(): SchedRequest[] {
    return [...this.#waiting].map(([id, w]) => ({ id, model: w.model }));
  }

  /** Models that at least one request waits for. */
  waitedFor(): Set<string> {
    return new Set([...this.#waiting.values()].map((w) => w.model));
  }

  isWaiting(id: RequestId): boolean {
    return this.#waiting.has(id);
  }

  #take(id: RequestId): Waiter | undefined {
    const w = this.#waiting.get(id);
    if (w === undefined) return undefined;
    this.#waiting.delete(id);
    w.signal?.removeEventListener('abort', w.onAbort);
    return w;
  }
}
