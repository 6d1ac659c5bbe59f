/**
 * The one event feed: everything that changes in the router, published from
 * its run loop, in the order the loop handled it. `/api/events`, the web UI,
 * the CLI, `sendLoadingState` and the metrics all read this feed; none of
 * them asks the router for state of its own, except the snapshot a late
 * subscriber starts from.
 *
 * Publishing is synchronous and cheap: a listener must not throw and must not
 * do slow work (the SSE writer buffers and drops on its own). With no
 * listener, the router builds no event at all (`active`).
 */
import type { ProxyErrorCode } from '../errors.ts';
import type { ProcessStatus } from '../process/types.ts';

/** Why a model changed state, as far as the router knows. */
export type StateReason =
  | 'request' | 'preload' | 'evicted' | 'unloaded' | 'ttl' | 'cancelled' | 'reloaded' | 'shutdown'
  | 'crashed' | 'start-failed' | 'health-timeout' | 'ready';

/** Token counts and generation speed an upstream reported for one request. */
export interface TokenUsage {
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  /** Generation speed, tokens per second (llama-server's timings). */
  readonly tokensPerSecond?: number;
  /** Prompt processing speed, tokens per second (llama-server's timings). */
  readonly promptPerSecond?: number;
  /** Prompt tokens served from a cache (OpenAI's cached_tokens, Anthropic's cache_read_input_tokens, llama-server's cache_n). */
  readonly cachedTokens?: number;
}

/** What the HTTP layer tells the router of a request it queues, carried to the request's `done` event. */
export interface RequestInfo {
  readonly method: string;
  /** The path the client asked for, without the query. */
  readonly path: string;
  /** The session id the client sent in one of the configured headers (ui.activity.session_id). */
  readonly sessionId?: string;
}

export type FeedEvent =
  /** A model's process changed state. `evictedBy` is the model whose load evicted it. */
  | {
    readonly type: 'model'; readonly at: number; readonly model: string; readonly state: ProcessStatus;
    readonly pid: number | undefined; readonly reason: StateReason | undefined; readonly evictedBy: string | undefined;
  }
  /**
   * A load (a swap: stop `evicting`, then start `model`): `started`, then
   * `progress` about every second, then `ready`, `failed` or `cancelled`.
   * `estimateMs` comes from earlier loads of the model (absent before the first).
   */
  | {
    readonly type: 'load'; readonly at: number; readonly model: string;
    readonly phase: 'started' | 'progress' | 'ready' | 'failed' | 'cancelled';
    readonly startedAt: number; readonly elapsedMs: number; readonly estimateMs: number | undefined;
    readonly evicting: readonly string[];
    /** What asked for the load. */
    readonly reason: 'request' | 'preload';
    /** On `ready`/`failed`: how long stopping the evicted models took, and loading the model. */
    readonly stopMs?: number; readonly loadMs?: number;
    readonly error?: string;
  }
  /** A model's counts changed: requests in flight and waiting. */
  | { readonly type: 'queue'; readonly at: number; readonly model: string; readonly inFlight: number; readonly waiting: number }
  /** A request was granted (`waitedMs` since it arrived). */
  | { readonly type: 'request'; readonly at: number; readonly phase: 'granted'; readonly id: number; readonly model: string; readonly waitedMs: number }
  /**
   * A request ended: served (with what the HTTP layer saw) or failed before its grant (`error`).
   * `request` is absent for what no client asked over HTTP (a preload, a load through the API).
   */
  | {
    readonly type: 'request'; readonly at: number; readonly phase: 'done'; readonly id: number; readonly model: string;
    readonly waitedMs: number; readonly durationMs: number;
    readonly status?: number; readonly ttfbMs?: number; readonly clientAborted?: boolean; readonly error?: string;
    /** Failed before its grant: the error's code (the HTTP status follows from it). */
    readonly errorCode?: ProxyErrorCode;
    readonly usage?: TokenUsage; readonly contentType?: string; readonly request?: RequestInfo;
  };

/** A request's `done` event. */
export type RequestDoneEvent = Extract<FeedEvent, { readonly type: 'request'; readonly phase: 'done' }>;

/** A model as a late subscriber first sees it. */
export interface ModelSnapshot {
  readonly model: string;
  readonly state: ProcessStatus;
  readonly pid: number | undefined;
  readonly inFlight: number;
  readonly waiting: number;
  /** Present while it loads. */
  readonly load?: {
    readonly startedAt: number; readonly elapsedMs: number; readonly estimateMs: number | undefined;
    readonly evicting: readonly string[]; readonly reason: 'request' | 'preload';
  };
}

export type FeedListener = (ev: FeedEvent) => void;
export type FeedEventType = FeedEvent['type'];
export const FEED_EVENT_TYPES: readonly FeedEventType[] = ['model', 'load', 'queue', 'request'];

/**
 * The listeners, by the event types each asked for. Publishers ask `wants`
 * before building an event: a type nobody listens to costs nothing (the
 * recorders take no `queue` events, so with no live view open, none is built).
 */
export class EventFeed {
  readonly #byType = new Map<FeedEventType, Set<FeedListener>>(FEED_EVENT_TYPES.map((t) => [t, new Set()]));

  /** Whether anyone listens to `type`. */
  wants(type: FeedEventType): boolean {
    return this.#byType.get(type)!.size > 0;
  }

  publish(ev: FeedEvent): void {
    for (const l of this.#byType.get(ev.type)!) l(ev);
  }

  /** Listen to `types` (default: all). Returns the unsubscribe function. */
  subscribe(listener: FeedListener, types: readonly FeedEventType[] = FEED_EVENT_TYPES): () => void {
    // A wrapper per subscription, so that the same function subscribed twice is two subscriptions.
    const l: FeedListener = (ev) => listener(ev);
    for (const t of types) this.#byType.get(t)!.add(l);
    return () => {
      for (const t of types) this.#byType.get(t)!.delete(l);
    };
  }
}

/** Load durations of each model's last successful loads, for estimates. */
export class LoadHistory {
  readonly #ms = new Map<string, number[]>();
  readonly #keep: number;

  constructor(keep = 5) {
    this.#keep = keep;
  }

  record(model: string, ms: number): void {
    const list = [...(this.#ms.get(model) ?? []), ms].slice(-this.#keep);
    this.#ms.set(model, list);
  }

  /** The median of the kept loads, or undefined before the first. */
  estimate(model: string): number | undefined {
    const list = this.#ms.get(model);
    if (list === undefined || list.length === 0) return undefined;
    const sorted = [...list].sort((a, b) => a - b);
    return Math.round(sorted[Math.floor(sorted.length / 2)]!);
  }
}
