/**
 * Which request caused a swap, read from the event feed alone: a load that a
 * request asked for (not a preload) is credited to the first request of its
 * model granted after it became ready, or, when it failed, to the first
 * request of its model that failed with it. Waiters are granted in arrival
 * order, so that is the request that started the load, or the oldest one
 * still waiting for it when the first left. A cancelled load (nobody waits)
 * is credited to no one.
 */
import type { FeedEvent } from '../router/feed.ts';

export interface SwapMark {
  /** The models the load stopped to make room. */
  readonly evicted: readonly string[];
  /** Start to healthy (or to the failure). */
  readonly loadMs: number | undefined;
}

interface OpenLoad {
  readonly evicted: readonly string[];
  outcome: 'loading' | 'ready' | 'failed';
  loadMs: number | undefined;
}

export class SwapMarks {
  /** Model → its load not yet credited to a request. */
  readonly #loads = new Map<string, OpenLoad>();
  /** Request id → the load credited to it (until the request's done event). */
  readonly #granted = new Map<number, SwapMark>();

  /** Follow one feed event; on a request's `done`, returns the load it caused, if any. */
  observe(ev: FeedEvent): SwapMark | undefined {
    switch (ev.type) {
      case 'load':
        if (ev.phase === 'started') {
          if (ev.reason === 'request') this.#loads.set(ev.model, { evicted: ev.evicting, outcome: 'loading', loadMs: undefined });
          else this.#loads.delete(ev.model);
        } else if (ev.phase === 'cancelled') {
          this.#loads.delete(ev.model);
        } else if (ev.phase !== 'progress') {
          const load = this.#loads.get(ev.model);
          if (load !== undefined) {
            load.outcome = ev.phase;
            load.loadMs = ev.loadMs;
          }
        }
        return undefined;
      case 'request': {
        const load = this.#loads.get(ev.model);
        if (ev.phase === 'granted') {
          if (load?.outcome === 'ready') {
            this.#loads.delete(ev.model);
            this.#granted.set(ev.id, { evicted: load.evicted, loadMs: load.loadMs });
          }
          return undefined;
        }
        const mark = this.#granted.get(ev.id);
        if (mark !== undefined) {
          this.#granted.delete(ev.id);
          return mark;
        }
        if (load?.outcome === 'failed' && ev.errorCode !== undefined) {
          this.#loads.delete(ev.model);
          return { evicted: load.evicted, loadMs: load.loadMs };
        }
        return undefined;
      }
      case 'model':
      case 'queue':
        return undefined;
      default: {
        const never: never = ev;
        return never;
      }
    }
  }
}
