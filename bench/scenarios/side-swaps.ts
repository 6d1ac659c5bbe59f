/**
 * Cold start and sequential A/B swaps, side by side: modelswap (fifo and
 * serial, one model resident at a time), llama.cpp's router
 * (`--models-max 1`) and the server itself (`direct`: spawn, poll /health
 * every millisecond, one request; a swap adds its own SIGTERM-to-exit).
 * Each round, every runner in rotated order: nothing loaded, a request for A
 * timed to its first byte (cold start), then `abSwaps` requests alternating
 * B, A, B… each timed to its first byte (every one a swap).
 */
import { freePortRange } from '../../test/helpers/ports.ts';
import { pollUntilHealthy, spawnDirect, startProxy, stopDirect, type Spawned } from '../lib/processes.ts';
import { startRouter } from '../lib/router.ts';
import { request } from 'undici';
import { ttfb, waitUntilNothingRuns } from './coldstart.ts';
import type { SideRunner, SideTarget } from './side-by-side.ts';

export interface SwapRun {
  readonly runner: SideRunner;
  readonly round: number;
  /** NaN when the request failed. */
  readonly coldMs: number;
  readonly swapMs: readonly number[];
  readonly failures: number;
  readonly firstFailure: string | null;
}

export interface SwapSamples {
  readonly abSwaps: number;
  readonly runs: readonly SwapRun[];
}

interface SwapRunner {
  readonly runner: SideRunner;
  /** Nothing loaded, then time requests for `models` in turn (the first is the cold start). */
  measure(models: readonly string[]): Promise<{ times: number[]; failures: number; firstFailure: string | null }>;
  stop(): Promise<void>;
}

async function timeEach(origin: string, models: readonly string[], t: SideTarget): Promise<{ times: number[]; failures: number; firstFailure: string | null }> {
  const times: number[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  for (const m of models) {
    try {
      times.push(await ttfb(origin, m, t.kind));
    } catch (err) {
      times.push(Number.NaN);
      failures += 1;
      firstFailure ??= err instanceof Error ? err.message : String(err);
    }
  }
  return { times, failures, firstFailure };
}

async function modelswapRunner(scheduler: 'fifo' | 'serial', t: SideTarget): Promise<SwapRunner> {
  const base = await freePortRange(3);
  const model = (name: string, port: number): string => `  ${name}:
    cmd: ${t.kind.argv(port, name, { tokens: 1 }).join(' ')}
    proxy: http://127.0.0.1:${port}`;
  const proxy = await startProxy(`healthCheckTimeout: 120
routing:
  scheduler:
    use: ${scheduler}
models:
${model('a', base + 1)}
${model('b', base + 2)}
`, base);
  return {
    runner: scheduler,
    async measure(models) {
      await request(`${proxy.origin}/unload`).then((x) => x.body.dump());
      await waitUntilNothingRuns(proxy.origin);
      return timeEach(proxy.origin, models, t);
    },
    stop: () => proxy.stop(),
  };
}

async function routerRunner(t: SideTarget & { router: NonNullable<SideTarget['router']> }): Promise<SwapRunner> {
  const router = await startRouter(t.router.bin, t.router.gguf, ['a', 'b'], 1);
  return {
    runner: 'router',
    async measure(models) {
      await router.unloadAll();
      return timeEach(router.origin, models, t);
    },
    stop: () => router.stop(),
  };
}

/** The server alone: what a proxy that added nothing would take. */
async function directRunner(t: SideTarget): Promise<SwapRunner> {
  const port = await freePortRange(1);
  const origin = `http://127.0.0.1:${port}`;
  let running: Spawned | undefined;
  const start = async (name: string): Promise<number> => {
    const s = spawnDirect(t.kind.argv(port, name, { tokens: 1 }));
    running = s;
    const ready = await pollUntilHealthy(`${origin}/health`, s.spawnedAt);
    return ready + (await ttfb(origin, name, t.kind));
  };
  return {
    runner: 'direct',
    async measure(models) {
      const times: number[] = [];
      for (const m of models) {
        const stopMs = running === undefined ? 0 : await stopDirect(running);
        running = undefined;
        times.push(stopMs + (await start(m)));
      }
      if (running !== undefined) await stopDirect(running);
      running = undefined;
      return { times, failures: 0, firstFailure: null };
    },
    async stop() {
      if (running !== undefined) await stopDirect(running);
    },
  };
}

export async function sideSwaps(o: { readonly rounds: number; readonly abSwaps: number }, log: (s: string) => void, t: SideTarget): Promise<SwapSamples> {
  const runners: SwapRunner[] = [];
  const runs: SwapRun[] = [];
  try {
    runners.push(await directRunner(t), await modelswapRunner('fifo', t), await modelswapRunner('serial', t));
    if (t.router !== undefined) runners.push(await routerRunner({ ...t, router: t.router }));
    const models = ['a', ...Array.from({ length: o.abSwaps }, (_, i) => (i % 2 === 0 ? 'b' : 'a'))];
    for (let r = 0; r < o.rounds; r++) {
      const k = r % runners.length;
      const rotated = [...runners.slice(k), ...runners.slice(0, k)];
      for (const x of r % 2 === 0 ? rotated : rotated.reverse()) {
        const m = await x.measure(models);
        runs.push({ runner: x.runner, round: r, coldMs: m.times[0]!, swapMs: m.times.slice(1), failures: m.failures, firstFailure: m.firstFailure });
      }
      log(`  swaps round ${r + 1}: ${runs.filter((x) => x.round === r).map((x) => `${x.runner} cold ${x.coldMs.toFixed(1)} ms, swaps ${x.swapMs.map((v) => v.toFixed(0)).join('/')} ms${x.failures > 0 ? `, ${x.failures} failed (${x.firstFailure})` : ''}`).join(' | ')}`);
    }
  } finally {
    for (const x of runners.reverse()) await x.stop().catch(() => undefined);
  }
  return { abSwaps: o.abSwaps, runs };
}
