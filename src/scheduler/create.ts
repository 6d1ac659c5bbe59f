/**
 * Picks the scheduler named by `routing.scheduler.use` and its eviction policy:
 *   - `serial`: SerialScheduler + evict-all swapper (groups ignored, §5.3);
 *   - `fifo`:   FifoScheduler + group swapper, priority from `config.priority`
 *               (unlisted models: 0);
 *   - `batch`:  BatchScheduler + group swapper, priority as fifo's, `maxWaitMs`
 *               from the config, the clock, load costs and tick period from
 *               the deps (performance.now and no ticks by default).
 * Throws (from createGroupSwapper) if a model is in two groups.
 */
import type { GroupConfig, SchedulerConfig } from '../config/types.ts';
import { assertNever } from '../errors.ts';
import { BatchScheduler } from './batch.ts';
import { FifoScheduler } from './fifo.ts';
import { createEvictAllSwapper, createGroupSwapper } from './group-swapper.ts';
import { SerialScheduler } from './serial.ts';
import type { Effects, Scheduler } from './types.ts';

export interface SchedulerDeps {
  readonly effects: Effects;
  /** Whether a model id is configured (unknown -> MODEL_NOT_FOUND at admission). */
  readonly isKnown: (model: string) => boolean;
  /** Per-model admission limit (`concurrencyLimit`). */
  readonly concurrencyLimit: (model: string) => number;
  /** Receives one line per real swap (from the swapper's onSwapStart). */
  readonly log?: (msg: string) => void;
  /** The clock (ms) for schedulers that decide by age (batch); performance.now by default. */
  readonly now?: () => number;
  /** Expected load time of a model (ms), e.g. from the router's load history; undefined when unknown. */
  readonly loadCostMs?: (model: string) => number | undefined;
  /** How often the router calls `Scheduler.onTick` (ms); undefined when it does not. */
  readonly tickMs?: number;
}

export function createScheduler(
  config: SchedulerConfig,
  groups: readonly GroupConfig[],
  deps: SchedulerDeps,
): Scheduler {
  const { effects, isKnown, concurrencyLimit, log } = deps;
  switch (config.use) {
    case 'serial':
      return new SerialScheduler({
        effects, isKnown, concurrencyLimit, swapper: createEvictAllSwapper(log), priority: () => 0,
      });
    case 'fifo': {
      const priority = new Map(config.priority);
      return new FifoScheduler({
        effects, isKnown, concurrencyLimit,
        swapper: createGroupSwapper(groups, log),
        priority: (model) => priority.get(model) ?? 0,
      });
    }
    case 'batch': {
      const priority = new Map(config.priority);
      return new BatchScheduler({
        effects, isKnown, concurrencyLimit,
        swapper: createGroupSwapper(groups, log),
        priority: (model) => priority.get(model) ?? 0,
        maxWaitMs: config.maxWaitMs,
        now: deps.now ?? (() => performance.now()),
        loadCostMs: deps.loadCostMs,
        tickMs: deps.tickMs,
      });
    }
    default:
      return assertNever(config);
  }
}
