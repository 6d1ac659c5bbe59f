/**
 * Scenario 4, scheduling traces: each trace in bench/traces/ is replayed open
 * loop (every request sent at its recorded time, whatever happened before)
 * against a fresh modelswap with nothing loaded, once per scheduler (serial,
 * fifo, batch, each with its default settings). Memory is the same for all:
 * one model at a time (serial evicts all; under fifo and batch every model is
 * in the implicit swap group). Swaps = model loads, counted from the proxy's
 * "upstream ready" log lines. Before a proxy stops, its event feed gives each
 * request's wait as the proxy saw it, and for batch the check of its wait
 * bound (../lib/proxy-waits.ts).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePortRange } from '../../test/helpers/ports.ts';
import type { TraceJob, TraceResult } from '../lib/client.ts';
import { ROOT, runInClient, startProxy } from '../lib/processes.ts';
import { fetchProxyWaits, type ProxyWaits } from '../lib/proxy-waits.ts';
import { startRouter } from '../lib/router.ts';
import { fake, type UpstreamKind } from '../lib/upstreams.ts';
import { percentile, round } from '../lib/stats.ts';
import { readTrace, type Trace } from '../lib/trace.ts';

export type SchedulerName = 'serial' | 'fifo' | 'batch';
/** Every scheduler the traces are replayed under, in report order. */
export const SCHEDULERS: readonly SchedulerName[] = ['serial', 'fifo', 'batch'];
/** Who ran the trace: modelswap under a scheduler, or llama.cpp's own router mode. */
export type Runner = SchedulerName | 'llama.cpp router';

export interface TraceRun {
  readonly trace: string;
  readonly upstream: UpstreamKind['name'];
  readonly runner: Runner;
  readonly requests: number;
  readonly ok: number;
  /** Non-200, transport errors, or served by the wrong model. */
  readonly failed: number;
  readonly firstFailure: string | null;
  /** Model loads: modelswap's "upstream ready" lines, the router's spawned instances; null in results saved before the router's were counted. */
  readonly swaps: number | null;
  readonly makespanMs: number;
  readonly waitP50Ms: number;
  readonly waitP95Ms: number;
  /** Absent in results saved before batch joined the traces. */
  readonly waitP99Ms?: number;
  readonly waitMaxMs: number;
  /** modelswap's own record of the run (its event feed); absent for the router, in older results, or if the feed could not be read. */
  readonly proxy?: ProxyWaits;
}

export const TRACE_DIR = join(ROOT, 'bench/traces');

export function traceFiles(): string[] {
  return readdirSync(TRACE_DIR).filter((f) => f.endsWith('.json')).sort().map((f) => join(TRACE_DIR, f));
}

function configFor(trace: Trace, scheduler: SchedulerName, base: number, kind: UpstreamKind): string {
  const names = Object.keys(trace.models);
  const models = names.map((name, i) => {
    const m = trace.models[name]!;
    const port = base + 1 + i;
    return `  ${name}:
    cmd: ${kind.argv(port, name, { loadMs: m.loadMs, tokenMs: m.tokenMs, tokens: 1000 }).join(' ')}
    proxy: http://127.0.0.1:${port}
    concurrencyLimit: 1000`;
  });
  return `healthCheckTimeout: 120
routing:
  scheduler:
    use: ${scheduler}
models:
${models.join('\n')}
`;
}

export async function replay(trace: Trace, scheduler: SchedulerName, kind: UpstreamKind = fake): Promise<TraceRun> {
  const base = await freePortRange(1 + Object.keys(trace.models).length);
  const proxy = await startProxy(configFor(trace, scheduler, base, kind), base);
  let result: TraceResult;
  let waits: ProxyWaits | undefined;
  try {
    result = await runInClient<TraceResult>(traceJob(trace, proxy.origin, kind));
    waits = await fetchProxyWaits(proxy.origin, scheduler === 'batch');
  } finally {
    await proxy.stop();
  }
  const run = summarizeRun(trace, kind.name, scheduler, result, proxy.logs.filter((l) => l.msg === 'upstream ready').length);
  return waits === undefined ? run : { ...run, proxy: waits };
}

function traceJob(trace: Trace, origin: string, kind: UpstreamKind): TraceJob {
  const span = Math.max(...trace.requests.map((r) => r.atMs));
  return { kind: 'trace', origin, requests: trace.requests, bodyExtra: kind.bodyExtra, deadlineMs: span + 180_000 };
}

function summarizeRun(trace: Trace, upstream: UpstreamKind['name'], runner: Runner, result: TraceResult, swaps: number | null): TraceRun {
  // The fake names who served each answer (x-served-by: <model>@<port>); a real server does not.
  const failures = result.outcomes.filter((o) => o.status !== 200 || o.error !== null || (o.servedBy !== null && !o.servedBy.startsWith(`${o.model}@`)));
  const f = failures[0];
  const waits = result.outcomes.map((o) => o.waitMs);
  return {
    trace: trace.name,
    upstream,
    runner,
    requests: result.outcomes.length,
    ok: result.outcomes.length - failures.length,
    failed: failures.length,
    firstFailure: f === undefined ? null : `request ${f.i} (${f.model}): ${f.error ?? `HTTP ${f.status}, served by ${f.servedBy}`}`,
    swaps,
    makespanMs: round(result.makespanMs, 1),
    waitP50Ms: round(percentile(waits, 50), 1),
    waitP95Ms: round(percentile(waits, 95), 1),
    waitP99Ms: round(percentile(waits, 99), 1),
    waitMaxMs: round(Math.max(...waits), 1),
  };
}

/**
 * The same trace against llama.cpp's router mode: `llama-server --models-dir
 * DIR --models-max 1`, DIR holding one copy of the GGUF per trace model
 * (named after it), every instance with the context size modelswap's get.
 */
export async function replayOnRouter(trace: Trace, bin: string, gguf: string): Promise<TraceRun> {
  const router = await startRouter(bin, gguf, Object.keys(trace.models), 1);
  try {
    const result = await runInClient<TraceResult>(traceJob(trace, router.origin, { name: 'llama-server', argv: () => [], bodyExtra: { ignore_eos: true }, stamps: false }));
    return summarizeRun(trace, 'llama-server', 'llama.cpp router', result, router.spawns());
  } finally {
    await router.stop();
  }
}

export function describeRun(run: TraceRun): string {
  const b = run.proxy?.bound;
  const bound = b === undefined ? '' : `, proxy wait ≤ bound: ${b.over === 0 ? 'yes' : `${b.over} over`} (closest ${b.tightest.waitMs} of ${Math.round(b.tightest.boundMs)} ms)`;
  return `  ${run.trace} / ${run.upstream} / ${run.runner}: ${run.swaps ?? '?'} swaps, makespan ${(run.makespanMs / 1000).toFixed(2)} s, wait p50 ${run.waitP50Ms} ms p95 ${run.waitP95Ms} ms p99 ${run.waitP99Ms ?? '?'} ms max ${run.waitMaxMs} ms${bound}, ${run.failed} failed${run.firstFailure === null ? '' : ` (${run.firstFailure})`}`;
}

export async function traces(files: readonly string[], log: (s: string) => void): Promise<TraceRun[]> {
  const runs: TraceRun[] = [];
  for (const file of files) {
    const trace = readTrace(file);
    for (const scheduler of SCHEDULERS) {
      const run = await replay(trace, scheduler);
      runs.push(run);
      log(describeRun(run));
    }
  }
  return runs;
}
