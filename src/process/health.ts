/**
 * Poll an upstream's health endpoint until it answers HTTP 200.
 *
 * A real llama-server binds its port ~30 ms after spawn and answers 503
 * "Loading model" until the weights are in,
 * so "connection refused", 503 and any other non-200 all mean "keep waiting".
 * The overall bound (healthCheckTimeout), child exit and stop are raced by the
 * caller; this loop only ends on 200 or on `signal`.
 *
 * Between attempts the loop sleeps `intervalMs`, or less: servers announce
 * readiness in their output (llama-server prints "main: model loaded" and
 * "server is listening", vLLM "Application startup complete"), so any output
 * (an `OutputWaker` poke) triggers the next attempt at once, or when
 * `wakeGapMs` (1 ms) have passed since the last one began: chatty loads are
 * bounded to one attempt per gap. llama-server marks itself ready just before
 * it prints "model loaded", so the check that line triggers finds it ready.
 * This takes the readiness delay from ~half the interval to about half a
 * millisecond (BENCHMARKS.md, scenario 3). The gap was 5 ms until
 * 2026-12-05: a check woken by a line just before the ready ones then held
 * the one that would succeed back by up to 5 ms (1.8 ms median from
 * "listening" to ready over 22 swaps, 0.47 ms with 1 ms), while a
 * llama-server load brings only 5–8 checks either way (bench/findings.md).
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
  /** Poked on the server's output: cuts the sleep short. */
  readonly waker?: OutputWaker;
  /** Attempts woken by output start at least this long apart. Default 5. */
  readonly wakeGapMs?: number;
}

/**
 * Counts pokes (one per chunk of server output) and lets the health loop
 * sleep until the interval ends or the next poke, whichever comes first.
 */
export class OutputWaker {
  #count = 0;
  #wake: (() => void) | undefined;

  poke(): void {
    this.#count += 1;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  get count(): number {
    return this.#count;
  }

  /** Resolves after `ms`, at the next poke, or (rejecting) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error); // a listener added now would never fire
      const cleanup = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.#wake === done) this.#wake = undefined;
      };
      const done = (): void => {
        cleanup();
        resolve();
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal.reason as Error);
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#wake = done;
    });
  }
}

/** Resolve on the first 200 from GET `url`; reject only when `signal` aborts. */
export async function waitHealthy(url: string, options: HealthOptions): Promise<void> {
  const { intervalMs, signal } = options;
  const attemptMs = options.attemptTimeoutMs ?? 2000;
  const { waker } = options;
  const gapMs = options.wakeGapMs ?? 1;
  // Aborted sleeps reject with the signal's reason, like everything else here.
  const pause = (ms: number): Promise<void> => sleep(ms, undefined, { signal }).catch(() => signal.throwIfAborted());
  for (;;) {
    signal.throwIfAborted();
    const seen = waker?.count;
    const attemptAt = performance.now();
    try {
      const status = await probe(url, signal, attemptMs);
      if (status === 200) return;
      options.onAttempt?.(`HTTP ${status}`);
    } catch (err) {
      signal.throwIfAborted();
      options.onAttempt?.(describe(err));
    }
    if (waker === undefined) {
      await pause(intervalMs);
      continue;
    }
    // Output during the attempt: go again. Otherwise sleep until output or the interval.
    if (waker.count === seen) await waker.sleep(intervalMs, signal);
    // At most one attempt per gap: a quiet server's "listening" line is checked at once.
    const wait = attemptAt + gapMs - performance.now();
    if (wait > 0) await pause(wait);
  }
}

/**
 * One GET on the shared keep-alive agent; its status. The connection stays
 * open for the next attempt and, once the server is ready, for the first
 * forwarded request: a llama-server busy right after its load answers a new
 * connection after two thread hand-offs (accept, then a worker), a kept-alive
 * one after one. A pooled connection is never one to an earlier process on
 * the same port: a stop closes the idle ones (upstream-agent.ts), and one
 * that breaks fails only this attempt.
 */
function probe(url: string, signal: AbortSignal, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = upstreamRequest(url, { method: 'GET', signal, timeout: timeoutMs });
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
