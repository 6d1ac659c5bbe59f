/**
 * Poll an upstream's health endpoint until it answers HTTP 200.
 *
 * A real llama-server binds its port ~30 ms after spawn and answers 503
 * "Loading model" until the weights are in (shared/reference/llama-server.md),
 * so "connection refused", 503 and any other non-200 all mean "keep waiting".
 * The overall bound (healthCheckTimeout), child exit and stop are raced by the
 * caller; this loop only ends on 200 or on `signal`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { upstreamAgent } from '../upstream-agent.ts';

export interface HealthOptions {
  /** Delay between attempts. */
  readonly intervalMs: number;
  /** Ends the loop: the returned promise rejects with `signal.reason`. */
  readonly signal: AbortSignal;
  /** Per-attempt bound, so one hung request cannot stall polling. Default 2000. */
  readonly attemptTimeoutMs?: number;
  /** Told the outcome of each failed attempt (e.g. "503", "ECONNREFUSED"), for error messages. */
  readonly onAttempt?: (outcome: string) => void;
}

/** Resolve on the first 200 from GET `url`; reject only when `signal` aborts. */
export async function waitHealthy(url: string, options: HealthOptions): Promise<void> {
  const { intervalMs, signal } = options;
  const attemptMs = options.attemptTimeoutMs ?? 2000;
  for (;;) {
    signal.throwIfAborted();
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: upstreamAgent,
        signal,
        headersTimeout: attemptMs,
        bodyTimeout: attemptMs,
        reset: true, // no keep-alive: the next attempt may hit a new process on the same port
      });
      await res.body.dump();
      if (res.statusCode === 200) return;
      options.onAttempt?.(`HTTP ${res.statusCode}`);
    } catch (err) {
      signal.throwIfAborted();
      options.onAttempt?.(describe(err));
    }
    await sleep(intervalMs, undefined, { signal });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : err.message;
  }
  return String(err);
}
