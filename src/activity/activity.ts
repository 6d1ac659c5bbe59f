/**
 * The activity history as the rest of modelswap sees it: opened once at
 * start-up from the config, fed by the router's event feed, read by the
 * HTTP routes. Reads write the rows still waiting first, so a request that
 * has ended is always in the answer.
 */
import type { ActivityConfig } from '../config/types.ts';
import type { FeedEventType, FeedListener } from '../router/feed.ts';
import { CaptureStore, captureJson } from './captures.ts';
import { exportChunks } from './export.ts';
import type { ActivityFilter, ActivityQuery, SortKey } from './query.ts';
import { ActivityRecorder } from './recorder.ts';
import { toJson, type ActivityJson } from './row.ts';
import { histogram, type Histogram } from './stats.ts';
import { ActivityStore } from './store.ts';

export interface ActivityPage {
  readonly data: ActivityJson[];
  readonly page: number;
  readonly limit: number;
  readonly total: number;
  readonly total_pages: number;
}

export interface ActivityStats {
  readonly total_requests: number;
  readonly total_input_tokens: number;
  readonly total_output_tokens: number;
  readonly total_cache_tokens: number;
  readonly prompt_histogram: Histogram | null;
  readonly gen_histogram: Histogram | null;
}

/** What the history needs of the router. */
export interface FeedSource {
  subscribe(listener: FeedListener, types?: readonly FeedEventType[]): { readonly unsubscribe: () => void };
}

export class Activity {
  readonly captures: CaptureStore | undefined;
  readonly #store: ActivityStore;
  readonly #recorder: ActivityRecorder;
  readonly #unsubscribe: () => void;

  private constructor(store: ActivityStore, captures: CaptureStore | undefined, source: FeedSource, onError: (err: unknown, rows: number) => void, keepRows: number | undefined) {
    this.#store = store;
    this.captures = captures;
    this.#recorder = new ActivityRecorder({ store, captures, onError, ...(keepRows !== undefined ? { keepRows } : {}) });
    this.#unsubscribe = source.subscribe(this.#recorder.listener, ['load', 'request']).unsubscribe;
  }

  /** Opens the store (an ActivityStoreError when store.path cannot be used) and starts recording. */
  static async open(config: ActivityConfig, source: FeedSource, onError: (err: unknown, rows: number) => void): Promise<Activity> {
    const store = await ActivityStore.open(
      config.storePath === undefined
        ? { maxRows: config.maxInMemory, retentionMs: 0 }
        : { path: config.storePath, maxRows: config.maxRows, retentionMs: config.retentionMs },
    );
    // In memory (and capped), rows are written only when read: nothing survives a restart anyway.
    const keepRows = config.storePath === undefined && config.maxInMemory > 0 ? config.maxInMemory : undefined;
    return new Activity(store, config.captureBytes > 0 ? new CaptureStore(config.captureBytes) : undefined, source, onError, keepRows);
  }

  page(q: ActivityQuery): ActivityPage {
    this.#recorder.flush();
    const { rows, total } = this.#store.page(q);
    return {
      data: rows.map((r) => toJson(r, this.captures?.has(r.id) === true)),
      page: q.page, limit: q.limit, total, total_pages: total === 0 ? 0 : Math.ceil(total / q.limit),
    };
  }

  /** Every matching row as CSV or JSON text, a piece at a time. */
  export(f: ActivityFilter, sort: SortKey, order: 'asc' | 'desc', format: 'csv' | 'json'): Generator<string> {
    this.#recorder.flush();
    const captures = this.captures;
    const rows = this.#store.rows(f, sort, order);
    return exportChunks((function* () {
      for (const r of rows) yield toJson(r, captures?.has(r.id) === true);
    })(), format);
  }

  stats(model: string | undefined): ActivityStats {
    this.#recorder.flush();
    const t = this.#store.totals(model);
    return {
      total_requests: t.requests, total_input_tokens: t.inputTokens, total_output_tokens: t.outputTokens, total_cache_tokens: t.cacheTokens,
      prompt_histogram: histogram(this.#store.speeds('prompt_per_second', model)),
      gen_histogram: histogram(this.#store.speeds('tokens_per_second', model)),
    };
  }

  /** `/api/captures/{id}`'s body, or undefined (none kept, or captures are off). */
  capture(id: number): Record<string, unknown> | undefined {
    const c = this.captures?.get(id);
    return c === undefined ? undefined : captureJson(id, c);
  }

  /** Stops recording, writes the last rows and closes the store. Idempotent. */
  close(): void {
    this.#unsubscribe();
    this.#recorder.close();
    this.#store.close();
  }
}
