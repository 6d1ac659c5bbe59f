/**
 * A bounded memory of the event feed's recent past, for views that need
 * more than what happens after they open (the web UI's swap timeline):
 * `GET /api/events/recent` answers it as JSON.
 *
 * Kept: model state changes, loads (without their once-a-second `progress`
 * events, which the start and end of a load sum up) and requests' `done`
 * summaries (which carry when each was granted), for at most `maxAgeMs` and
 * at most `maxEvents`, oldest dropped first. Not kept: queue counts and
 * grants, three events per request that the timeline does not draw (a
 * subscription without `queue` also spares the router from building them).
 * Subscribing keeps the feed active, so the router builds its events even
 * when no client listens; that is the cost of having a past.
 */
import type { FeedEvent, FeedEventType } from '../router/feed.ts';

export interface RecentEventsOptions {
  /** Default 5,000. */
  readonly maxEvents?: number;
  /** Default one hour. */
  readonly maxAgeMs?: number;
  /** The clock (tests). */
  readonly now?: () => number;
}

export class RecentEvents {
  /** The event types to subscribe this to. */
  static readonly TYPES: readonly FeedEventType[] = ['model', 'load', 'request'];
  readonly #events: FeedEvent[] = [];
  /** Index of the oldest kept event: the array is compacted only now and then. */
  #head = 0;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(o: RecentEventsOptions = {}) {
    this.#maxEvents = o.maxEvents ?? 5000;
    this.#maxAgeMs = o.maxAgeMs ?? 3_600_000;
    this.#now = o.now ?? Date.now;
  }

  /** A feed listener: cheap, never throws. */
  readonly record = (ev: FeedEvent): void => {
    if ((ev.type === 'load' && ev.phase === 'progress') || (ev.type === 'request' && ev.phase === 'granted') || ev.type === 'queue') return;
    this.#events.push(ev);
    this.#trim();
  };

  /** Kept events at or after `since` (ms since the epoch), oldest first. */
  since(since = 0): FeedEvent[] {
    this.#trim();
    const out: FeedEvent[] = [];
    for (let i = this.#head; i < this.#events.length; i++) {
      const ev = this.#events[i]!;
      if (ev.at >= since) out.push(ev);
    }
    return out;
  }

  #trim(): void {
    const oldest = this.#now() - this.#maxAgeMs;
    while (this.#head < this.#events.length && (this.#events.length - this.#head > this.#maxEvents || this.#events[this.#head]!.at < oldest)) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#events.length) {
      this.#events.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
