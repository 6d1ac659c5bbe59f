/**
 * Turns the router's event feed into activity rows. The listener runs on
 * the router's loop, so it only keeps the request's `done` event (the same
 * object the feed built, nothing new per request) and its id; the rows are
 * built from the kept events when they are written. They reach the store in
 * batches, one transaction each, from a timer (`flushMs` after the first row
 * waits) or from the next turn of the event loop once `batchRows` wait, never
 * inside the listener or on a request's path. A read (`flush` first) sees
 * every request that has ended.
 *
 * With `keepRows` (an in-memory store, which keeps that many rows and
 * survives nothing), rows are written only when read: the last `keepRows`
 * wait in memory, older ones are dropped as the store would drop them, and
 * a proxy whose history nobody reads never pays for SQLite inserts.
 *
 * Recorded: every request a client sent over HTTP to a model (the inference
 * routes, and `/upstream/<model>/…` except GET and HEAD), served or refused.
 * Not recorded: what carries no request info (preloads, `POST
 * /api/models/load`, those `/upstream` GETs).
 */
import { ProxyError } from '../errors.ts';
import type { FeedEvent, RequestDoneEvent } from '../router/feed.ts';
import { toOpenAIError } from '../server/openai-error.ts';
import type { CaptureStore } from './captures.ts';
import type { ActivityRow } from './row.ts';
import type { ActivityStore } from './store.ts';
import { SwapMarks, type SwapMark } from './swap-marks.ts';

export interface RecorderOptions {
  readonly store: ActivityStore;
  /** Captures to file under each row's id; none when captureBuffer is 0. */
  readonly captures?: CaptureStore;
  /** A batch could not be written (disk full, …): the rows are dropped. */
  readonly onError: (err: unknown, rows: number) => void;
  /** Longest a row waits before its batch is written (default 250 ms). */
  readonly flushMs?: number;
  /** A batch this large is written at once (default 200). */
  readonly batchRows?: number;
  /** Write only on flush (a read, or close), keeping at most this many rows waiting. */
  readonly keepRows?: number;
}

const round = (n: number | undefined): number | null => (n === undefined ? null : Math.round(n));
const speed = (n: number | undefined): number | null => (n === undefined ? null : Math.round(n * 100) / 100);
const NOTHING_EVICTED: readonly string[] = Object.freeze([]);

/** The row of request `ev`, recorded under `id`; `mark` is the load it caused, if any. */
function rowOf(ev: RequestDoneEvent, id: number, mark: SwapMark | undefined): ActivityRow {
  const u = ev.usage;
  const status = ev.status !== undefined && ev.status > 0 ? ev.status : ev.errorCode !== undefined ? toOpenAIError(new ProxyError(ev.errorCode, '')).status : null;
  return {
    id, ts: ev.at - ev.durationMs, model: ev.model, method: ev.request!.method, path: ev.request!.path,
    status, contentType: ev.contentType ?? null, clientAborted: ev.clientAborted === true, error: ev.error ?? null,
    queuedMs: ev.waitedMs, ttfbMs: round(ev.ttfbMs), durationMs: ev.durationMs,
    causedSwap: mark !== undefined, evicted: mark?.evicted ?? NOTHING_EVICTED, loadMs: round(mark?.loadMs),
    promptTokens: u?.promptTokens ?? null, completionTokens: u?.completionTokens ?? null, cachedTokens: u?.cachedTokens ?? null,
    promptPerSecond: speed(u?.promptPerSecond), tokensPerSecond: speed(u?.tokensPerSecond), sessionId: ev.request!.sessionId ?? null,
  };
}

export class ActivityRecorder {
  readonly #o: RecorderOptions;
  readonly #marks = new SwapMarks();
  /** Done events not yet written, oldest first; the first one's row id is #firstId. */
  #pending: RequestDoneEvent[] = [];
  #firstId: number;
  /** Row id → the load its request caused (few: one per load). */
  readonly #caused = new Map<number, SwapMark>();
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(o: RecorderOptions) {
    this.#o = o;
    this.#firstId = o.store.lastId() + 1;
  }

  /** The feed listener. */
  readonly listener = (ev: FeedEvent): void => {
    const mark = this.#marks.observe(ev);
    if (ev.type !== 'request' || ev.phase !== 'done' || ev.request === undefined || this.#closed) return;
    const id = this.#firstId + this.#pending.length;
    this.#pending.push(ev);
    if (mark !== undefined) this.#caused.set(id, mark);
    this.#o.captures?.claim(ev.id, id);
    const keep = this.#o.keepRows;
    if (keep !== undefined) {
      if (this.#pending.length >= 2 * keep) this.#drop(this.#pending.length - keep); // amortized: one copy per keepRows rows
      return;
    }
    if (this.#pending.length >= (this.#o.batchRows ?? 200)) this.#immediate ??= setImmediate(() => this.flush());
    else this.#timer ??= setTimeout(() => this.flush(), this.#o.flushMs ?? 250).unref();
  };

  /** Writes what waits now (before a read, and at close). */
  flush(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    const keep = this.#o.keepRows;
    if (keep !== undefined && this.#pending.length > keep) this.#drop(this.#pending.length - keep);
    if (this.#pending.length === 0) return;
    const rows = this.#pending.map((ev, i) => rowOf(ev, this.#firstId + i, this.#caused.get(this.#firstId + i)));
    this.#firstId += this.#pending.length;
    this.#pending = [];
    this.#caused.clear();
    try {
      this.#o.store.insert(rows);
    } catch (err) {
      this.#o.onError(err, rows.length);
    }
  }

  /** Forgets the `n` oldest waiting rows (as the in-memory store would drop them). */
  #drop(n: number): void {
    this.#pending = this.#pending.slice(n);
    this.#firstId += n;
    for (const id of this.#caused.keys()) if (id < this.#firstId) this.#caused.delete(id);
  }

  /** Writes the last rows; later events are ignored. */
  close(): void {
    this.flush();
    this.#closed = true;
  }
}
