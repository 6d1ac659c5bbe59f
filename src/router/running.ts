/** What `GET /running` shows of each model: a read, which may be stale by the time it is sent. */
import type { Config } from '../config/types.ts';
import type { Upstream } from '../process/types.ts';
import type { ModelLoad } from '../scheduler/types.ts';
import type { LoadProgress } from './feed-publisher.ts';
import type { ModelTable } from './model-table.ts';

export interface RunningInfo {
  readonly model: string;
  readonly state: string;
  readonly inFlight: number;
  readonly queued: number;
  readonly pid: number | undefined;
  readonly proxy: string;
  readonly cmd: string;
  readonly ttl: number;
  /**
   * Seconds left before the ttl unloads it (to the millisecond): counted from its
   * last use (a grant, a request done, a load), only while it is ready and
   * idle; null when no countdown runs (no ttl, busy, not ready).
   */
  readonly ttlLeft: number | null;
  readonly name: string | undefined;
  readonly description: string | undefined;
  /** While it loads: since when, how long so far, the estimate from earlier loads, what it evicts. */
  readonly load?: LoadProgress;
  /** Under the memory router, for a model that declares `resources`: see `Placement`. */
  readonly placement?: Placement;
}

/**
 * What a model declared to the memory router (bytes) and, while its process
 * runs, the device it was started on: what its `${DEVICE}` became (absent
 * when it was placed on none, e.g. it needs no GPU memory).
 */
export interface Placement {
  readonly device?: string;
  readonly vram: number;
  readonly ram: number;
}

function placementOf(config: Config, model: string, up: Upstream): Placement | undefined {
  const need = config.router.use === 'memory' ? config.router.memory.needs.get(model) : undefined;
  if (need === undefined) return undefined;
  const device = up.device();
  return { ...(device !== undefined ? { device } : {}), vram: need.vram, ram: need.ram };
}

/** Models whose process is not stopped, or that have requests in flight or waiting, in id order. */
export function runningInfo(
  models: ModelTable,
  load: (model: string) => ModelLoad,
  progress: (model: string) => LoadProgress | undefined,
  ttlLeftMs: (model: string) => number | undefined,
): RunningInfo[] {
  const out: RunningInfo[] = [];
  for (const [model, up] of models.entries()) {
    const l = load(model);
    const state = up.status();
    if ((state === 'stopped' || state === 'shutdown') && l.inFlight === 0 && l.waiting === 0) continue;
    const m = models.model(model)!;
    const loading = progress(model);
    const placement = placementOf(models.config, model, up);
    const left = state === 'ready' ? ttlLeftMs(model) : undefined;
    out.push({
      model, state, inFlight: l.inFlight, queued: l.waiting, pid: up.pid(),
      proxy: m.proxy, cmd: m.cmd.join(' '), ttl: m.ttlMs / 1000,
      ttlLeft: left === undefined ? null : Math.round(left) / 1000, name: m.name, description: m.description,
      ...(loading !== undefined ? { load: loading } : {}),
      ...(placement !== undefined ? { placement } : {}),
    });
  }
  return out;
}
