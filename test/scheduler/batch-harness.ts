/**
 * A Harness around a BatchScheduler with a fake clock the test moves, and the
 * batch options a scenario needs (maxWait, ticks, load costs).
 */
import { BatchScheduler } from '../../src/scheduler/batch.ts';
import { Harness, type HarnessOptions } from './harness.ts';

export interface BatchHarnessOptions extends HarnessOptions {
  /** Undefined: the default (twice the model's load cost). */
  readonly maxWaitMs?: number;
  /** Set when the test plays the router's ticks (enables lingering). */
  readonly tickMs?: number;
  /** Load cost per model (ms); unlisted: unknown. */
  readonly cost?: Readonly<Record<string, number>>;
}

export class BatchHarness extends Harness {
  /** The scheduler's clock (ms). */
  now = 0;

  constructor(opts: BatchHarnessOptions = {}) {
    let self: BatchHarness | undefined;
    super((effects, o) => new BatchScheduler({
      ...o,
      effects,
      maxWaitMs: opts.maxWaitMs,
      tickMs: opts.tickMs,
      now: () => self?.now ?? 0,
      loadCostMs: (m) => opts.cost?.[m],
    }), opts);
    self = this;
  }

  /** Move the clock to `ms` (no event: the scheduler notices at the next one). */
  at(ms: number): this {
    this.now = ms;
    return this;
  }

  /** The router's tick at `ms`. */
  tick(ms: number): void {
    this.now = ms;
    this.s.onTick?.();
  }
}
