/**
 * Scenario 5, scale: 1,000 SSE streams open at once through one modelswap,
 * against the same 1,000 straight to the upstream. The proxy's RSS is sampled
 * every 100 ms while its streams run; the peak is what the target reads.
 */
import type { StreamJob, StreamResult } from '../lib/client.ts';
import { readProc, runInClient } from '../lib/processes.ts';
import { round } from '../lib/stats.ts';
import { startStreamingProxy, streamBody, summarizePairs, type StreamRow } from './streaming.ts';

export interface ScaleOptions {
  readonly streams: number;
  readonly tokens: number;
  readonly tokenMs: number;
}

export interface ScaleResult {
  readonly streams: number;
  readonly row: StreamRow;
  readonly maxOpen: number;
  readonly rssMb: { readonly idle: number; readonly peakDuring: number; readonly after: number };
  readonly raw: { readonly direct: StreamResult; readonly proxy: StreamResult };
}

export async function scale(o: ScaleOptions, log: (s: string) => void): Promise<ScaleResult> {
  const { proxy, direct } = await startStreamingProxy(o.tokens, o.tokenMs);
  try {
    const job = (origin: string): StreamJob => ({
      kind: 'stream', origin, path: '/v1/chat/completions', body: streamBody(o.tokens), streams: o.streams, concurrency: o.streams, deadlineMs: 120_000 + o.tokens * o.tokenMs * 4, warmup: 1, warmupConcurrency: 1, idleHelpers: false,
    });
    const directRes = await runInClient<StreamResult>(job(direct));
    log(`  direct: ${directRes.streams} streams, ${directRes.errors} errors, at most ${directRes.maxOpen} open, delay p50 ${directRes.delayMs.p50.toFixed(3)} ms`);
    const idle = readProc(proxy.pid).rssMb;
    let peak = idle;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, readProc(proxy.pid).rssMb);
      } catch {
        // the proxy is gone; the run fails below
      }
    }, 100);
    let proxyRes: StreamResult;
    try {
      proxyRes = await runInClient<StreamResult>(job(proxy.origin));
    } finally {
      clearInterval(sampler);
    }
    const after = readProc(proxy.pid).rssMb;
    log(`  proxy: ${proxyRes.streams} streams, ${proxyRes.errors} errors${proxyRes.firstError === null ? '' : ` (${proxyRes.firstError})`}, at most ${proxyRes.maxOpen} open, delay p50 ${proxyRes.delayMs.p50.toFixed(3)} ms, RSS ${idle.toFixed(1)} → peak ${peak.toFixed(1)} MB`);
    return {
      streams: o.streams,
      row: summarizePairs(o.streams, [{ direct: directRes, proxy: proxyRes }]),
      maxOpen: proxyRes.maxOpen,
      rssMb: { idle: round(idle, 1), peakDuring: round(peak, 1), after: round(after, 1) },
      raw: { direct: directRes, proxy: proxyRes },
    };
  } finally {
    await proxy.stop();
  }
}
