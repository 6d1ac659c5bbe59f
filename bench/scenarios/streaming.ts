/**
 * Scenario 2, streaming: SSE chat completions of 500 token events from a fake
 * llama-server that stamps each event with its send time (--stamp-chunks),
 * directly and through modelswap, in alternating order. One stream at a time
 * (the target row) and 32 at once. Scenario 5 (scale) reuses this with 1,000
 * streams open at once and reads the proxy's memory while they run.
 *
 * Each measurement starts after a warm-up of many concurrent streams (JIT
 * compilation of the hot paths runs on V8 helper threads during the first
 * ~10,000 events), and with `quiet` the two instruments (fake upstream, load
 * generator) keep their own V8 helper threads off the CPUs the others need
 * (src/helper-threads.ts). The proxy runs as users run it.
 */
import type { StreamJob, StreamResult } from '../lib/client.ts';
import { runInClient, startLoadedProxy, type Proxy } from '../lib/processes.ts';
import { fake, type UpstreamKind } from '../lib/upstreams.ts';
import { median, round } from '../lib/stats.ts';

export interface StreamingOptions {
  readonly rounds: number;
  readonly tokens: number;
  readonly tokenMs: number;
  /** Sequential streams per round at concurrency 1. */
  readonly c1Streams: number;
  /** Streams open at once in the concurrent phase (0 skips it). */
  readonly concurrent: number;
  /** Warm-up streams before every measurement, and how many of them open at once. */
  readonly warmup: number;
  readonly warmupConcurrency: number;
  /** Instruments' V8 helper threads under SCHED_IDLE. */
  readonly quiet: boolean;
}

export interface StreamRow {
  readonly concurrency: number;
  readonly directTtfbMs: number;
  readonly proxyTtfbMs: number;
  readonly addedTtfbMs: number;
  readonly directDelayP50Ms: number;
  readonly proxyDelayP50Ms: number;
  readonly addedDelayP50Ms: number;
  readonly directDelayP99Ms: number;
  readonly proxyDelayP99Ms: number;
  readonly addedDelayP99Ms: number;
  /** Socket reads that held more than one event, summed over rounds (client.ts). */
  readonly directMultiEventReads: number;
  readonly proxyMultiEventReads: number;
  /** Of those, reads holding events written ≥ 1 ms apart: coalescing (client.ts). */
  readonly directCoalescedReads: number;
  readonly proxyCoalescedReads: number;
  readonly reads: number;
  readonly events: number;
  readonly errors: number;
}

export interface StreamingResult {
  readonly tokens: number;
  readonly tokenMs: number;
  /** Absent in results saved before they were recorded. */
  readonly warmup?: number;
  readonly warmupConcurrency?: number;
  readonly quiet?: boolean;
  readonly rows: readonly StreamRow[];
  readonly raw: readonly { readonly concurrency: number; readonly direct: StreamResult; readonly proxy: StreamResult }[];
}

export function streamBody(tokens: number, kind: UpstreamKind = fake, model = 'stream'): string {
  return JSON.stringify({ model, stream: true, max_tokens: tokens, messages: [{ role: 'user', content: 'Tell me a long story.' }], ...kind.bodyExtra });
}

/** A proxy with one streaming model on a known upstream port, loaded. */
export function startStreamingProxy(tokens: number, tokenMs: number, kind: UpstreamKind = fake, idleHelpers = false): Promise<{ proxy: Proxy; direct: string }> {
  const hi = { model: 'stream', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }], ...kind.bodyExtra };
  return startLoadedProxy('stream', (port) => kind.argv(port, 'stream', { tokens, tokenMs, stamp: true, idleHelpers }), hi);
}

const diff = (a: number | null, b: number | null): number => (a === null || b === null ? Number.NaN : a - b);

export function summarizePairs(concurrency: number, pairs: readonly { direct: StreamResult; proxy: StreamResult }[]): StreamRow {
  // A summary of no samples (no stamps: a real server) arrives through JSON as nulls: keep it NaN.
  const m = (f: (p: { direct: StreamResult; proxy: StreamResult }) => number | null): number => round(median(pairs.map((p) => f(p) ?? Number.NaN)));
  return {
    concurrency,
    directTtfbMs: m((p) => p.direct.ttfbMs.p50),
    proxyTtfbMs: m((p) => p.proxy.ttfbMs.p50),
    addedTtfbMs: m((p) => p.proxy.ttfbMs.p50 - p.direct.ttfbMs.p50),
    directDelayP50Ms: m((p) => p.direct.delayMs.p50),
    proxyDelayP50Ms: m((p) => p.proxy.delayMs.p50),
    addedDelayP50Ms: m((p) => diff(p.proxy.delayMs.p50, p.direct.delayMs.p50)),
    directDelayP99Ms: m((p) => p.direct.delayMs.p99),
    proxyDelayP99Ms: m((p) => p.proxy.delayMs.p99),
    addedDelayP99Ms: m((p) => diff(p.proxy.delayMs.p99, p.direct.delayMs.p99)),
    directMultiEventReads: pairs.reduce((n, p) => n + p.direct.multiEventReads, 0),
    proxyMultiEventReads: pairs.reduce((n, p) => n + p.proxy.multiEventReads, 0),
    directCoalescedReads: pairs.reduce((n, p) => n + p.direct.coalescedReads, 0),
    proxyCoalescedReads: pairs.reduce((n, p) => n + p.proxy.coalescedReads, 0),
    reads: pairs.reduce((n, p) => n + p.proxy.reads, 0),
    events: pairs.reduce((n, p) => n + p.proxy.events, 0),
    errors: pairs.reduce((n, p) => n + p.direct.errors + p.proxy.errors, 0),
  };
}

/** NaN (no stamped events) travels through JSON as null. */
const ms = (x: number | null): string => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(3));

export async function streaming(o: StreamingOptions, log: (s: string) => void, kind: UpstreamKind = fake): Promise<StreamingResult> {
  const { proxy, direct } = await startStreamingProxy(o.tokens, o.tokenMs, kind, o.quiet);
  const body = streamBody(o.tokens, kind);
  const deadlineMs = 60_000 + o.tokens * o.tokenMs * 4;
  const raw: { concurrency: number; direct: StreamResult; proxy: StreamResult }[] = [];
  try {
    const phases = [{ c: 1, streams: o.c1Streams }, ...(o.concurrent > 0 ? [{ c: o.concurrent, streams: o.concurrent }] : [])];
    for (let r = 0; r < o.rounds; r++) {
      for (const { c, streams } of phases) {
        const job = (origin: string): StreamJob => ({ kind: 'stream', origin, path: '/v1/chat/completions', body, streams, concurrency: c, deadlineMs, warmup: o.warmup, warmupConcurrency: o.warmupConcurrency, idleHelpers: o.quiet });
        const order = r % 2 === 0 ? [direct, proxy.origin] : [proxy.origin, direct];
        const out = new Map<string, StreamResult>();
        for (const origin of order) out.set(origin, await runInClient<StreamResult>(job(origin)));
        const pair = { concurrency: c, direct: out.get(direct)!, proxy: out.get(proxy.origin)! };
        raw.push(pair);
        log(`  round ${r + 1} c${c}: TTFB p50 direct ${ms(pair.direct.ttfbMs.p50)} proxy ${ms(pair.proxy.ttfbMs.p50)} ms; delay p50 direct ${ms(pair.direct.delayMs.p50)} proxy ${ms(pair.proxy.delayMs.p50)} ms; coalesced reads direct ${pair.direct.coalescedReads} proxy ${pair.proxy.coalescedReads} (of ${pair.proxy.reads}); errors ${pair.direct.errors + pair.proxy.errors}`);
      }
    }
    const rows = [...new Set(raw.map((p) => p.concurrency))].map((c) => summarizePairs(c, raw.filter((p) => p.concurrency === c)));
    return { tokens: o.tokens, tokenMs: o.tokenMs, warmup: o.warmup, warmupConcurrency: o.warmupConcurrency, quiet: o.quiet, rows, raw };
  } finally {
    await proxy.stop();
  }
}
