/**
 * A Router over FakeUpstreams and the real schedulers (src/scheduler/create.ts),
 * built from YAML like the CLI's. Models `a`, `b`, `c` (ports 5800–5802, `a`
 * with an explicit 127.0.0.1 proxy). With `groups`, a and b form a swap group
 * and c sits in a non-exclusive group of its own (fifo loads it beside them);
 * without, every model is in `(default)` and one runs at a time.
 */
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import type { Lease, RunningInfo } from '../../src/router/router.ts';
import { Router } from '../../src/router/router.ts';
import { createScheduler } from '../../src/scheduler/create.ts';
import { FakeUpstream } from './fake-upstream.ts';

export type SchedulerName = 'serial' | 'fifo' | 'batch';
export const SCHEDULERS: readonly SchedulerName[] = ['serial', 'fifo', 'batch'];

export interface ConfigOptions {
  /** ttl of model `a`, seconds (default 0: never). */
  readonly ttlSeconds?: number;
  /** a+b in a swap group, c alone in a non-exclusive group. */
  readonly groups?: boolean;
}

export function makeConfig(use: SchedulerName, opts: ConfigOptions = {}): Config {
  const groups = opts.groups !== true ? '' : `
  router:
    use: group
    settings:
      groups:
        pair: { members: [a, b], swap: true, exclusive: false }
        side: { members: [c], swap: false, exclusive: false }`;
  return parseConfig(`
startPort: 5800
models:
  a: { cmd: "fake --port \${PORT}", proxy: "http://127.0.0.1:\${PORT}", ttl: ${opts.ttlSeconds ?? 0} }
  b: { cmd: "fake --port \${PORT}" }
  c: { cmd: "fake --port \${PORT}" }
routing:${groups}
  scheduler:
    use: ${use}
`, { env: {} });
}

export class RouterHarness {
  readonly config: Config;
  /** Every fake's transitions, in order: "a:start", "a:ready", "b:stop(evicted)", … */
  readonly journal: string[] = [];
  readonly fakes = new Map<string, FakeUpstream>();
  readonly router: Router;
  /** The router's log lines at warn and above (JSON). */
  readonly logLines: string[] = [];

  constructor(use: SchedulerName, opts: ConfigOptions = {}) {
    const config = makeConfig(use, opts);
    this.config = config;
    for (const id of config.models.keys()) this.fakes.set(id, new FakeUpstream(id, this.journal));
    this.router = new Router({
      config,
      logger: pino({ level: 'warn' }, { write: (line: string) => this.logLines.push(line) }),
      createUpstream: (m, onStatus) => {
        const f = this.fake(m.id);
        f.onStatus = onStatus;
        return f;
      },
      createScheduler: (effects, current) =>
        createScheduler(current, {
          effects,
          isKnown: (m) => current.models.has(m),
          concurrencyLimit: (m) => current.models.get(m)?.concurrencyLimit ?? 10,
        }),
    });
  }

  fake(model: string): FakeUpstream {
    const f = this.fakes.get(model);
    if (f === undefined) throw new Error(`no fake for ${model}`);
    return f;
  }

  /**
   * Acquire `model` and drive its load (if one starts) to ready. Resolves with
   * the lease; the fake's previous stops must finish on their own (holdStops off).
   */
  async lease(model: string, signal?: AbortSignal): Promise<Lease> {
    const f = this.fake(model);
    const starts = f.startCalls;
    const p = this.router.acquire(model, signal);
    const loaded = f.until(() => f.startCalls > starts && f.status() === 'starting');
    const granted = await Promise.race([p.then(() => true), loaded.then(() => false)]);
    if (!granted) f.resolveStart();
    return p;
  }

  /**
   * Messages of run-loop handler failures (the router logs a throwing handler
   * as a bug and goes on; e.g. a double serveDone trips the scheduler's
   * reservation assert). Tests assert this is empty.
   */
  bugs(): string[] {
    return this.logLines
      .map((l) => JSON.parse(l) as { msg?: string; err?: { message?: string } })
      .filter((l) => l.msg === 'run loop handler failed (bug)')
      .map((l) => l.err?.message ?? '?');
  }

  /** The /running entry of `model`, if listed. */
  running(model: string): RunningInfo | undefined {
    return this.router.running().find((r) => r.model === model);
  }

  /** In-flight and queued counts of `model` as /running reports them (0/0 when not listed). */
  load(model: string): { inFlight: number; queued: number } {
    const r = this.running(model);
    return { inFlight: r?.inFlight ?? 0, queued: r?.queued ?? 0 };
  }
}

/**
 * Let every promise chain that can already run, run (one macrotask turn).
 * Not a sleep: no time passes on any clock the router reads. Used before
 * asserting that something did NOT happen.
 */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Observe whether `p` has settled, without consuming its rejection. */
export function track(p: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  void p.then(() => (state.settled = true), () => (state.settled = true));
  return state;
}

/** The ProxyError code `p` rejects with (fails if it resolves). */
export async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? `not a coded error: ${String(err)}`;
  }
  throw new Error('expected a rejection');
}
