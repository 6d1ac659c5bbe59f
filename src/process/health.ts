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
import { upstreamRequest } from '../upstream-agent.ts';

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
      const status = await probe(url, signal, attemptMs);
      if (status === 200) return;
      options.onAttempt?.(`HTTP ${status}`);
    } catch (err) {
      signal.throwIfAborted();
      options.onAttempt?.(describe(err));
    }
    await sleep(intervalMs, undefined, { signal });
  }
}

/** One GET on a connection of its own (the next attempt may reach a new process on the same port); its status. */
function probe(url: string, signal: AbortSignal, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = upstreamRequest(url, { method: 'GET', agent: false, signal, timeout: timeoutMs });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.on('response', (res) => {
      res.on('error', reject);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.resume();
    });
    req.end();
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : err.message;
  }
  return String(err);
}
