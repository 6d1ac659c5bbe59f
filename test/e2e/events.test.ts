/**
 * GET /api/events over real sockets: a snapshot first, then the feed as
 * named SSE events (model states with reasons, loads, counts, requests, log
 * lines), `?model=` filtering, and a slow reader that is dropped and resynced
 * instead of slowing anything down.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { test } from 'node:test';
import { LogHub } from '../../src/log/hub.ts';
import { streamEvents } from '../../src/server/events.ts';
import { listen } from '../helpers/http-server.ts';
import { postJson, startFromYaml, until } from '../helpers/modelswap.ts';
import { RouterHarness } from '../router/harness.ts';

interface Sse {
  readonly event: string;
  readonly data: any;
}

/** Read SSE frames from `url` into `events` until `stop` aborts. */
function readSse(url: string, events: Sse[], stop: AbortSignal, headers: Record<string, string> = {}): Promise<void> {
  return (async () => {
    const res = await fetch(url, { signal: stop, headers });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    let buf = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) {
        buf += decoder.decode(chunk, { stream: true });
        for (let cut = buf.indexOf('\n\n'); cut >= 0; cut = buf.indexOf('\n\n')) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch (err) {
      if (!stop.aborted) throw err;
    }
  })();
}

test('a client sees the snapshot, then a load with its reasons, the counts, the request summary and log lines', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
routing: { scheduler: { use: fifo } }
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a --load-ms 50" }
  b: { cmd: "\${fake} --port \${PORT} --model-id b" }
`);
  const stop = new AbortController();
  t.after(() => stop.abort());
  const events: Sse[] = [];
  const reading = readSse(`${app.url}/api/events`, events, stop.signal);
  await until(() => events.length > 0, 5000, 'the snapshot');
  assert.equal(events[0]!.event, 'snapshot');
  assert.deepEqual(events[0]!.data.models.map((m: any) => [m.model, m.state, m.inFlight, m.waiting]), [['a', 'stopped', 0, 0], ['b', 'stopped', 0, 0]]);
  const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'a', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.status, 200);
  await until(() => events.some((e) => e.event === 'request' && e.data.phase === 'done'), 5000, 'the request summary');
  const states = events.filter((e) => e.event === 'model').map((e) => `${e.data.model} ${e.data.state} ${e.data.reason}`);
  assert.deepEqual(states, ['a starting request', 'a ready ready']);
  const pid = events.find((e) => e.event === 'model' && e.data.state === 'ready')!.data.pid;
  assert.equal(pid, app.router.running()[0]!.pid);
  const load = events.filter((e) => e.event === 'load').map((e) => e.data.phase);
  assert.deepEqual([load[0], load.at(-1)], ['started', 'ready']);
  assert.ok(events.find((e) => e.event === 'load' && e.data.phase === 'ready')!.data.loadMs >= 50, 'the load took at least --load-ms');
  const done = events.find((e) => e.event === 'request' && e.data.phase === 'done')!.data;
  assert.equal(done.status, 200);
  assert.equal(typeof done.ttfbMs, 'number');
  assert.ok(events.some((e) => e.event === 'queue' && e.data.model === 'a' && e.data.inFlight === 1));
  assert.ok(events.some((e) => e.event === 'log' && e.data.source === 'upstream' && /server is listening/.test(e.data.text)), 'upstream log lines');
  stop.abort();
  await reading;
});

test('?model= keeps one model\'s events; ?logs=none leaves log lines out', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `
routing: { scheduler: { use: fifo } }
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a" }
  b: { cmd: "\${fake} --port \${PORT} --model-id b" }
`);
  const stop = new AbortController();
  t.after(() => stop.abort());
  const events: Sse[] = [];
  const reading = readSse(`${app.url}/api/events?model=b&logs=none`, events, stop.signal);
  await until(() => events.length > 0, 5000, 'the snapshot');
  assert.deepEqual(events[0]!.data.models.map((m: any) => m.model), ['b']);
  for (const model of ['a', 'b']) assert.equal((await postJson(`${app.url}/v1/chat/completions`, { model, messages: [] })).status, 200);
  await until(() => events.some((e) => e.event === 'request' && e.data.phase === 'done'), 5000, "b's request summary");
  assert.ok(events.slice(1).every((e) => e.data.model === 'b'), 'only b');
  assert.ok(!events.some((e) => e.event === 'log'));
  stop.abort();
  await reading;
  const unknown = await fetch(`${app.url}/api/events?model=nope`);
  assert.equal(unknown.status, 404);
});

test('a reader that stops reading loses events, then gets one dropped event and a fresh snapshot; the writer never waits', { timeout: 30_000 }, async (t) => {
  const h = new RouterHarness('fifo');
  const hub = new LogHub('none', () => {});
  const url = await listen(t, (req, res) => streamEvents(req, res, h.router, hub, { model: undefined, logs: true, maxPendingBytes: 64 * 1024 }));
  const line = `${'x'.repeat(64 * 1024)}\n`;
  const req = request(url);
  t.after(() => req.destroy());
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.pause(); // a reader that does not read
  await once(res, 'readable'); // the snapshot has arrived: the stream is live
  // Fill every buffer between us: far more than the socket buffers and the limit hold.
  const started = performance.now();
  for (let i = 0; i < 200; i++) hub.writeProxy(line);
  assert.ok(performance.now() - started < 2000, 'writing never blocked');
  let text = '';
  res.on('data', (d: Buffer) => (text += d.toString()));
  res.resume();
  // Once it has caught up, the next event brings the marker and the resync.
  await until(() => {
    hub.writeProxy('after\n');
    return text.includes('after');
  }, 10_000, 'live events to flow again');
  const events = [...text.matchAll(/^event: (.*)$/gm)].map((m) => m[1]);
  const logs = events.filter((e) => e === 'log').length;
  assert.ok(logs < 200, `some log events were dropped (${logs} of 201 delivered)`);
  const dropped = events.indexOf('dropped');
  assert.ok(dropped > 0, 'a dropped marker');
  assert.equal(events[dropped + 1], 'snapshot', 'followed by a fresh snapshot');
  assert.match(text, /"count":\d+/);
  assert.match(text, /after/, 'live events flow again');
});
