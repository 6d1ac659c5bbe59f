/**
 * The per-request metrics are noted per model and applied in batches: a
 * scrape must still see every request that has ended, exactly (counts,
 * sums, statuses and tokens), whether its batch was full or not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics, METRICS_BATCH, type MetricsSource } from '../../src/metrics/prometheus.ts';
import type { FeedEvent } from '../../src/router/feed.ts';

function source(): { readonly src: MetricsSource; emit(ev: FeedEvent): void } {
  let listener: ((ev: FeedEvent) => void) | undefined;
  return {
    src: {
      subscribe(l) {
        listener = l;
        return { snapshot: [], unsubscribe: () => { listener = undefined; } };
      },
      snapshot: () => [],
    },
    emit: (ev) => listener?.(ev),
  };
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function serve(emit: (ev: FeedEvent) => void, id: number, model: string, o: { waitedMs: number; durationMs: number; status?: number; clientAborted?: boolean; tokens?: [number, number, number] }): void {
  emit({ type: 'request', at: id, phase: 'granted', id, model, waitedMs: o.waitedMs });
  emit({
    type: 'request', at: id, phase: 'done', id, model, waitedMs: o.waitedMs, durationMs: o.durationMs,
    status: o.status, ttfbMs: undefined, clientAborted: o.clientAborted, error: undefined, errorCode: undefined,
    usage: o.tokens === undefined ? undefined : { promptTokens: o.tokens[0], completionTokens: o.tokens[1], tokensPerSecond: o.tokens[2] },
    contentType: undefined, request: undefined,
  });
}

test('every request is in the next scrape, across full and partial batches, exactly', async () => {
  const { src, emit } = source();
  const m = new Metrics(src, { processMetrics: false });
  const n = 2 * METRICS_BATCH + 37; // two full batches and a partial one
  let durationSum = 0;
  let waitSum = 0;
  let speedSum = 0;
  for (let i = 0; i < n; i++) {
    const durationMs = 3 + (i % 50);
    const waitedMs = i % 7;
    const speed = 10 + (i % 3);
    durationSum += durationMs / 1000;
    waitSum += waitedMs / 1000;
    speedSum += speed;
    serve(emit, i, 'a', { waitedMs, durationMs, status: i % 10 === 0 ? 500 : 200, tokens: [5, 8, speed] });
  }
  serve(emit, n, 'b', { waitedMs: 1200, durationMs: 4000, clientAborted: true });
  serve(emit, n + 1, 'b', { waitedMs: 2, durationMs: 2 });

  const text = (await m.text()).body;
  assert.equal(sample(text, 'modelswap_requests_total{model="a",status="200"}'), n - Math.ceil(n / 10));
  assert.equal(sample(text, 'modelswap_requests_total{model="a",status="500"}'), Math.ceil(n / 10));
  assert.equal(sample(text, 'modelswap_requests_total{model="b",status="aborted"}'), 1);
  assert.equal(sample(text, 'modelswap_requests_total{model="b",status="error"}'), 1, 'no status and not aborted: error');
  assert.equal(sample(text, 'modelswap_request_duration_seconds_count{model="a"}'), n);
  assert.ok(Math.abs(sample(text, 'modelswap_request_duration_seconds_sum{model="a"}')! - durationSum) < 1e-9);
  assert.equal(sample(text, 'modelswap_queue_wait_seconds_count{model="a"}'), n);
  assert.ok(Math.abs(sample(text, 'modelswap_queue_wait_seconds_sum{model="a"}')! - waitSum) < 1e-9);
  assert.equal(sample(text, 'modelswap_queue_wait_seconds_bucket{le="1",model="b"}'), 1, 'the 1.2 s wait is above 1 s');
  assert.equal(sample(text, 'modelswap_queue_wait_seconds_bucket{le="2.5",model="b"}'), 2);
  assert.equal(sample(text, 'modelswap_tokens_total{model="a",type="prompt"}'), 5 * n);
  assert.equal(sample(text, 'modelswap_tokens_total{model="a",type="completion"}'), 8 * n);
  assert.equal(sample(text, 'modelswap_generation_tokens_per_second_count{model="a"}'), n);
  assert.ok(Math.abs(sample(text, 'modelswap_generation_tokens_per_second_sum{model="a"}')! - speedSum) < 1e-9);

  // A second scrape counts nothing twice; a request after it is added once.
  serve(emit, n + 2, 'b', { waitedMs: 1, durationMs: 1, status: 200 });
  const again = (await m.text()).body;
  assert.equal(sample(again, 'modelswap_requests_total{model="a",status="200"}'), n - Math.ceil(n / 10));
  assert.equal(sample(again, 'modelswap_request_duration_seconds_count{model="b"}'), 3);
  assert.equal(sample(again, 'modelswap_requests_total{model="b",status="200"}'), 1);
  m.close();
});
