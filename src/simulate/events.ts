/**
 * Everything that happens on the simulator's virtual clock. The run loop
 * (./run.ts) takes these one at a time; only `arrival`, `swapDone`,
 * `serveDone` and `tick` reach the scheduler, as `onRequest`, `onSwapDone`,
 * `onServeDone` and `onTick`, and an `idleCheck` that finds its model's TTL run out, as
 * `onUnload`. The others are the simulated processes' own steps.
 */
import type { ProxyError } from '../errors.ts';
import type { RequestId } from '../scheduler/types.ts';

export type SimEvent =
  /** A trace request arrives (its model already resolved from an alias). */
  | { readonly type: 'arrival'; readonly id: RequestId; readonly model: string }
  /** The models the swap for `model` evicts have all stopped: load `model` now (or finish). */
  | { readonly type: 'evicted'; readonly model: string }
  /** A load finished; `token` tells a current load from one that was stopped meanwhile. */
  | { readonly type: 'loaded'; readonly model: string; readonly token: number }
  /** A model's process exited; `token` tells the current stop from an older one. */
  | { readonly type: 'stopped'; readonly model: string; readonly token: number }
  /** The swap started for `model` is over (`error` set when it did not make it ready). */
  | { readonly type: 'swapDone'; readonly model: string; readonly error: ProxyError | undefined }
  /** A model's TTL may have run out (see ./sim-ttl.ts); stale when `token` is not the model's current one. */
  | { readonly type: 'idleCheck'; readonly model: string; readonly token: number }
  /** A granted request finished its service time. */
  | { readonly type: 'serveDone'; readonly id: RequestId }
  /** The router's periodic tick, for a scheduler with `onTick` (every SCHEDULER_TICK_MS while anything is left to do). */
  | { readonly type: 'tick' };
