/**
 * The memory eviction policy (`routing.router.use: memory`): models declare
 * what they need (`resources`), the config gives each device's budget, and a
 * model starts only where it fits next to the models that stay.
 *
 * `evictionFor(target, running, context)`:
 *   (1) The target is running: nothing to evict.
 *   (2) Otherwise the cheapest set of idle, non-persistent running models whose
 *       eviction makes the target fit on one of its devices (memory-fit.ts).
 *       Evicting a model costs its measured reload time (an estimate from its
 *       size before its first load), weighted by its priority: (1 + priority).
 *   (3) If only busy models can make room, the cheapest such set: it holds a
 *       busy model, so the scheduler waits until that model is idle (a busy
 *       model is never stopped), then decides again.
 *   (4) Nothing else can be in the way: `refusal` turns away, at admission,
 *       every model that does not fit next to all persistent models.
 *
 * The device chosen for a target is remembered at `onSwapStart` (the one place
 * this swapper changes anything, besides logging): it is what `${DEVICE}`
 * becomes when the model's server is spawned (`deviceFor`, read through
 * create.ts), and where the model's memory is charged while it runs.
 */
import type { MemoryConfig, ResourceNeed } from '../config/types.ts';
import { formatSize } from '../config/memory.ts';
import { candidateDevices, chargedDevices, everFits, findFit, NO_NEED } from './memory-fit.ts';
import type { MemoryBudget, Resident } from './memory-fit.ts';
import type { EvictionContext, Swapper } from './types.ts';

/** What the machine has, read at start-up; see `resolveBudget`. */
export interface DetectedMemory {
  /** GPU id -> total bytes (nvidia-smi or rocm-smi); empty when none was found. */
  readonly devices: ReadonlyMap<string, number>;
  /** Total system memory in bytes; undefined when unknown. */
  readonly ram: number | undefined;
}

/** The budgets of `config`, `auto` replaced by what was detected (nothing detected: no GPU, RAM not budgeted). */
export function resolveBudget(config: MemoryConfig, detected: DetectedMemory | undefined): MemoryBudget {
  return {
    devices: config.devices === 'auto' ? (detected?.devices ?? new Map()) : config.devices,
    ram: config.ram === 'auto' ? (detected?.ram ?? Infinity) : config.ram,
  };
}

export interface MemorySwapperOptions {
  readonly budget: MemoryBudget;
  readonly needs: ReadonlyMap<string, ResourceNeed>;
  readonly persistent: readonly string[];
  /** How long the model took to load last time, in ms; undefined if never measured. */
  readonly reloadMs?: (model: string) => number | undefined;
  /** fifo priority (default 0): evicting a model of priority p costs (1 + p) times more. */
  readonly priority?: (model: string) => number;
  /** Gets one line per real swap, from `onSwapStart`. */
  readonly log?: (msg: string) => void;
}

export interface MemorySwapper extends Swapper {
  /** Why `model` can never run under these budgets (refuse it at admission), or undefined. */
  refusal(model: string): string | undefined;
  /** The device `model` was placed on by its last swap; undefined if it needs no GPU memory or never started. */
  deviceFor(model: string): string | undefined;
}

const GIB = 2 ** 30;

/** A model never loaded yet: about a second, plus a second per GiB it declares. */
function estimateMs(need: ResourceNeed): number {
  return 1000 + Math.round(((need.vram + need.ram) / GIB) * 1000);
}

export function createMemorySwapper(opts: MemorySwapperOptions): MemorySwapper {
  const { budget, needs, log } = opts;
  const persistent = new Set(opts.persistent);
  const placed = new Map<string, string>();
  const need = (m: string): ResourceNeed => needs.get(m) ?? NO_NEED;
  const cost = (m: string): number => Math.max(1, opts.reloadMs?.(m) ?? estimateMs(need(m))) * (1 + Math.max(0, opts.priority?.(m) ?? 0));
  const resident = (m: string, busy: boolean): Resident => ({
    model: m, need: need(m), devices: chargedDevices(need(m), placed.get(m), budget), evictable: !persistent.has(m), busy, cost: cost(m),
  });
  const residents = (target: string, running: readonly string[], context: EvictionContext | undefined): Resident[] =>
    [...new Set(running)].filter((m) => m !== target).map((m) => resident(m, context?.busy(m) ?? false));

  return {
    evictionFor(target: string, running: readonly string[], context?: EvictionContext): readonly string[] {
      // (1)
      if (running.includes(target)) return [];
      // (2) and (3)
      const others = residents(target, running, context);
      const fit = findFit(need(target), others, budget);
      // (4) cannot happen for an admitted target; evicting every evictable model is still within budget.
      const evict = new Set(fit?.evict ?? others.filter((r) => r.evictable).map((r) => r.model));
      return others.map((r) => r.model).filter((m) => evict.has(m));
    },

    onSwapStart(target: string, running: readonly string[], evict: readonly string[]): void {
      const stay = residents(target, running, undefined).filter((r) => !evict.includes(r.model));
      const fit = findFit(need(target), stay.map((r) => ({ ...r, evictable: false })), budget);
      if (fit?.device !== undefined) placed.set(target, fit.device);
      else placed.delete(target);
      if (log === undefined) return;
      const n = need(target);
      const parts = [
        n.vram > 0 ? `${formatSize(n.vram)} on device ${fit?.device ?? '?'}` : undefined,
        n.ram > 0 ? `${formatSize(n.ram)} of RAM` : undefined,
      ].filter((p) => p !== undefined);
      log(`memory: loading ${target} (${parts.length > 0 ? parts.join(', ') : 'declares no resources'}), evicting [${evict.join(', ')}]`);
    },

    refusal(model: string): string | undefined {
      const n = need(model);
      if (n.vram > 0 && candidateDevices(n, budget).length === 0) {
        const wanted = n.devices === undefined ? 'a GPU' : `device ${n.devices.join(' or ')}`;
        return `model ${model} needs ${formatSize(n.vram)} of GPU memory on ${wanted}, which has no memory budget on this machine`;
      }
      const always = [...persistent].filter((m) => m !== model).map((m) => resident(m, false));
      if (everFits(n, always, budget)) return undefined;
      const room = candidateDevices(n, budget).map((d) => (d === undefined ? '' : `device ${d}: ${formatSize(budget.devices.get(d) ?? 0)}`)).filter((s) => s !== '');
      return `model ${model} needs ${[n.vram > 0 ? `${formatSize(n.vram)} of GPU memory` : '', n.ram > 0 ? `${formatSize(n.ram)} of RAM` : ''].filter((s) => s !== '').join(' and ')}, `
        + `more than the budget allows${room.length > 0 ? ` (${room.join(', ')})` : ''}${Number.isFinite(budget.ram) ? ` (RAM: ${formatSize(budget.ram)})` : ''}`
        + `${always.length > 0 ? ' next to the persistent models' : ''}: it can never start`;
    },

    deviceFor(model: string): string | undefined {
      return placed.get(model);
    },
  };
}
