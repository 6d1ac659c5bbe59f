/**
 * Picks the scheduler named by `routing.scheduler.use` and its eviction policy:
 *   - `serial`: SerialScheduler + evict-all swapper (the router is ignored:
 *               one model at a time; the memory router still refuses, at
 *               admission, a model that can never fit, and still places
 *               each model it starts);
 *   - `fifo`:   FifoScheduler + the router's swapper (`routing.router.use`:
 *               groups, matrix or memory), priority from `config.priority`
 *               (unlisted models: 0);
 *   - `batch`:  BatchScheduler + the router's swapper, priority as fifo's,
 *               `maxWaitMs` from the config, the clock, load costs and tick
 *               period from the deps (performance.now and no ticks by default).
 * Throws (from createGroupSwapper) if a model is in two groups.
 *
 * `createScheduling` also returns where the memory router placed each model
 * (`deviceFor`, what `${DEVICE}` becomes when its server is spawned). Under
 * serial the memory swapper's `onSwapStart` runs in place of the evict-all
 * one (so its log line, with the device, is the one logged): everything else
 * is evicted, so the model goes on the first of its devices with room for it
 * alone.
 */
import type { GroupConfig, RouterConfig, SchedulerConfig } from '../config/types.ts';
import { assertNever } from '../errors.ts';
import { BatchScheduler } from './batch.ts';
import { FifoScheduler } from './fifo.ts';
import { createEvictAllSwapper, createGroupSwapper } from './group-swapper.ts';
import { createMatrixSwapper } from './matrix-swapper.ts';
import { createMemorySwapper, resolveBudget } from './memory-swapper.ts';
import type { DetectedMemory } from './memory-swapper.ts';
import { SerialScheduler } from './serial.ts';
import type { Effects, Scheduler, Swapper } from './types.ts';

/** The parts of `Config` a scheduler is built from. */
export interface SchedulingConfig {
  readonly scheduler: SchedulerConfig;
  readonly groups: readonly GroupConfig[];
  /** The eviction policy; default `{ use: 'group' }`. */
  readonly router?: RouterConfig;
}

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
  /** For the memory router: what `auto` budgets resolve to (read once at start-up). Absent: no GPU, RAM not budgeted. */
  readonly detectedMemory?: DetectedMemory;
  /** For the memory router: a model's last load time in ms (from the router's load history), undefined if never loaded. */
  readonly reloadMs?: (model: string) => number | undefined;
}

interface Policy {
  readonly swapper: Swapper;
  readonly refusal?: (model: string) => string | undefined;
  /** Set by the memory router only. */
  readonly deviceFor?: (model: string) => string | undefined;
}

/** A scheduler, and where its router placed each model. */
export interface Scheduling {
  readonly scheduler: Scheduler;
  /**
   * The device the memory router placed `model` on when its last swap started
   * (it is set before the swap's task runs, so before the spawn); undefined
   * under the other routers, and for a model that needs no GPU memory.
   */
  readonly deviceFor: (model: string) => string | undefined;
}

const NOWHERE = (): undefined => undefined;

function routerPolicy(config: SchedulingConfig, deps: SchedulerDeps, priority: (model: string) => number): Policy {
  const router = config.router ?? { use: 'group' };
  switch (router.use) {
    case 'group':
      return { swapper: createGroupSwapper(config.groups, deps.log) };
    case 'matrix':
      return { swapper: createMatrixSwapper(router.matrix, deps.log) };
    case 'memory': {
      const { needs, persistent } = router.memory;
      const swapper = createMemorySwapper({
        budget: resolveBudget(router.memory, deps.detectedMemory), needs, persistent, priority, reloadMs: deps.reloadMs, log: deps.log,
      });
      return { swapper, refusal: (m) => swapper.refusal(m), deviceFor: (m) => swapper.deviceFor(m) };
    }
    default:
      return assertNever(router);
  }
}

export function createScheduler(config: SchedulingConfig, deps: SchedulerDeps): Scheduler {
  return createScheduling(config, deps).scheduler;
}

export function createScheduling(config: SchedulingConfig, deps: SchedulerDeps): Scheduling {
  const { effects, isKnown, concurrencyLimit, log } = deps;
  const scheduler = config.scheduler;
  switch (scheduler.use) {
    case 'serial': {
      const { swapper: routed, refusal, deviceFor } = routerPolicy(config, deps, () => 0);
      const evictAll = createEvictAllSwapper(log);
      const swapper: Swapper = deviceFor === undefined ? evictAll : {
        evictionFor: (target, running) => evictAll.evictionFor(target, running),
        onSwapStart: (target, running, evict) => routed.onSwapStart(target, running, evict),
      };
      return {
        scheduler: new SerialScheduler({ effects, isKnown, concurrencyLimit, swapper, priority: () => 0, refusal }),
        deviceFor: deviceFor ?? NOWHERE,
      };
    }
    case 'fifo': {
      const priorities = new Map(scheduler.priority);
      const priority = (model: string): number => priorities.get(model) ?? 0;
      const { swapper, refusal, deviceFor } = routerPolicy(config, deps, priority);
      return { scheduler: new FifoScheduler({ effects, isKnown, concurrencyLimit, swapper, priority, refusal }), deviceFor: deviceFor ?? NOWHERE };
    }
    case 'batch': {
      const priorities = new Map(scheduler.priority);
      const priority = (model: string): number => priorities.get(model) ?? 0;
      const { swapper, refusal, deviceFor } = routerPolicy(config, deps, priority);
      const batch = new BatchScheduler({
        effects, isKnown, concurrencyLimit, swapper, priority, refusal,
        maxWaitMs: scheduler.maxWaitMs,
        now: deps.now ?? (() => performance.now()),
        loadCostMs: deps.loadCostMs,
        tickMs: deps.tickMs,
      });
      return { scheduler: batch, deviceFor: deviceFor ?? NOWHERE };
    }
    default:
      return assertNever(scheduler);
  }
}
