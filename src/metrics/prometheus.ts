/**
 * Prometheus metrics (`GET /metrics`), read from the router's event feed:
 * counters and histograms are updated as events arrive; the gauges (state,
 * in flight, queued) are read from the feed's snapshot when scraped, so they
 * are never out of step with `/running`. Own registry (no global state), so
 * several instances in one process (tests) never share counters.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FeedEvent, FeedEventType, ModelSnapshot, TokenUsage } from '../router/feed.ts';

/** What the metrics need of the router. */
export interface MetricsSource {
  subscribe(listener: (ev: FeedEvent) => void, types?: readonly FeedEventType[]): { readonly snapshot: ModelSnapshot[]; readonly unsubscribe: () => void };
  snapshot(): ModelSnapshot[];
}


const STATES = ['stopped', 'starting', 'ready', 'stopping'] as const;
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

  constructor(source: MetricsSource, opts: { readonly processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // The event-loop lag monitor samples with a timer: at prom-client's 10 ms it woke an idle proxy 100 times
    // a second and cost measurable CPU per request; once a second is plenty for a scrape every few seconds.
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'modelswap_', eventLoopMonitoringPrecision: 1000 });
    this.#requests = new Counter({ name: 'modelswap_requests_total', help: 'Requests that ended, by model and HTTP status (error: failed before any answer; aborted: the client left first).', labelNames: ['model', 'status'], registers });
    this.#duration = new Histogram({ name: 'modelswap_request_duration_seconds', help: 'From arrival to the end of the answer.', labelNames: ['model'], buckets: DURATION_BUCKETS, registers });
    this.#wait = new Histogram({ name: 'modelswap_queue_wait_seconds', help: 'From arrival to the grant (queued and waiting for a load).', labelNames: ['model'], buckets: DURATION_BUCKETS, registers });
    this.#swaps = new Counter({ name: 'modelswap_swaps_total', help: 'Loads started, by evicted model (from, empty when nothing was evicted), loaded model (to) and what asked for it.', labelNames: ['from', 'to', 'reason'], registers });
    this.#load = new Histogram({ name: 'modelswap_load_duration_seconds', help: "A model's start, from spawn to a healthy server.", labelNames: ['model', 'result'], buckets: DURATION_BUCKETS, registers });
    this.#stop = new Histogram({ name: 'modelswap_stop_duration_seconds', help: "A model's stop, from stopping to every process of its group gone.", labelNames: ['model'], buckets: DURATION_BUCKETS, registers });
    this.#exits = new Counter({ name: 'modelswap_upstream_exits_total', help: 'Upstream servers that ended, by why (evicted, unloaded, ttl, crashed, start-failed, …).', labelNames: ['model', 'reason'], registers });
    this.#tokens = new Counter({ name: 'modelswap_tokens_total', help: 'Tokens the upstream reported (usage or timings), by type: prompt or completion.', labelNames: ['model', 'type'], registers });
    this.#speed = new Histogram({ name: 'modelswap_generation_tokens_per_second', help: 'Generation speed the upstream reported, per request.', labelNames: ['model'], buckets: [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000], registers });
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

  #tokensOf(model: string, usage: TokenUsage): void {
    if (usage.promptTokens !== undefined) this.#tokens.inc({ model, type: 'prompt' }, usage.promptTokens);
    if (usage.completionTokens !== undefined) this.#tokens.inc({ model, type: 'completion' }, usage.completionTokens);
    if (usage.tokensPerSecond !== undefined && usage.tokensPerSecond > 0) this.#speed.observe({ model }, usage.tokensPerSecond);
  }

  close(): void {
    this.#unsubscribe();
  }

  #on(ev: FeedEvent): void {
    switch (ev.type) {
      case 'request':
        if (ev.phase === 'granted') return void this.#wait.observe({ model: ev.model }, ev.waitedMs / 1000);
        this.#requests.inc({ model: ev.model, status: ev.clientAborted === true ? 'aborted' : ev.status !== undefined ? String(ev.status) : 'error' });
        this.#duration.observe({ model: ev.model }, ev.durationMs / 1000);
        if (ev.usage !== undefined) this.#tokensOf(ev.model, ev.usage);
        return;
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
