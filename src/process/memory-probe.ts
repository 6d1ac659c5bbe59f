/**
 * What the machine has and what a server really uses, for the memory router:
 *   - `detectMemory()`: each GPU's total memory (nvidia-smi, else rocm-smi)
 *     and the system's total RAM, read once at start-up to resolve `auto`
 *     budgets;
 *   - `gpuUsageByPid()`: GPU memory per process (nvidia-smi), to measure a
 *     loaded model.
 * A tool that is missing, fails or takes more than a few seconds counts as
 * "no GPU information", never as an error. The parsers are exported for tests.
 */
import { execFile } from 'node:child_process';
import { totalmem } from 'node:os';
import type { DetectedMemory } from '../scheduler/memory-swapper.ts';

const MIB = 2 ** 20;
const TOOL_TIMEOUT_MS = 5000;

/** Runs a tool and resolves with its stdout, or undefined when it is missing or fails. */
export type RunTool = (file: string, args: readonly string[]) => Promise<string | undefined>;

export const runTool: RunTool = (file, args) =>
  new Promise((resolve) => {
    execFile(file, [...args], { timeout: TOOL_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout) => resolve(err === null ? stdout : undefined));
  });

/** `nvidia-smi --query-gpu=index,uuid,memory.total --format=csv,noheader,nounits` -> index -> { uuid, bytes }. */
export function parseNvidiaGpus(text: string): Map<string, { readonly uuid: string; readonly bytes: number }> {
  const out = new Map<string, { uuid: string; bytes: number }>();
  for (const line of text.split('\n')) {
    const [index, uuid, mib] = line.split(',').map((s) => s.trim());
    if (index === undefined || index === '' || uuid === undefined || !Number.isFinite(Number(mib))) continue;
    out.set(index, { uuid, bytes: Number(mib) * MIB });
  }
  return out;
}

/** `rocm-smi --showmeminfo vram --json` -> card number -> total bytes. */
export function parseRocmGpus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return out;
  }
  if (data === null || typeof data !== 'object') return out;
  for (const [card, info] of Object.entries(data as Record<string, unknown>)) {
    const index = /^card(\d+)$/.exec(card)?.[1];
    const total = info !== null && typeof info === 'object' ? (info as Record<string, unknown>)['VRAM Total Memory (B)'] : undefined;
    if (index !== undefined && Number.isFinite(Number(total))) out.set(index, Number(total));
  }
  return out;
}

/** Each GPU's total memory and the system's RAM. */
export async function detectMemory(run: RunTool = runTool): Promise<DetectedMemory> {
  const nvidia = await run('nvidia-smi', ['--query-gpu=index,uuid,memory.total', '--format=csv,noheader,nounits']);
  let devices = new Map<string, number>();
  if (nvidia !== undefined) devices = new Map([...parseNvidiaGpus(nvidia)].map(([i, g]) => [i, g.bytes]));
  if (devices.size === 0) {
    const rocm = await run('rocm-smi', ['--showmeminfo', 'vram', '--json']);
    if (rocm !== undefined) devices = parseRocmGpus(rocm);
  }
  return { devices, ram: totalmem() };
}

/**
 * `nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv,noheader,nounits`
 * with the GPUs' uuids -> pid -> GPU index -> bytes.
 */
export function parseNvidiaApps(text: string, gpus: ReadonlyMap<string, { readonly uuid: string }>): Map<number, Map<string, number>> {
  const indexOf = new Map([...gpus].map(([i, g]) => [g.uuid, i]));
  const out = new Map<number, Map<string, number>>();
  for (const line of text.split('\n')) {
    const [pid, uuid, mib] = line.split(',').map((s) => s.trim());
    const index = uuid === undefined ? undefined : indexOf.get(uuid);
    if (index === undefined || !Number.isInteger(Number(pid)) || !Number.isFinite(Number(mib))) continue;
    const per = out.get(Number(pid)) ?? new Map<string, number>();
    per.set(index, (per.get(index) ?? 0) + Number(mib) * MIB);
    out.set(Number(pid), per);
  }
  return out;
}

/** GPU memory per process and GPU index, or undefined when nvidia-smi is not there. */
export async function gpuUsageByPid(run: RunTool = runTool): Promise<Map<number, Map<string, number>> | undefined> {
  const gpus = await run('nvidia-smi', ['--query-gpu=index,uuid,memory.total', '--format=csv,noheader,nounits']);
  if (gpus === undefined) return undefined;
  const apps = await run('nvidia-smi', ['--query-compute-apps=pid,gpu_uuid,used_memory', '--format=csv,noheader,nounits']);
  return apps === undefined ? undefined : parseNvidiaApps(apps, parseNvidiaGpus(gpus));
}
