/**
 * A loaded model's real footprint, measured after it turned ready, and how it
 * compares with what the model declares (`resources`):
 *   - system memory: the resident set (VmRSS) of every member of the server's
 *     process group, read from /proc (Linux);
 *   - GPU memory: what nvidia-smi reports for those processes, per GPU (absent
 *     without nvidia-smi).
 * A declaration more than 20% off the measurement gets a warning: too low and
 * the budget can be exceeded for real, too high and models that would fit
 * are evicted.
 */
import { readFileSync } from 'node:fs';
import type { ResourceNeed } from '../config/types.ts';
import { formatSize } from '../config/memory.ts';
import { liveGroupMembers } from './kill-group.ts';
import { gpuUsageByPid } from './memory-probe.ts';

export interface Footprint {
  /** Members of the process group when measured. */
  readonly pids: readonly number[];
  /** Sum of their VmRSS, in bytes. */
  readonly rss: number;
  /** GPU index -> bytes used by those processes; undefined when GPU usage cannot be read. */
  readonly vram: ReadonlyMap<string, number> | undefined;
}


/** VmRSS of one process in bytes; 0 if it is gone or has none (a kernel thread). */
export function processRss(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/**
 * Measures process group `pgid`. `gpuUsage` defaults to nvidia-smi's per-process
 * report (pass `async () => undefined` to skip it).
 */
export async function measureFootprint(
  pgid: number,
  gpuUsage: () => Promise<ReadonlyMap<number, ReadonlyMap<string, number>> | undefined> = gpuUsageByPid,
): Promise<Footprint> {
  const pids = (await liveGroupMembers(pgid)).sort((a, b) => a - b);
  const rss = pids.reduce((sum, pid) => sum + processRss(pid), 0);
  const byPid = await gpuUsage();
  if (byPid === undefined) return { pids, rss, vram: undefined };
  const vram = new Map<string, number>();
  for (const pid of pids) for (const [gpu, bytes] of byPid.get(pid) ?? []) vram.set(gpu, (vram.get(gpu) ?? 0) + bytes);
  return { pids, rss, vram };
}

/** How far off a declaration may be before it is reported. */
export const FOOTPRINT_TOLERANCE = 0.2;

function compare(what: string, declared: number, measured: number, tolerance: number): string | undefined {
  if (declared === 0 && measured === 0) return undefined;
  const off = declared === 0 ? Infinity : (measured - declared) / declared;
  if (Math.abs(off) <= tolerance) return undefined;
  const pct = Number.isFinite(off) ? ` (${Math.round(Math.abs(off) * 100)}% ${off > 0 ? 'more' : 'less'})` : '';
  const advice = off > 0 ? 'raise it, or the budget can be exceeded' : 'lower it, or models that would fit are evicted';
  return `${what} declares ${formatSize(declared)}, the server uses ${formatSize(measured)}${pct}: ${advice}`;
}

/**
 * Warnings for model `model` whose declaration is more than `tolerance` off
 * its footprint. GPU memory is compared when it was measured (the total over
 * every GPU the processes use). System memory is compared when the model
 * declares some, or declares no GPU memory at all (a GPU server's RSS holds
 * its mapped weights, which are not what `ram` means).
 */
export function footprintWarnings(model: string, declared: ResourceNeed, measured: Footprint, tolerance = FOOTPRINT_TOLERANCE): string[] {
  const out: string[] = [];
  if (measured.vram !== undefined) {
    const used = [...measured.vram.values()].reduce((a, b) => a + b, 0);
    const w = compare(`models.${model}.resources.vram`, declared.vram, used, tolerance);
    if (w !== undefined) out.push(w);
  }
  if (declared.ram > 0 || declared.vram === 0) {
    const w = compare(`models.${model}.resources.ram`, declared.ram, measured.rss, tolerance);
    if (w !== undefined) out.push(w);
  }
  return out;
}
