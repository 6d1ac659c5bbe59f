/**
 * Scenario 3, cold start and swap. Each round:
 *  1. the upstream's own readiness: spawn the same fake llama-server command
 *     directly, poll /health every millisecond until 200 (spawn-to-healthy),
 *     then SIGTERM it and time its exit (its own stop time);
 *  2. cold start: nothing loaded, a request for A through modelswap, timed
 *     to its first byte;
 *  3. swap: A loaded, a request for B (B evicts A), timed to its first byte.
 * Overhead = proxy time − (what the upstream itself needs: stop + spawn to
 * healthy + one warm request, measured directly in the same round).
 */
import { request } from 'undici';
import { freePortRange } from '../../test/helpers/ports.ts';
import { getJson, pollUntilHealthy, spawnDirect, startProxy, stopDirect } from '../lib/processes.ts';
import { fake, type UpstreamKind } from '../lib/upstreams.ts';
import { median, round } from '../lib/stats.ts';

export interface ColdStartOptions {
  readonly rounds: number;
  /** The fake's --load-ms: how long it answers 503 before /health is 200. */
  readonly loadMs: number;
}

export interface ColdRound {
  readonly ownReadyMs: number;
  readonly ownStopMs: number;
  readonly warmMs: number;
  readonly coldTtfbMs: number;
  readonly swapTtfbMs: number;
  readonly coldOverheadMs: number;
  readonly swapOverheadMs: number;
}

export interface ColdStartResult {
  readonly loadMs: number;
  readonly upstream: UpstreamKind['name'];
  readonly rounds: readonly ColdRound[];
  readonly summary: {
    readonly ownReadyMs: number;
    readonly ownStopMs: number;
    readonly coldTtfbMs: number;
    readonly swapTtfbMs: number;
    readonly coldOverheadP50Ms: number;
    readonly swapOverheadP50Ms: number;
    readonly coldOverheadMaxMs: number;
    readonly swapOverheadMaxMs: number;
  };
}

const body = (model: string, extra: Readonly<Record<string, unknown>>): string => JSON.stringify({ model, max_tokens: 1, messages: [{ role: 'user', content: 'hi' }], ...extra });

/** POST and time to the first body byte; throws on a non-200. */
export async function ttfb(origin: string, model: string, kind: UpstreamKind): Promise<number> {
  const t0 = performance.now();
  const res = await request(`${origin}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(model, kind.bodyExtra) });
  let first = -1;
  for await (const _chunk of res.body) if (first < 0) first = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`${model}: HTTP ${res.statusCode}`);
  return first;
}

/** After /unload: poll /running until no model runs (5 s at most). */
export async function waitUntilNothingRuns(origin: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const r = (await getJson(origin, '/running')) as { running: unknown[] };
    if (r.running.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('models still running 5 s after /unload');
}

export async function coldStart(o: ColdStartOptions, log: (s: string) => void, kind: UpstreamKind = fake): Promise<ColdStartResult> {
  const base = await freePortRange(4);
  const [own, portA, portB] = [base + 1, base + 2, base + 3];
  const shape = { loadMs: o.loadMs, tokens: 1 };
  const yaml = `healthCheckTimeout: 120
models:
  a:
    cmd: ${kind.argv(portA, 'a', shape).join(' ')}
    proxy: http://127.0.0.1:${portA}
  b:
    cmd: ${kind.argv(portB, 'b', shape).join(' ')}
    proxy: http://127.0.0.1:${portB}
`;
  const proxy = await startProxy(yaml, base);
  const rounds: ColdRound[] = [];
  try {
    for (let r = 0; r < o.rounds; r++) {
      const direct = spawnDirect(kind.argv(own, 'own', shape));
      const ownReadyMs = await pollUntilHealthy(`http://127.0.0.1:${own}/health`, direct.spawnedAt);
      const ownStopMs = await stopDirect(direct);

      await request(`${proxy.origin}/unload`).then((x) => x.body.dump());
      await waitUntilNothingRuns(proxy.origin);
      const coldTtfbMs = await ttfb(proxy.origin, 'a', kind);
      const warmMs = await ttfb(`http://127.0.0.1:${portA}`, 'a', kind);
      const swapTtfbMs = await ttfb(proxy.origin, 'b', kind);
      const row: ColdRound = {
        ownReadyMs, ownStopMs, warmMs, coldTtfbMs, swapTtfbMs,
        coldOverheadMs: coldTtfbMs - ownReadyMs - warmMs,
        swapOverheadMs: swapTtfbMs - ownStopMs - ownReadyMs - warmMs,
      };
      rounds.push(row);
      log(`  round ${r + 1}: own ready ${ownReadyMs.toFixed(1)} ms, own stop ${ownStopMs.toFixed(1)} ms | cold ${coldTtfbMs.toFixed(1)} ms (+${row.coldOverheadMs.toFixed(1)}) | swap ${swapTtfbMs.toFixed(1)} ms (+${row.swapOverheadMs.toFixed(1)})`);
    }
  } finally {
    await proxy.stop();
  }
  const m = (f: (x: ColdRound) => number): number => round(median(rounds.map(f)), 1);
  return {
    loadMs: o.loadMs,
    upstream: kind.name,
    rounds,
    summary: {
      ownReadyMs: m((x) => x.ownReadyMs),
      ownStopMs: m((x) => x.ownStopMs),
      coldTtfbMs: m((x) => x.coldTtfbMs),
      swapTtfbMs: m((x) => x.swapTtfbMs),
      coldOverheadP50Ms: m((x) => x.coldOverheadMs),
      swapOverheadP50Ms: m((x) => x.swapOverheadMs),
      coldOverheadMaxMs: round(Math.max(...rounds.map((x) => x.coldOverheadMs)), 1),
      swapOverheadMaxMs: round(Math.max(...rounds.map((x) => x.swapOverheadMs)), 1),
    },
  };
}
