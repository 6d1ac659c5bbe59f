/**
 * What `modelswap top` shows, rebuilt from `/api/events`: a `snapshot`
 * replaces everything, then `model`, `queue`, `load` and `request` events
 * update one model each. A `dropped` marker needs nothing: the fresh
 * snapshot that follows it resyncs. Pure state: no I/O, no clock of its own
 * (callers pass the local time an event arrived, so the server's clock never
 * has to agree with ours).
 */
import { assertNever } from '../errors.ts';
import type { FeedEvent, ModelSnapshot } from '../router/feed.ts';

export interface LoadView {
  readonly elapsedMs: number;
  readonly estimateMs: number | undefined;
  readonly evicting: readonly string[];
  /** Local time the elapsed time was reported at. */
  readonly seenAt: number;
}

export interface ModelView {
  readonly model: string;
  state: string;
  pid: number | undefined;
  inFlight: number;
  waiting: number;
  /** While it loads. */
  load: LoadView | undefined;
  /** How the last load ended: `loaded in 1.2s`, `failed after 3.0s: …`. */
  lastLoad: string | undefined;
}

const ms = (n: number): string => (n < 1000 ? `${Math.round(n)}ms` : `${(n / 1000).toFixed(1)}s`);

export class TopState {
  readonly models = new Map<string, ModelView>();
  /** The latest noteworthy events, newest last (at most `keep`). */
  readonly recent: string[] = [];
  readonly #keep: number;

  constructor(keep = 5) {
    this.#keep = keep;
  }

  snapshot(models: readonly ModelSnapshot[], now: number): void {
    const before = this.models;
    const next = new Map<string, ModelView>();
    for (const m of models) {
      next.set(m.model, {
        model: m.model, state: m.state, pid: m.pid, inFlight: m.inFlight, waiting: m.waiting,
        load: m.load === undefined ? undefined : { elapsedMs: m.load.elapsedMs, estimateMs: m.load.estimateMs, evicting: m.load.evicting, seenAt: now },
        lastLoad: before.get(m.model)?.lastLoad,
      });
    }
    this.models.clear();
    for (const [k, v] of next) this.models.set(k, v);
  }

  /** `ev` must be one of the feed's known types (a newer server's others are for the caller to skip). */
  apply(ev: FeedEvent, now: number): void {
    const m = this.#model(ev.model);
    const time = new Date(ev.at).toTimeString().slice(0, 8);
    switch (ev.type) {
      case 'model': {
        m.state = ev.state;
        m.pid = ev.pid;
        const why = ev.evictedBy !== undefined ? ` (evicted by ${ev.evictedBy})` : ev.reason !== undefined && ev.reason !== ev.state ? ` (${ev.reason})` : '';
        this.#note(`${time} ${ev.model} ${ev.state}${why}`);
        return;
      }
      case 'queue':
        m.inFlight = ev.inFlight;
        m.waiting = ev.waiting;
        return;
      case 'load':
        if (ev.phase === 'started' || ev.phase === 'progress') {
          m.load = { elapsedMs: ev.elapsedMs, estimateMs: ev.estimateMs, evicting: ev.evicting, seenAt: now };
          if (ev.phase === 'started') this.#note(`${time} load ${ev.model} started${ev.evicting.length > 0 ? `, evicting ${ev.evicting.join(', ')}` : ''}`);
          return;
        }
        m.load = undefined;
        m.lastLoad = ev.phase === 'ready' ? `loaded in ${ms(ev.loadMs ?? ev.elapsedMs)}` : `${ev.phase} after ${ms(ev.elapsedMs)}`;
        this.#note(`${time} load ${ev.model} ${ev.phase} after ${ms(ev.elapsedMs)}${ev.error !== undefined ? `: ${ev.error}` : ''}`);
        return;
      case 'request':
        if (ev.phase === 'done') {
          const outcome = ev.error !== undefined ? `failed: ${ev.error}` : `${ev.status ?? '?'}${ev.clientAborted === true ? ' (client left)' : ''}`;
          this.#note(`${time} request ${ev.id} ${ev.model} ${outcome} in ${ms(ev.durationMs)} (waited ${ms(ev.waitedMs)})`);
        }
        return;
      default:
        assertNever(ev);
    }
  }

  #model(id: string): ModelView {
    let m = this.models.get(id);
    if (m === undefined) {
      m = { model: id, state: 'stopped', pid: undefined, inFlight: 0, waiting: 0, load: undefined, lastLoad: undefined };
      this.models.set(id, m);
    }
    return m;
  }

  #note(line: string): void {
    this.recent.push(line);
    if (this.recent.length > this.#keep) this.recent.shift();
  }
}
