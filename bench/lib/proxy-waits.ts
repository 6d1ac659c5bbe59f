/**
 * What a modelswap run's own event feed recorded (GET /api/events/recent,
 * read before the proxy stops), and the batch scheduler's wait bound checked
 * against it. Pure functions but `fetchProxyWaits`.
 *
 * The bound (src/scheduler/batch.ts), for a request r of model m:
 *
 *   wait(r) ≤ maxWait(m) + T + (S + L + D) + (k + 1)·(S + L) + k·D
 *
 * read off the run: wait = the proxy's arrival → grant (not the client's send
 * → first byte, which adds the network and, for an answer that is not
 * streamed, the whole service); S, L and D the longest stop of evicted
 * models, load and service (grant → end) of the run; T the router's tick
 * period; maxWait(m) at most twice the larger of the default load cost (what
 * the scheduler assumes before m's first load) and m's longest load (it uses
 * the median of m's recent loads after); k the number of other models with a
 * request waiting at some moment while r waited. That k is never below the
 * bound's own (other models with a request still waiting at r's deadline
 * whose deadline came first): r waits past its deadline whenever the bound
 * is more than maxWait, so such a request overlaps r's wait.
 */
import { request } from 'undici';
import type { FeedEvent } from '../../src/router/feed.ts';
import { SCHEDULER_TICK_MS } from '../../src/router/ticks.ts';
import { DEFAULT_LOAD_COST_MS, LOADS_WORTH_WAITING } from '../../src/scheduler/batch.ts';

export interface ProxyWaits {
  /** Requests granted. */
  readonly granted: number;
  /** Longest arrival → grant at the proxy, ms. */
  readonly waitMaxMs: number;
  /** Longest load, stop of the models a load evicted, and service (grant → end) of the run, ms. */
  readonly loadMaxMs: number;
  readonly stopMaxMs: number;
  readonly serviceMaxMs: number;
  /** The batch scheduler's bound, checked per request (batch runs only). */
  readonly bound?: BoundCheck;
}

export interface BoundCheck {
  /** Requests that waited longer than their bound. */
  readonly over: number;
  /** The request closest to its bound (largest wait ÷ bound). */
  readonly tightest: { readonly model: string; readonly waitMs: number; readonly boundMs: number };
}

interface Granted {
  readonly model: string;
  readonly arrivedAt: number;
  readonly grantedAt: number;
}

/** The feed's events of one run, read into waits and the longest load, stop and service. `bound`: check batch's bound. */
export function proxyWaits(events: readonly FeedEvent[], opts: { bound: boolean; maxWaitMs?: number; tickMs?: number }): ProxyWaits {
  const granted = new Map<number, Granted>();
  const serviceMs: number[] = [0];
  const loadMs: number[] = [0];
  const stopMs: number[] = [0];
  for (const ev of events) {
    // A done event says it all (the recent past keeps no grants): arrival = end − duration, grant = arrival + wait.
    // One that ended before its grant (refused, failed, or its client left) waited its whole duration, with an error.
    if (ev.type === 'request' && ev.phase === 'done') {
      if (ev.error !== undefined && ev.durationMs === ev.waitedMs) continue;
      const arrivedAt = ev.at - ev.durationMs;
      granted.set(ev.id, { model: ev.model, arrivedAt, grantedAt: arrivedAt + ev.waitedMs });
      serviceMs.push(ev.durationMs - ev.waitedMs);
    } else if (ev.type === 'load' && ev.phase === 'ready') {
      loadMs.push(ev.loadMs ?? 0);
      stopMs.push(ev.stopMs ?? 0);
    }
  }
  const reqs = [...granted.values()];
  const waits = reqs.map((r) => r.grantedAt - r.arrivedAt);
  const out = {
    granted: reqs.length,
    waitMaxMs: Math.max(0, ...waits),
    loadMaxMs: Math.max(...loadMs),
    stopMaxMs: Math.max(...stopMs),
    serviceMaxMs: Math.max(...serviceMs),
  };
  if (!opts.bound || reqs.length === 0) return out;
  // A model's default maxWait is twice its load cost: its own loads, or (before its first) the median of the
  // others'; twice the longest load of any model (or 1 s) is never less.
  const maxWait = opts.maxWaitMs ?? LOADS_WORTH_WAITING * Math.max(DEFAULT_LOAD_COST_MS, out.loadMaxMs);
  const [S, L, D, T] = [out.stopMaxMs, out.loadMaxMs, out.serviceMaxMs, opts.tickMs ?? SCHEDULER_TICK_MS];
  let over = 0;
  let tightest: BoundCheck['tightest'] | undefined;
  for (const r of reqs) {
    const others = new Set(reqs.filter((q) => q.model !== r.model && q.arrivedAt < r.grantedAt && q.grantedAt > r.arrivedAt).map((q) => q.model));
    const k = others.size;
    const boundMs = maxWait + T + (S + L + D) + (k + 1) * (S + L) + k * D;
    const waitMs = r.grantedAt - r.arrivedAt;
    if (waitMs > boundMs) over += 1;
    if (tightest === undefined || waitMs / boundMs > tightest.waitMs / tightest.boundMs) tightest = { model: r.model, waitMs, boundMs };
  }
  return { ...out, bound: { over, tightest: tightest! } };
}

/** The proxy's recent feed; undefined if it cannot be read (the run's waits are then not checked). */
export async function fetchProxyWaits(origin: string, bound: boolean): Promise<ProxyWaits | undefined> {
  try {
    const r = await request(`${origin}/api/events/recent`);
    if (r.statusCode !== 200) {
      await r.body.dump();
      return undefined;
    }
    const body = (await r.body.json()) as { events: FeedEvent[] };
    return proxyWaits(body.events, { bound });
  } catch {
    return undefined;
  }
}
