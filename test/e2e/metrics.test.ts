/**
 * GET /metrics (Prometheus text) over real sockets: request, wait, load and
 * swap series from the event feed, gauges from its snapshot, token counts
 * from the upstream's usage, and the API key like every other endpoint
 * unless publicMetrics opens it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startFromYaml } from '../helpers/modelswap.ts';

/** The value of one sample line, e.g. `modelswap_requests_total{model="a",status="200"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('requests, waits, loads, swaps, states and tokens are counted; /metrics needs the key', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
apiKeys: [sekret]
routing: { scheduler: { use: fifo } }
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a --tokens 8" }
  b: { cmd: "\${fake} --port \${PORT} --model-id b --tokens 8" }
`);
  const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'sekret', maxRetries: 0 });
  await client.chat.completions.create({ model: 'a', messages: [{ role: 'user', content: 'x' }] });
  const stream = await client.chat.completions.create({ model: 'b', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x' }] });
  for await (const _ of stream) { /* drain */ }
  await client.chat.completions.create({ model: 'a', messages: [{ role: 'user', content: 'x' }] });

  assert.equal((await fetch(`${app.url}/metrics`)).status, 401, 'the key is needed');
  const res = await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer sekret' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.equal(sample(text, 'modelswap_requests_total{model="a",status="200"}'), 2);
  assert.equal(sample(text, 'modelswap_requests_total{model="b",status="200"}'), 1);
  assert.equal(sample(text, 'modelswap_queue_wait_seconds_count{model="a"}'), 2);
  assert.equal(sample(text, 'modelswap_request_duration_seconds_count{model="b"}'), 1);
  // Under fifo without groups, each model evicts the other: a (nothing evicted), a → b, b → a.
  assert.equal(sample(text, 'modelswap_swaps_total{from="",to="a",reason="request"}'), 1);
  assert.equal(sample(text, 'modelswap_swaps_total{from="a",to="b",reason="request"}'), 1);
  assert.equal(sample(text, 'modelswap_swaps_total{from="b",to="a",reason="request"}'), 1);
  assert.equal(sample(text, 'modelswap_load_duration_seconds_count{model="a",result="ready"}'), 2);
  assert.equal(sample(text, 'modelswap_stop_duration_seconds_count{model="a"}'), 1);
  assert.equal(sample(text, 'modelswap_upstream_exits_total{model="a",reason="evicted"}'), 1);
  assert.equal(sample(text, 'modelswap_model_state{model="a",state="ready"}'), 1);
  assert.equal(sample(text, 'modelswap_model_state{model="b",state="stopped"}'), 1);
  assert.equal(sample(text, 'modelswap_in_flight{model="a"}'), 0);
  assert.equal(sample(text, 'modelswap_queued{model="a"}'), 0);
  // The fake reports 8 completion tokens per answer (usage and timings), streamed or not.
  assert.equal(sample(text, 'modelswap_tokens_total{model="a",type="completion"}'), 16);
  assert.equal(sample(text, 'modelswap_tokens_total{model="b",type="completion"}'), 8);
  assert.ok((sample(text, 'modelswap_generation_tokens_per_second_count{model="a"}') ?? 0) >= 1);
  assert.match(text, /^modelswap_process_resident_memory_bytes \d+/m, 'process metrics too');
});

test('publicMetrics opens /metrics (and only it) to a scraper without the key', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
apiKeys: [sekret]
publicMetrics: true
models:
  a: { cmd: "\${fake} --port \${PORT}" }
`);
  const res = await fetch(`${app.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /# TYPE modelswap_requests_total counter/);
  assert.equal((await fetch(`${app.url}/running`)).status, 401);
});

test('recording: false keeps no counters, activity rows or recent events; gauges and live events still work', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
recording: false
captureBuffer: 5
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a --tokens 4" }
`);
  const live = new AbortController();
  t.after(() => live.abort());
  const events = await fetch(`${app.url}/api/events`, { signal: live.signal });
  const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'x', maxRetries: 0 });
  await client.chat.completions.create({ model: 'a', messages: [{ role: 'user', content: 'x' }] });

  const text = await (await fetch(`${app.url}/metrics`)).text();
  assert.equal(sample(text, 'modelswap_requests_total{model="a",status="200"}'), undefined, 'no request counted');
  assert.equal(sample(text, 'modelswap_swaps_total{from="",to="a",reason="request"}'), undefined, 'no swap counted');
  assert.equal(sample(text, 'modelswap_model_state{model="a",state="ready"}'), 1, 'gauges are read from the router');
  assert.equal(sample(text, 'modelswap_in_flight{model="a"}'), 0);
  const activity = (await (await fetch(`${app.url}/api/metrics/activity`)).json()) as { total: number };
  assert.equal(activity.total, 0, 'no activity row');
  const recent = (await (await fetch(`${app.url}/api/events/recent`)).json()) as { events: unknown[]; snapshot: Array<{ model: string; state: string }> };
  assert.deepEqual(recent.events, [], 'no recent events');
  assert.deepEqual(recent.snapshot.map((m) => [m.model, m.state]), [['a', 'ready']], 'the current state still');
  // The live feed is not recording: a client listening sees the request.
  const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
  let seen = '';
  while (!/"phase":"done"/.test(seen)) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'the event stream ended early');
    seen += value;
  }
  assert.match(seen, /"type":"request"/);
});
