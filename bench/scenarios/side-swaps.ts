/**
 * Cold start and sequential A/B swaps, side by side: modelswap (fifo and
 * serial, one model resident at a time), llama.cpp's router
 * (`--models-max 1`) and the server itself (`direct`: spawn, poll /health
 * every millisecond, one request; a swap adds its own SIGTERM-to-exit).
 * Each round: nothing loaded in any runner, then step by step a request for
 * A timed to its first byte (cold start), then `abSwaps` requests
 * alternating B, A, B… each timed to its first byte (every one a swap). Each
 * step goes through every runner before the next step begins, in an order
 * rotated from step to step (and reversed every other one): consecutive
 * measurements of two runners are a few hundred ms apart, so that a shift of
 * the shared host's speed (it changes from one period of seconds to the next,
 * bench/findings.md) falls on every runner alike instead of on whichever
 * ran its whole sequence then.
 */
import { freePortRange } from '../../test/helpers/ports.ts';
import { pollUntilHealthy, spawnDirect, startProxy, stopDirect, type Spawned } from '../lib/processes.ts';
import { startRouter } from '../lib/router.ts';
import { request } from 'undici';
import { ttfb, waitUntilNothingRuns } from './coldstart.ts';
import { roundOrder, type SideRunner, type SideTarget } from './side-by-side.ts';

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
  /** Each step's model and the runners in the order they took it (absent in results saved before 2026-12-05 07:00). */
  readonly steps?: readonly { readonly round: number; readonly model: string; readonly order: readonly SideRunner[] }[];
}

interface SwapRunner {
  readonly runner: SideRunner;
  /** Unload everything: the next step is a cold start. */
  reset(): Promise<void>;
  /** Time one request for `model` to its first byte (a swap when another model is loaded); rejects when it failed. */
  step(model: string): Promise<number>;
  /** The round is over (direct stops the server it started). */
  endRound(): Promise<void>;
  stop(): Promise<void>;
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
`, base, t.cli === undefined ? {} : { cli: t.cli });
  return {
    runner: scheduler,
    async reset() {
      await request(`${proxy.origin}/unload`).then((x) => x.body.dump());
      await waitUntilNothingRuns(proxy.origin);
    },
    step: (m) => ttfb(proxy.origin, m, t.kind),
    endRound: async () => {},
    stop: () => proxy.stop(),
  };
}

async function routerRunner(t: SideTarget & { router: NonNullable<SideTarget['router']> }): Promise<SwapRunner> {
  const router = await startRouter(t.router.bin, t.router.gguf, ['a', 'b'], 1);
  return {
    runner: 'router',
    reset: () => router.unloadAll(),
    step: (m) => ttfb(router.origin, m, t.kind),
    endRound: async () => {},
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
  const stopRunning = async (): Promise<number> => {
    const s = running;
    running = undefined;
    return s === undefined ? 0 : stopDirect(s);
  };
  return {
    runner: 'direct',
    reset: async () => void (await stopRunning()),
    step: async (m) => (await stopRunning()) + (await start(m)),
    endRound: async () => void (await stopRunning()),
    stop: async () => void (await stopRunning()),
  };
}

export async function sideSwaps(o: { readonly rounds: number; readonly abSwaps: number }, log: (s: string) => void, t: SideTarget): Promise<SwapSamples> {
  const runners: SwapRunner[] = [];
  const runs: SwapRun[] = [];
  const steps: { round: number; model: string; order: SideRunner[] }[] = [];
  try {
    runners.push(await directRunner(t), await modelswapRunner('fifo', t), await modelswapRunner('serial', t));
    if (t.router !== undefined) runners.push(await routerRunner({ ...t, router: t.router }));
    const models = ['a', ...Array.from({ length: o.abSwaps }, (_, i) => (i % 2 === 0 ? 'b' : 'a'))];
    for (let r = 0; r < o.rounds; r++) {
      for (const x of runners) await x.reset();
      const times = new Map<SwapRunner, number[]>(runners.map((x) => [x, []]));
      const failed = new Map<SwapRunner, string[]>(runners.map((x) => [x, []]));
      for (const [i, model] of models.entries()) {
        const taken: SideRunner[] = [];
        steps.push({ round: r, model, order: taken });
        for (const x of roundOrder(runners, r * models.length + i)) {
          taken.push(x.runner);
          try {
            times.get(x)!.push(await x.step(model));
          } catch (err) {
            times.get(x)!.push(Number.NaN);
            failed.get(x)!.push(err instanceof Error ? err.message : String(err));
          }
        }
      }
      for (const x of runners) {
        await x.endRound();
        const [ms, why] = [times.get(x)!, failed.get(x)!];
        runs.push({ runner: x.runner, round: r, coldMs: ms[0]!, swapMs: ms.slice(1), failures: why.length, firstFailure: why[0] ?? null });
      }
      log(`  swaps round ${r + 1}: ${runs.filter((x) => x.round === r).map((x) => `${x.runner} cold ${x.coldMs.toFixed(1)} ms, swaps ${x.swapMs.map((v) => v.toFixed(0)).join('/')} ms${x.failures > 0 ? `, ${x.failures} failed (${x.firstFailure})` : ''}`).join(' | ')}`);
    }
  } finally {
    for (const x of runners.reverse()) await x.stop().catch(() => undefined);
  }
  return { abSwaps: o.abSwaps, runs, steps };
}
