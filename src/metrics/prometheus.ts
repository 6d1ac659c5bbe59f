/**
 * Prometheus metrics (`GET /metrics`), read from the router's event feed.
 * What comes once per request (its status, duration, wait, tokens) is
 * noted in plain per-model numbers and applied to the prom-client metrics
 * in batches: when a model's batch is full, and before every scrape, so a
 * scrape always sees every request that has ended. Applied one by one as
 * the events arrived, those six label-hashing calls, cold between requests,
 * cost ~12% of the proxy's CPU per request at concurrency 64 (measured); in
 * a batch they run hot, about 1 µs a request in all. What comes once per
 * load or stop is applied at once.
 * The gauges (state, in flight, queued) are read from the feed's snapshot
 * when scraped, so they are never out of step with `/running`. Own registry
 * (no global state), so several instances in one process (tests) never
 * share counters.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FeedEvent, FeedEventType, ModelSnapshot } from '../router/feed.ts';

/** What the metrics need of the router. */
export interface MetricsSource {
  subscribe(listener: (ev: FeedEvent) => void, types?: readonly FeedEventType[]): { readonly snapshot: ModelSnapshot[]; readonly unsubscribe: () => void };
  snapshot(): ModelSnapshot[];
}


const STATES = ['stopped', 'starting', 'ready', 'stopping'] as const;
/** Observations a model keeps before they are applied. */
export const METRICS_BATCH = 256;
/** Status keys for what has no HTTP status. */
const ABORTED = -1;
const ERROR = -2;

/** One model's per-request observations not yet applied to the metrics. */
class Tally {
  readonly waits = new Float64Array(METRICS_BATCH);
  nWaits = 0;
  readonly durations = new Float64Array(METRICS_BATCH);
  nDurations = 0;
  readonly speeds = new Float64Array(METRICS_BATCH);
  nSpeeds = 0;
  /** HTTP status (or ABORTED, ERROR) → requests. */
  readonly statuses = new Map<number, number>();
  promptTokens = 0;
  completionTokens = 0;
}

const statusLabel = (key: number): string => (key === ABORTED ? 'aborted' : key === ERROR ? 'error' : String(key));
/** Seconds: from sub-millisecond proxy work to multi-minute generations and loads. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export class Metrics {
  readonly registry = new Registry();
  readonly #unsubscribe: () => void;
  /** When each model began stopping (performance.now()), for stop durations. */
  readonly #stopping = new Map<string, number>();
  readonly #requests: Counter<'model' | 'status'>;
  readonly #duration: Histogram<'model'>;
  readonly #wait: Histogram<'model'>;
  readonly #swaps: Counter<'from' | 'to' | 'reason'>;
  readonly #load: Histogram<'model' | 'result'>;
  readonly #stop: Histogram<'model'>;
  readonly #exits: Counter<'model' | 'reason'>;
  readonly #tokens: Counter<'model' | 'type'>;
  readonly #speed: Histogram<'model'>;
  readonly #tallies = new Map<string, Tally>();

  constructor(source: MetricsSource, opts: { readonly processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // The event-loop lag monitor samples with a timer: at prom-client's 10 ms it woke an idle proxy 100 times
    // a second and cost measurable CPU per request; once a second is plenty for a scrape every few seconds.
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'modelswap_', eventLoopMonitoringPrecision: 1000 });
    // The per-request metrics apply what waits before they are read.
    const flush = (): void => this.#flushAll();
    this.#requests = new Counter({ collect: flush, name: 'modelswap_requests_total', help: 'Requests that ended, by model and HTTP status (error: failed before any answer; aborted: the client left first).', labelNames: ['model', 'status'], registers });
    this.#duration = new Histogram({ collect: flush, name: 'modelswap_request_duration_seconds', help: 'From arrival to the end of the answer.', labelNames: ['model'], buckets: DURATION_BUCKETS, registers });
    this.#wait = new Histogram({ collect: flush, name: 'modelswap_queue_wait_seconds', help: 'From arrival to the grant (queued and waiting for a load).', labelNames: ['model'], buckets: DURATION_BUCKETS, registers });
    this.#swaps = new Counter({ name: 'modelswap_swaps_total', help: 'Loads started, by evicted model (from, empty when nothing was evicted), loaded model (to) and what asked for it.', labelNames: ['from', 'to', 'reason'], registers });
    this.#load = new Histogram({ name: 'modelswap_load_duration_seconds', help: "A model's start, from spawn to a healthy server.", labelNames: ['model', 'result'], buckets: DURATION_BUCKETS, registers });
    this.#stop = new Histogram({ name: 'modelswap_stop_duration_seconds', help: "A model's stop, from stopping to every process of its group gone.", labelNames: ['model'], buckets: DURATION_BUCKETS, registers });
    this.#exits = new Counter({ name: 'modelswap_upstream_exits_total', help: 'Upstream servers that ended, by why (evicted, unloaded, ttl, crashed, start-failed, …).', labelNames: ['model', 'reason'], registers });
    this.#tokens = new Counter({ collect: flush, name: 'modelswap_tokens_total', help: 'Tokens the upstream reported (usage or timings), by type: prompt or completion.', labelNames: ['model', 'type'], registers });
    this.#speed = new Histogram({ collect: flush, name: 'modelswap_generation_tokens_per_second', help: 'Generation speed the upstream reported, per request.', labelNames: ['model'], buckets: [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000], registers });
    const snap = (): ModelSnapshot[] => source.snapshot();
    new Gauge({
      name: 'modelswap_in_flight', help: 'Requests being served, by model.', labelNames: ['model'], registers,
      collect() {
        this.reset();
        for (const m of snap()) this.set({ model: m.model }, m.inFlight);
      },
    });
    new Gauge({
      name: 'modelswap_queued', help: 'Requests waiting for their grant (queued or waiting for a load), by model.', labelNames: ['model'], registers,
      collect() {
        this.reset();
        for (const m of snap()) this.set({ model: m.model }, m.waiting);
      },
    });
    new Gauge({
      name: 'modelswap_model_state', help: "1 for each model's current state, 0 for the others.", labelNames: ['model', 'state'], registers,
      collect() {
        this.reset();
        for (const m of snap()) for (const s of STATES) this.set({ model: m.model, state: s }, m.state === s ? 1 : 0);
      },
    });
    // Not `queue`: the gauges are read from the snapshot when scraped.
    this.#unsubscribe = source.subscribe((ev) => this.#on(ev), ['model', 'load', 'request']).unsubscribe;
  }

  /** Prometheus text exposition. */
  async text(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #tally(model: string): Tally {
    let t = this.#tallies.get(model);
    if (t === undefined) this.#tallies.set(model, (t = new Tally()));
    return t;
  }

  /** Applies what waits for every model. */
  #flushAll(): void {
    for (const [model, t] of this.#tallies) this.#flush(model, t);
  }

  /** Applies one model's waiting observations to the metrics, in one pass each. */
  #flush(model: string, t: Tally): void {
    const labels = { model };
    if (t.nWaits > 0) {
      const wait = this.#wait.labels(labels);
      for (let i = 0; i < t.nWaits; i++) wait.observe(t.waits[i]!);
      t.nWaits = 0;
    }
    if (t.nDurations > 0) {
      const duration = this.#duration.labels(labels);
      for (let i = 0; i < t.nDurations; i++) duration.observe(t.durations[i]!);
      t.nDurations = 0;
    }
    if (t.nSpeeds > 0) {
      const speed = this.#speed.labels(labels);
      for (let i = 0; i < t.nSpeeds; i++) speed.observe(t.speeds[i]!);
      t.nSpeeds = 0;
    }
    for (const [status, n] of t.statuses) this.#requests.inc({ model, status: statusLabel(status) }, n);
    t.statuses.clear();
    if (t.promptTokens > 0) this.#tokens.inc({ model, type: 'prompt' }, t.promptTokens);
    if (t.completionTokens > 0) this.#tokens.inc({ model, type: 'completion' }, t.completionTokens);
    t.promptTokens = 0;
    t.completionTokens = 0;
  }

  close(): void {
    this.#unsubscribe();
  }

  #on(ev: FeedEvent): void {
    switch (ev.type) {
      case 'request': {
        const t = this.#tally(ev.model);
        if (ev.phase === 'granted') {
          t.waits[t.nWaits++] = ev.waitedMs / 1000;
          if (t.nWaits === METRICS_BATCH) this.#flush(ev.model, t);
          return;
        }
        const status = ev.clientAborted === true ? ABORTED : ev.status !== undefined ? ev.status : ERROR;
        t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
        t.durations[t.nDurations++] = ev.durationMs / 1000;
        const u = ev.usage;
        if (u !== undefined) {
          if (u.promptTokens !== undefined) t.promptTokens += u.promptTokens;
          if (u.completionTokens !== undefined) t.completionTokens += u.completionTokens;
          if (u.tokensPerSecond !== undefined && u.tokensPerSecond > 0) t.speeds[t.nSpeeds++] = u.tokensPerSecond;
        }
        if (t.nDurations === METRICS_BATCH || t.nSpeeds === METRICS_BATCH) this.#flush(ev.model, t);
        return;
      }
      case 'load':
        if (ev.phase === 'started') {
          if (ev.evicting.length === 0) this.#swaps.inc({ from: '', to: ev.model, reason: ev.reason });
          for (const from of ev.evicting) this.#swaps.inc({ from, to: ev.model, reason: ev.reason });
        } else if (ev.phase !== 'progress' && ev.loadMs !== undefined && ev.loadMs > 0) {
          this.#load.observe({ model: ev.model, result: ev.phase }, ev.loadMs / 1000);
        }
        return;
      case 'model':
        if (ev.state === 'stopping') this.#stopping.set(ev.model, performance.now());
        if (ev.state === 'stopped') {
          const since = this.#stopping.get(ev.model);
          this.#stopping.delete(ev.model);
          if (since !== undefined) this.#stop.observe({ model: ev.model }, (performance.now() - since) / 1000);
          this.#exits.inc({ model: ev.model, reason: ev.reason ?? 'unknown' });
        }
        return;
      case 'queue':
        return;
      default: {
        const never: never = ev;
        return never;
      }
    }
  }
}
