/**
 * Scenario 6's side-by-side rows: the same real llama-server reached directly,
 * through the bare node:http forwarder, through modelswap (fifo and serial)
 * and through llama.cpp's own router, in one run. Within a round the runners
 * take turns in short slices (a hot-path phase is split into `slices`, the
 * streams run one runner's after another's), in an order rotated (and
 * reversed every other time) from slice to slice, so that a shift of the
 * shared host's speed, which comes and goes in periods of seconds, falls on
 * every runner alike (bench/findings.md). Every figure is judged on the
 * median of per-round values, each round's pooled over its slices.
 *
 * - Hot path: closed-loop small chat completions at each concurrency;
 *   latency, requests/s and each proxy's own CPU per request (its
 *   process's CPU time from /proc/<pid>/stat, ended threads included,
 *   warm-up included; the router's process only, not the child
 *   llama-server it spawned).
 * - Streaming: one 500-token SSE stream at a time, each runner's from a
 *   client process of its own that stays up for the round, each after a
 *   one-token stream that wakes the path; time to first byte and
 *   time per token (first to last event ÷ events between: a real server
 *   stamps nothing, so per-event delay cannot be measured), and each
 *   proxy's CPU per event relayed (after a warm-up stream of its own).
 * - Swaps (./side-swaps.ts): cold start and sequential A/B swaps.
 *
 * Every runner has a llama-server of its own (the router its own child),
 * all with the same binary, model and flags: llama-server serves each
 * kept-alive connection on a thread of a small pool until the connection
 * has been idle for 5 s, so a proxy's pooled connections left from one phase
 * would hold the threads a shared server needs for the next runner's phase.
 * The upstream kind is a
 * parameter so that the code runs against the fake server where no
 * llama-server exists (the router is then left out).
 */
import type { ClosedJob, ClosedResult, StreamJob, StreamResult } from '../lib/client.ts';
import { freePortRange } from '../../test/helpers/ports.ts';
import { pollUntilHealthy, post, readProc, runInClient, spawnDirect, startClientWorker, startBareProxy, startLoadedProxy, stopDirect } from '../lib/processes.ts';
import { startRouter } from '../lib/router.ts';
import { median, round, summarize } from '../lib/stats.ts';
import type { UpstreamKind } from '../lib/upstreams.ts';
import { overheadBody } from './overhead.ts';
import { streamBody } from './streaming.ts';
import { sideSwaps, type SwapSamples } from './side-swaps.ts';

export const SIDE_RUNNERS = ['direct', 'bare', 'fifo', 'serial', 'router'] as const;
export type SideRunner = (typeof SIDE_RUNNERS)[number];

export const RUNNER_NAMES: Readonly<Record<SideRunner, string>> = {
  direct: 'direct (no proxy)',
  bare: 'bare node:http forwarder',
  fifo: 'modelswap fifo',
  serial: 'modelswap serial',
  router: 'llama.cpp router',
};

export interface SideOptions {
  readonly rounds: number;
  readonly warmupMs: number;
  /** Measured time per runner, concurrency and round, split into `slices` phases that take turns with the other runners' (each with its own warm-up). */
  readonly phaseMs: number;
  readonly slices: number;
  readonly concurrencies: readonly number[];
  /** Sequential 500-token streams per runner and round (0: no streaming phase), one runner's after another's in turn. */
  readonly streams: number;
  readonly streamTokens: number;
  /** Swap rounds (cold start + `abSwaps` alternating requests per runner). */
  readonly swapRounds: number;
  readonly abSwaps: number;
}

export interface HotSample {
  readonly runner: SideRunner;
  readonly concurrency: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly reqPerSec: number;
  /** The proxy process's CPU per request, µs; null for direct. */
  readonly cpuUsPerReq: number | null;
  readonly errors: number;
  readonly firstError?: string | null;
}

export interface StreamSample {
  readonly runner: SideRunner;
  readonly ttfbMs: number;
  readonly perTokenMs: number;
  /** The proxy process's CPU over the measured streams that did not fail ÷ the events they carried, µs; null for direct or when no such stream carried an event (absent in results saved before 2026-12-05). */
  readonly cpuUsPerEvent?: number | null;
  readonly errors: number;
}

export interface SideRound {
  readonly order: readonly SideRunner[];
  readonly hot: readonly HotSample[];
  readonly stream: readonly StreamSample[];
}

export interface RunnerSummary {
  readonly runner: SideRunner;
  /** By concurrency ("1", "8", "32"). */
  readonly p50Ms: Readonly<Record<string, number>>;
  readonly addedP50Ms: Readonly<Record<string, number>>;
  readonly reqPerSec: Readonly<Record<string, number>>;
  /** Median of per-round (runner ÷ direct) requests/s. */
  readonly ratioToDirect: Readonly<Record<string, number>>;
  readonly cpuUsPerReq: Readonly<Record<string, number | null>>;
  readonly ttfbMs: number | null;
  readonly addedTtfbMs: number | null;
  readonly perTokenMs: number | null;
  readonly addedPerTokenMs: number | null;
  /** Median over rounds of the proxy's CPU per streamed event, µs; null for direct. */
  readonly cpuUsPerEvent: number | null;
  /** Median cold start to first byte, and median over every A/B swap. */
  readonly coldMs: number | null;
  readonly swapP50Ms: number | null;
  readonly errors: number;
}

export interface SideBySideResult {
  /** Slices per hot-path phase, the runners taking turns (absent in results saved before 2026-12-05 04:00, whose runners ran each phase, stream set and swap sequence as one block). */
  readonly slices?: number;
  /** 'stat': CPU read from /proc/<pid>/stat, ended threads included; absent: a sum over the live threads (results saved before 2026-12-05 05:00, which miss the router's per-request threads). */
  readonly cpuFrom?: 'stat';
  readonly runners: readonly SideRunner[];
  readonly concurrencies: readonly number[];
  readonly rounds: readonly SideRound[];
  readonly swaps: SwapSamples;
  readonly summary: readonly RunnerSummary[];
}

/**
 * Turn n's order: the runners rotated by ⌊n / 2⌋, reversed in odd turns, so
 * that every rotation is followed by its mirror image and, over each pair of
 * turns, every runner's mean position is the middle one, whatever their
 * number (rotating by n itself never put runners 0 and 2 of four last).
 */
export function roundOrder<T>(runners: readonly T[], n: number): T[] {
  const k = Math.floor(n / 2) % runners.length;
  const rotated = [...runners.slice(k), ...runners.slice(0, k)];
  return n % 2 === 0 ? rotated : rotated.reverse();
}

/**
 * The CPU time of process `pid` so far, µs: utime + stime from
 * /proc/<pid>/stat (10 ms ticks), which, unlike a reading of its live
 * threads, also counts threads that ended meanwhile. llama.cpp's router
 * relays each request on a thread of its own that ends with the request
 * (`server_http_proxy`): a sum over live threads missed a third of its CPU
 * per request and half of its CPU per streamed event (bench/findings.md).
 */
function processCpuUs(pid: number): number {
  return readProc(pid).cpuMs * 1000;
}

interface Endpoint {
  readonly runner: SideRunner;
  readonly origin: string;
  /** Whose CPU is counted (the proxy's), undefined for direct. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** What to run against: an upstream kind, and llama-server's binary and model for the router (none: no router rows). */
export interface SideTarget {
  readonly kind: UpstreamKind;
  readonly router?: { readonly bin: string; readonly gguf: string };
  /** modelswap's entry point; the build (dist/cli.js) when omitted. */
  readonly cli?: string;
}

/** The upstream alone on a free port, healthy and warmed by one request. */
async function startServer(argv: (port: number) => string[], firstRequest: Record<string, unknown>): Promise<{ readonly origin: string; stop(): Promise<void> }> {
  const port = await freePortRange(1);
  const origin = `http://127.0.0.1:${port}`;
  const s = spawnDirect(argv(port));
  const stop = async (): Promise<void> => void (await stopDirect(s));
  try {
    await pollUntilHealthy(`${origin}/health`, s.spawnedAt);
    await post(origin, '/v1/chat/completions', firstRequest);
  } catch (err) {
    await stop();
    throw err;
  }
  return { origin, stop };
}

async function startEndpoints(t: SideTarget, firstRequest: Record<string, unknown>): Promise<Endpoint[]> {
  const eps: Endpoint[] = [];
  const stopAll = async (): Promise<void> => {
    for (const e of eps.reverse()) await e.stop().catch(() => undefined);
  };
  try {
    const argv = (port: number): string[] => t.kind.argv(port, 'bench', { tokens: 1000 });
    const fifo = await startLoadedProxy('bench', argv, firstRequest, { scheduler: 'fifo', ...(t.cli === undefined ? {} : { cli: t.cli }) });
    eps.push({ runner: 'fifo', origin: fifo.proxy.origin, pid: fifo.proxy.pid, stop: () => fifo.proxy.stop() });
    const direct = await startServer(argv, firstRequest);
    eps.push({ runner: 'direct', origin: direct.origin, pid: undefined, stop: direct.stop });
    const bareUpstream = await startServer(argv, firstRequest);
    const bare = await startBareProxy(await freePortRange(1), bareUpstream.origin);
    eps.push({ runner: 'bare', origin: bare.origin, pid: bare.pid, stop: async () => {
      await bare.stop();
      await bareUpstream.stop();
    } });
    const serial = await startLoadedProxy('bench', argv, firstRequest, { scheduler: 'serial', ...(t.cli === undefined ? {} : { cli: t.cli }) });
    eps.push({ runner: 'serial', origin: serial.proxy.origin, pid: serial.proxy.pid, stop: () => serial.proxy.stop() });
    if (t.router !== undefined) {
      const router = await startRouter(t.router.bin, t.router.gguf, ['bench'], 1);
      eps.push({ runner: 'router', origin: router.origin, pid: router.pid, stop: () => router.stop() });
      const r = await fetch(`${router.origin}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(firstRequest) });
      await r.text();
      if (r.status !== 200) throw new Error(`llama.cpp router: first request HTTP ${r.status}`);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return SIDE_RUNNERS.flatMap((name) => eps.filter((e) => e.runner === name));
}

export async function sideBySide(o: SideOptions, log: (s: string) => void, t: SideTarget): Promise<SideBySideResult> {
  const hotBody = overheadBody(t.kind);
  const first = { model: 'bench', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }], ...t.kind.bodyExtra };
  if (!Number.isInteger(o.slices) || o.slices < 1) throw new RangeError(`slices must be a whole number ≥ 1, not ${o.slices}`);
  const eps = await startEndpoints(t, first);
  const runners = eps.map((e) => e.runner);
  const rounds: SideRound[] = [];
  try {
    for (let r = 0; r < o.rounds; r++) {
      const slices = o.slices;
      const order = roundOrder(eps, r * slices);
      const hot: HotSample[] = [];
      for (const c of o.concurrencies) {
        const acc = new Map<Endpoint, { latencies: number[]; requests: number; total: number; durationMs: number; cpuUs: number; errors: number; firstError: string | null }>(
          eps.map((e) => [e, { latencies: [], requests: 0, total: 0, durationMs: 0, cpuUs: 0, errors: 0, firstError: null }]),
        );
        for (let sl = 0; sl < slices; sl++) {
          for (const e of roundOrder(eps, r * slices + sl)) {
            const job: ClosedJob = { kind: 'closed', origin: e.origin, path: '/v1/chat/completions', body: hotBody, concurrency: c, warmupMs: o.warmupMs, durationMs: o.phaseMs / slices, samples: true };
            const before = e.pid === undefined ? 0 : processCpuUs(e.pid);
            const res = await runInClient<ClosedResult>(job);
            const a = acc.get(e)!;
            if (e.pid !== undefined) a.cpuUs += processCpuUs(e.pid) - before;
            for (const ms of res.latencies ?? []) a.latencies.push(ms);
            a.requests += res.requests;
            a.total += res.totalRequests;
            a.durationMs += res.durationMs;
            a.errors += res.errors;
            a.firstError ??= res.firstError;
          }
        }
        for (const e of order) {
          const a = acc.get(e)!;
          const lat = summarize(a.latencies);
          const cpuUsPerReq = e.pid === undefined || a.total === 0 ? null : a.cpuUs / a.total;
          hot.push({ runner: e.runner, concurrency: c, p50Ms: lat.p50, p99Ms: lat.p99, reqPerSec: a.requests / (a.durationMs / 1000), cpuUsPerReq, errors: a.errors, firstError: a.firstError });
        }
        log(`  round ${r + 1} c${c}: ${hot.filter((h) => h.concurrency === c).map((h) => `${h.runner} p50 ${f(h.p50Ms, 2)} ms ${f(h.reqPerSec, 0)} req/s${h.cpuUsPerReq === null ? '' : ` ${f(h.cpuUsPerReq, 0)} µs CPU/req`}${h.errors > 0 ? `, ${h.errors} errors (${h.firstError})` : ''}`).join(' | ')}`);
      }
      const stream: StreamSample[] = [];
      if (o.streams > 0) {
        const job = (e: Endpoint, tokens = o.streamTokens): StreamJob => ({ kind: 'stream', origin: e.origin, path: '/v1/chat/completions', body: streamBody(tokens, t.kind, 'bench'), streams: 1, concurrency: 1, deadlineMs: 120_000, warmup: 0, warmupConcurrency: 1, idleHelpers: true });
        // One client process per runner for the round, so that no measured
        // stream pays for a fresh process's first request (bench/findings.md,
        // "What taking turns did to time to first byte"). A warm-up stream
        // each, on its own, so that the CPU read around the measured ones is theirs alone.
        const acc = new Map<Endpoint, { ttfb: number[]; perToken: number[]; cpuUs: number; events: number; errors: number }>(eps.map((e) => [e, { ttfb: [], perToken: [], cpuUs: 0, events: 0, errors: 0 }]));
        const clients = new Map(eps.map((e) => [e, startClientWorker()]));
        try {
          for (const e of order) await clients.get(e)!.run<StreamResult>(job(e));
          for (let i = 0; i < o.streams; i++) {
            for (const e of roundOrder(eps, r * o.streams + i)) {
              // Each runner sat idle through the others' turns: a one-token
              // stream first wakes its path, as each hot-path slice's warm-up does.
              await clients.get(e)!.run<StreamResult>(job(e, 1));
              const before = e.pid === undefined ? 0 : processCpuUs(e.pid);
              const res = await clients.get(e)!.run<StreamResult>(job(e));
              const a = acc.get(e)!;
              // A failed stream's events are not counted: nor is the CPU it took.
              if (e.pid !== undefined && res.errors === 0) a.cpuUs += processCpuUs(e.pid) - before;
              if (res.errors === 0) a.events += res.events;
              a.errors += res.errors;
              if (Number.isFinite(res.ttfbMs.p50)) a.ttfb.push(res.ttfbMs.p50);
              if (res.perTokenMs !== undefined && Number.isFinite(res.perTokenMs.p50)) a.perToken.push(res.perTokenMs.p50);
            }
          }
        } finally {
          await Promise.all([...clients.values()].map((c) => c.close()));
        }
        for (const e of order) {
          const a = acc.get(e)!;
          const cpuUsPerEvent = e.pid === undefined || a.events === 0 ? null : a.cpuUs / a.events;
          stream.push({ runner: e.runner, ttfbMs: summarize(a.ttfb).p50, perTokenMs: summarize(a.perToken).p50, cpuUsPerEvent, errors: a.errors });
        }
        log(`  round ${r + 1} streams: ${stream.map((s) => `${s.runner} TTFB ${f(s.ttfbMs, 2)} ms, ${f(s.perTokenMs, 3)} ms/token${s.cpuUsPerEvent == null ? '' : `, ${f(s.cpuUsPerEvent, 1)} µs CPU/event`}${s.errors > 0 ? `, ${s.errors} errors` : ''}`).join(' | ')}`);
      }
      rounds.push({ order: order.map((e) => e.runner), hot, stream });
    }
  } finally {
    for (const e of [...eps].reverse()) await e.stop().catch(() => undefined);
  }
  const swaps = await sideSwaps({ rounds: o.swapRounds, abSwaps: o.abSwaps }, log, t);
  return { slices: o.slices, cpuFrom: 'stat', runners, concurrencies: o.concurrencies, rounds, swaps, summary: summarizeSide(runners, o.concurrencies, rounds, swaps) };
}

/** A figure for the log: NaN and null (a summary of no samples, through JSON) as "n/a". */
const f = (x: number | null, digits: number): string => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));

const finiteMedian = (xs: readonly number[]): number | null => {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length === 0 ? null : round(median(ok));
};

/** Medians of per-round figures, per runner (pure: also reads saved results). */
export function summarizeSide(runners: readonly SideRunner[], concurrencies: readonly number[], rounds: readonly SideRound[], swaps: SwapSamples): RunnerSummary[] {
  return runners.map((runner) => {
    const perC = <T>(f: (c: number) => T): Record<string, T> => Object.fromEntries(concurrencies.map((c) => [String(c), f(c)]));
    const hotOf = (rd: SideRound, who: SideRunner, c: number): HotSample | undefined => rd.hot.find((h) => h.runner === who && h.concurrency === c);
    const paired = (c: number, f: (x: HotSample, d: HotSample) => number): number | null =>
      finiteMedian(rounds.flatMap((rd) => {
        const [x, d] = [hotOf(rd, runner, c), hotOf(rd, 'direct', c)];
        return x === undefined || d === undefined ? [] : [f(x, d)];
      }));
    const own = (c: number, f: (x: HotSample) => number | null): number | null => finiteMedian(rounds.flatMap((rd) => {
      const x = hotOf(rd, runner, c);
      const v = x === undefined ? null : f(x);
      return v === null ? [] : [v];
    }));
    const streamOf = (rd: SideRound, who: SideRunner): StreamSample | undefined => rd.stream.find((s) => s.runner === who);
    const streamPaired = (f: (s: StreamSample) => number): number | null => finiteMedian(rounds.flatMap((rd) => {
      const [x, d] = [streamOf(rd, runner), streamOf(rd, 'direct')];
      return x === undefined || d === undefined ? [] : [f(x) - f(d)];
    }));
    const sw = swaps.runs.filter((s) => s.runner === runner);
    return {
      runner,
      p50Ms: perC((c) => own(c, (x) => x.p50Ms) ?? Number.NaN),
      addedP50Ms: perC((c) => paired(c, (x, d) => x.p50Ms - d.p50Ms) ?? Number.NaN),
      reqPerSec: perC((c) => own(c, (x) => x.reqPerSec) ?? Number.NaN),
      ratioToDirect: perC((c) => paired(c, (x, d) => x.reqPerSec / d.reqPerSec) ?? Number.NaN),
      cpuUsPerReq: perC((c) => own(c, (x) => x.cpuUsPerReq)),
      ttfbMs: finiteMedian(rounds.flatMap((rd) => streamOf(rd, runner)?.ttfbMs ?? [])),
      addedTtfbMs: streamPaired((s) => s.ttfbMs),
      perTokenMs: finiteMedian(rounds.flatMap((rd) => streamOf(rd, runner)?.perTokenMs ?? [])),
      addedPerTokenMs: streamPaired((s) => s.perTokenMs),
      cpuUsPerEvent: finiteMedian(rounds.flatMap((rd) => streamOf(rd, runner)?.cpuUsPerEvent ?? [])),
      coldMs: finiteMedian(sw.map((s) => s.coldMs)),
      swapP50Ms: finiteMedian(sw.flatMap((s) => s.swapMs)),
      errors: rounds.reduce((n, rd) => n + rd.hot.filter((h) => h.runner === runner).reduce((a, h) => a + h.errors, 0) + (streamOf(rd, runner)?.errors ?? 0), 0) + sw.reduce((n, s) => n + s.failures, 0),
    };
  });
}
