/**
 * The start-up race: readiness against child exit, the
 * health-check timeout and stop(), as
 * `Promise.race([healthy, exited, ...timeoutIf(ms), ...abortIf(signal)])`.
 *
 * Every racer resolves to a `StartOutcome` (none rejects), so the winner does
 * not depend on the order abort listeners run in. The caller's one
 * AbortController is aborted in `finally`, which cancels the losing health
 * loop, timer and listener.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitHealthy, type OutputWaker } from './health.ts';
import type { Child, ChildExit } from './spawn.ts';

export type StartOutcome =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'exited'; readonly exit: ChildExit }
  | { readonly kind: 'timeout'; readonly lastAttempt: string | undefined }
  | { readonly kind: 'aborted'; readonly reason: unknown };

export interface StartRaceOptions {
  /** Full health URL, or null: ready as soon as the OS has started the process. */
  readonly healthUrl: string | null;
  readonly intervalMs: number;
  /** Poked on the server's output, so readiness is checked at once (see health.ts). */
  readonly waker?: OutputWaker;
  /** 0 or Infinity disables the bound. */
  readonly timeoutMs: number;
  /**
   * Aborted by stop() to cancel the start; aborted by this function when the
   * race settles, to clean up the losers. One controller for both.
   */
  readonly controller: AbortController;
}

export async function raceStart(child: Child, options: StartRaceOptions): Promise<StartOutcome> {
  const { controller } = options;
  const signal = controller.signal;
  let lastAttempt: string | undefined;
  const aborted = (): StartOutcome => ({ kind: 'aborted', reason: signal.reason });

  const healthy = child.spawned
    .then(async (ok) => {
      if (!ok) return never(); // the `exited` racer reports the spawn error
      if (options.healthUrl === null) return;
      await waitHealthy(options.healthUrl, {
        intervalMs: options.intervalMs,
        waker: options.waker,
        signal,
        onAttempt: (outcome) => (lastAttempt = outcome),
      });
    })
    .then((): StartOutcome => ({ kind: 'healthy' }), aborted);
  const exited = child.exited.then((exit): StartOutcome => ({ kind: 'exited', exit }));

  try {
    return await Promise.race([
      healthy,
      exited,
      ...timeoutIf(options.timeoutMs, signal, () => ({ kind: 'timeout', lastAttempt })),
      ...abortIf(signal),
    ]);
  } finally {
    controller.abort();
  }
}

/** `[]` when disabled; otherwise a timer that `signal` cancels. */
export function timeoutIf(ms: number, signal: AbortSignal, outcome: () => StartOutcome): Promise<StartOutcome>[] {
  if (!(ms > 0) || ms === Infinity) return [];
  return [
    sleep(ms, undefined, { signal }).then(outcome, (): StartOutcome => ({ kind: 'aborted', reason: signal.reason })),
  ];
}

/** `[]` without a signal; otherwise resolves when it aborts. */
export function abortIf(signal: AbortSignal | undefined): Promise<StartOutcome>[] {
  if (signal === undefined) return [];
  if (signal.aborted) return [Promise.resolve({ kind: 'aborted', reason: signal.reason })];
  return [once(signal, 'abort').then((): StartOutcome => ({ kind: 'aborted', reason: signal.reason }))];
}

function never(): Promise<never> {
  return new Promise<never>(() => {});
}
