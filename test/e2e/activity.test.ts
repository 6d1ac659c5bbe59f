/**
 * The activity history through a real modelswap, real fake llama-servers and
 * the official openai client: requests appear in /api/metrics/activity with
 * their tokens and timings, a request that caused a swap names what it
 * evicted, a client that leaves is marked, the API key is required, bad
 * parameters are 400, exports and captures (secrets redacted) work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startFromYaml, until } from '../helpers/modelswap.ts';

const KEY = { authorization: 'Bearer sekret' };

interface Row {
  id: number; timestamp: string; model: string; req_path: string; method: string; resp_status_code: number; resp_content_type: string;
  tokens: { input_tokens: number; output_tokens: number; tokens_per_second: number };
  duration_ms: number; queued_ms: number; ttfb_ms: number | null; client_aborted: boolean; caused_swap: boolean; evicted: string[];
  load_ms: number | null; has_capture: boolean; error_msg?: string; metadata?: Record<string, string>;
}
interface Page { data: Row[]; page: number; limit: number; total: number; total_pages: number }

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: KEY });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') === true ? JSON.parse(text) : text };
}

test('requests are recorded with tokens, timings and the swaps they caused; the API needs the key', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
apiKeys: [sekret]
captureBuffer: 1
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a --tokens 8" }
  b: { cmd: "\${fake} --port \${PORT} --model-id b --tokens 8 --token-ms 200" }
`);
  const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'sekret', maxRetries: 0 });
  await client.chat.completions.create({ model: 'a', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'X-Session-ID': 'conv-1' } });
  await client.chat.completions.create({ model: 'a', messages: [{ role: 'user', content: 'again' }] });
  const stream = await client.chat.completions.create({ model: 'b', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x' }] });
  // leave after the first chunk: the rest would take 8 × 200 ms
  for await (const _ of stream) break;

  assert.equal((await fetch(`${app.url}/api/metrics/activity`)).status, 401, 'the key is needed');
  let page: Page | undefined;
  await until(async () => {
    page = (await get(`${app.url}/api/metrics/activity?sort=id&order=asc`)).body as Page;
    return page.total === 3;
  }, 5000, 'three rows');
  const [first, second, third] = page!.data as [Row, Row, Row];
  assert.deepEqual([page!.page, page!.limit, page!.total_pages], [1, 25, 1]);

  // 1. a was loaded for the first request, which evicted nothing
  assert.equal(first.model, 'a');
  assert.equal(first.req_path, '/v1/chat/completions');
  assert.equal(first.method, 'POST');
  assert.equal(first.resp_status_code, 200);
  assert.match(first.resp_content_type, /^application\/json/);
  assert.equal(first.caused_swap, true);
  assert.deepEqual(first.evicted, []);
  assert.ok((first.load_ms ?? -1) >= 0);
  assert.ok(first.queued_ms >= (first.load_ms ?? 0), 'it waited for the load');
  assert.equal(first.tokens.output_tokens, 8);
  assert.ok(first.tokens.input_tokens >= 0);
  assert.ok(first.ttfb_ms !== null && first.ttfb_ms >= 0);
  assert.ok(first.duration_ms >= first.queued_ms);
  assert.deepEqual(first.metadata, { session_id: 'conv-1' });
  assert.ok(Math.abs(Date.parse(first.timestamp) - Date.now()) < 20_000);
  // 2. a was ready: no swap
  assert.equal(second.caused_swap, false);
  assert.equal(second.metadata, undefined);
  // 3. b evicted a, and its client left mid-stream
  assert.equal(third.model, 'b');
  assert.equal(third.caused_swap, true);
  assert.deepEqual(third.evicted, ['a']);
  assert.equal(third.client_aborted, true);
  assert.match(third.resp_content_type, /^text\/event-stream/);

  // filters, paging, sort
  const onlyA = (await get(`${app.url}/api/metrics/activity?model=a&limit=1&page=2`)).body as Page;
  assert.deepEqual([onlyA.total, onlyA.total_pages, onlyA.data.length, onlyA.data[0]?.id], [2, 2, 1, first.id]);
  const both = (await get(`${app.url}/api/metrics/activity?model=a&model=b&sort=duration&order=desc`)).body as Page;
  assert.equal(both.total, 3);
  assert.ok(both.data[0]!.duration_ms >= both.data[1]!.duration_ms && both.data[1]!.duration_ms >= both.data[2]!.duration_ms);
  const later = (await get(`${app.url}/api/metrics/activity?start=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body as Page;
  assert.equal(later.total, 0);
  assert.equal(((await get(`${app.url}/api/metrics/activity?min_id=${second.id}&max_id=${second.id}`)).body as Page).data[0]?.id, second.id);

  // bad input: 400 naming the parameter
  for (const [q, what] of [['limit=0', /limit/], ['limit=1000', /limit/], ['page=x', /page/], ['sort=nope', /sort/], ['order=up', /order/], ['start=yesterday', /start/]] as const) {
    const r = await get(`${app.url}/api/metrics/activity?${q}`);
    assert.equal(r.status, 400, q);
    assert.match(r.body.error.message, what);
  }

  // export, with the same filters
  const csv = await get(`${app.url}/api/metrics/activity/export?format=csv&model=b`);
  assert.equal(csv.status, 200);
  const lines = (csv.body as string).trim().split('\r\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^id,timestamp,model,method,req_path,/);
  assert.match(lines[1]!, new RegExp(`^${third.id},[^,]+,b,POST,/v1/chat/completions,`));
  const json = await get(`${app.url}/api/metrics/activity/export?format=json`);
  assert.deepEqual((json.body as Row[]).map((r) => r.id), [third.id, second.id, first.id]);
  assert.equal((await get(`${app.url}/api/metrics/activity/export?format=xml`)).status, 400);

  // stats
  const stats = (await get(`${app.url}/api/metrics/stats?model=a`)).body as { total_requests: number; total_output_tokens: number; gen_histogram: unknown };
  assert.equal(stats.total_requests, 2);
  assert.equal(stats.total_output_tokens, 16);

  // captures: the request and the answer, the key redacted
  assert.equal(first.has_capture, true);
  const cap = (await get(`${app.url}/api/captures/${first.id}`)).body as { id: number; req_path: string; req_headers: Record<string, string>; req_body: string; resp_headers: Record<string, string>; resp_body: string };
  assert.equal(cap.id, first.id);
  assert.equal(cap.req_path, '/v1/chat/completions');
  assert.equal(cap.req_headers['authorization'], '[REDACTED]');
  assert.equal(JSON.stringify(cap).includes('sekret'), false, 'the key appears nowhere');
  assert.equal((JSON.parse(Buffer.from(cap.req_body, 'base64').toString()) as { messages: { content: string }[] }).messages[0]?.content, 'x');
  assert.match(Buffer.from(cap.resp_body, 'base64').toString(), /"completion_tokens":8/);
  assert.equal((await get(`${app.url}/api/captures/999999`)).status, 404);
  assert.equal((await get(`${app.url}/api/captures/abc`)).status, 400);
});

test('a request refused before its grant is recorded with its status; a preload and /upstream GETs are not', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
hooks: { on_startup: { preload: [a] } }
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a" }
  broken: { cmd: "\${fake} --port \${PORT} --exit-at-start 3" }
`, { preload: true });
  await until(() => app.router.status('a') === 'ready', 10_000, 'the preload');
  const res = await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'broken', messages: [] }) });
  assert.equal(res.status, 502);
  const page = (await (await fetch(`${app.url}/api/metrics/activity`)).json()) as Page;
  assert.equal(page.total, 1, 'the preload is no request');
  const row = page.data[0]!;
  assert.equal(row.model, 'broken');
  assert.equal(row.resp_status_code, 502);
  assert.match(row.error_msg ?? '', /exit|code 3/i);
  assert.equal(row.caused_swap, true, 'its load ran (and failed)');
  assert.deepEqual(row.evicted, ['a']);
  assert.equal(row.has_capture, false, 'captures are off by default');
  assert.equal((await fetch(`${app.url}/api/captures/${row.id}`)).status, 404);

  // /upstream: what a client asks of the model is recorded, a browsed server's GETs are not
  assert.equal((await fetch(`${app.url}/upstream/a/health`)).status, 200);
  const posted = await fetch(`${app.url}/upstream/a/v1/chat/completions?api_key=x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages":[]}' });
  assert.equal(posted.status, 200);
  const rows = ((await (await fetch(`${app.url}/api/metrics/activity`)).json()) as Page).data;
  assert.deepEqual(rows.map((r) => [r.model, r.method, r.req_path]), [['a', 'POST', '/upstream/a/v1/chat/completions'], ['broken', 'POST', '/v1/chat/completions']]);
});
