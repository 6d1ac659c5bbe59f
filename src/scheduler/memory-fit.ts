/**
 * The arithmetic of the memory router: what the resident models use, where a
 * model may go, and the cheapest set of models whose eviction makes it fit.
 * Pure functions over plain data; the swapper (memory-swapper.ts) adds the
 * placement memory and the log.
 *
 * A running model's GPU memory is charged to the device it was placed on.
 * When that is not known (it was started before a config reload, or may go on
 * several devices and was never placed by this swapper), it is charged to
 * every device it may use: an over-estimate, so a budget is never exceeded.
 */
import type { ResourceNeed } from '../config/types.ts';

/** Budgets in bytes, `auto` already resolved. */
export interface MemoryBudget {
  /** Device id -> bytes. */
  readonly devices: ReadonlyMap<string, number>;
  /** System memory; Infinity = not budgeted. */
  readonly ram: number;
}

export const NO_NEED: ResourceNeed = Object.freeze({ vram: 0, devices: undefined, ram: 0 });

/** The devices `need` may be placed on, in its order, among those with a budget; `[undefined]` when it needs no GPU memory. */
export function candidateDevices(need: ResourceNeed, budget: MemoryBudget): readonly (string | undefined)[] {
  if (need.vram === 0) return [undefined];
  return (need.devices ?? [...budget.devices.keys()]).filter((d) => budget.devices.has(d));
}

/** The devices a running model's GPU memory is charged to (see the file comment). */
export function chargedDevices(need: ResourceNeed, placed: string | undefined, budget: MemoryBudget): readonly string[] {
  if (need.vram === 0) return [];
  const candidates = candidateDevices(need, budget).filter((d): d is string => d !== undefined);
  return placed !== undefined && candidates.includes(placed) ? [placed] : candidates;
}

/** One resident model as the search sees it. */
export interface Resident {
  readonly model: string;
  readonly need: ResourceNeed;
  /** Devices its vram is charged to. */
  readonly devices: readonly string[];
  /** May be evicted at all (not persistent). */
  readonly evictable: boolean;
  /** Busy (serving, or still loading): evicting it means waiting for it. */
  readonly busy: boolean;
  /** What evicting it costs (positive). */
  readonly cost: number;
}

export interface Fit {
  /** The device the target goes on; undefined when it needs no GPU memory. */
  readonly device: string | undefined;
  readonly evict: readonly string[];
  readonly cost: number;
}

/** Bytes over budget on `device` and in RAM if `target` joined `residents`. */
function overflow(target: ResourceNeed, device: string | undefined, residents: readonly Resident[], budget: MemoryBudget): { vram: number; ram: number } {
  let vram = device === undefined ? 0 : target.vram;
  let ram = target.ram;
  for (const r of residents) {
    if (device !== undefined && r.devices.includes(device)) vram += r.need.vram;
    ram += r.need.ram;
  }
  const cap = device === undefined ? Infinity : (budget.devices.get(device) ?? 0);
  return { vram: Math.max(0, vram - cap), ram: Math.max(0, ram - budget.ram) };
}

/** Exhaustive search is used up to this many candidates (2^12 subsets); beyond, cheapest-per-byte first. */
const EXACT_LIMIT = 12;

/** The cheapest subset of `pool` freeing at least `need` (vram on `device`, ram), or undefined. Ties: fewer models, then pool order. */
function cheapest(pool: readonly Resident[], device: string | undefined, need: { vram: number; ram: number }): { evict: Resident[]; cost: number } | undefined {
  if (need.vram <= 0 && need.ram <= 0) return { evict: [], cost: 0 };
  const freed = (r: Resident): { vram: number; ram: number } => ({ vram: device !== undefined && r.devices.includes(device) ? r.need.vram : 0, ram: r.need.ram });
  const useful = pool.filter((r) => { const f = freed(r); return (need.vram > 0 && f.vram > 0) || (need.ram > 0 && f.ram > 0); });
  if (useful.length <= EXACT_LIMIT) {
    let best: { evict: Resident[]; cost: number } | undefined;
    for (let mask = 1; mask < 1 << useful.length; mask++) {
      const pick = useful.filter((_, i) => (mask & (1 << i)) !== 0);
      let vram = 0, ram = 0, cost = 0;
      for (const r of pick) { const f = freed(r); vram += f.vram; ram += f.ram; cost += r.cost; }
      if (vram < need.vram || ram < need.ram) continue;
      if (best === undefined || cost < best.cost || (cost === best.cost && pick.length < best.evict.length)) best = { evict: pick, cost };
    }
    return best;
  }
  const order = [...useful].sort((a, b) => a.cost / Math.max(1, freed(a).vram + freed(a).ram) - b.cost / Math.max(1, freed(b).vram + freed(b).ram));
  const evict: Resident[] = [];
  let vram = 0, ram = 0, cost = 0;
  for (const r of order) {
    if (vram >= need.vram && ram >= need.ram) break;
    const f = freed(r);
    evict.push(r); vram += f.vram; ram += f.ram; cost += r.cost;
  }
  return vram >= need.vram && ram >= need.ram ? { evict, cost } : undefined;
}

/**
 * Where `target` fits and what must go:
 *   (1) on each device it may use, in its order, the cheapest set of idle,
 *       evictable residents that makes room; the cheapest device wins (the
 *       first on a tie);
 *   (2) if no idle set makes room anywhere, the same search with busy
 *       residents allowed: the caller must then wait for them;
 *   (3) if even that fails (only non-evictable residents are in the way),
 *       undefined.
 */
export function findFit(target: ResourceNeed, residents: readonly Resident[], budget: MemoryBudget): Fit | undefined {
  const devices = candidateDevices(target, budget);
  for (const allowBusy of [false, true]) {
    let best: Fit | undefined;
    for (const device of devices) {
      const over = overflow(target, device, residents, budget);
      const pool = residents.filter((r) => r.evictable && (allowBusy || !r.busy));
      const found = cheapest(pool, device, over);
      if (found !== undefined && (best === undefined || found.cost < best.cost)) {
        best = { device, evict: found.evict.map((r) => r.model), cost: found.cost };
      }
    }
    if (best !== undefined) return best;
  }
  return undefined;
}

/** Whether `target` could ever run: it fits on one of its devices next to every model in `always` (charged as residents). */
export function everFits(target: ResourceNeed, always: readonly Resident[], budget: MemoryBudget): boolean {
  return candidateDevices(target, budget).some((d) => { const o = overflow(target, d, always, budget); return o.vram === 0 && o.ram === 0; });
}
