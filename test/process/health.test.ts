/**
 * The health poll (src/process/health.ts) against a real HTTP server on
 * 127.0.0.1: the server's output cuts the sleep between attempts short.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { OutputWaker, waitHealthy } from '../../src/process/health.ts';
import { closeIdleConnections, upstreamRequest } from '../../src/upstream-agent.ts';

async function flippingServer(t: { after: (fn: () => Promise<void>) => void }): Promise<{ url: string; ready: () => void; hits: () => number; server: Server }> {
  let healthy = false;
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    res.writeHead(healthy ? 200 : 503).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/health`, ready: () => (healthy = true), hits: () => hits, server };
}

test('output from the server triggers the next check at once instead of after the interval', async (t) => {
  const s = await flippingServer(t);
  const waker = new OutputWaker();
  const signal = AbortSignal.timeout(20_000);
  const started = performance.now();
  const done = waitHealthy(s.url, { intervalMs: 10_000, signal, waker });
  setTimeout(() => {
    s.ready();
    waker.poke(); // "main: server is listening …"
  }, 200);
  await done;
  const ms = performance.now() - started;
  assert.ok(ms < 5_000, `ready after ${Math.round(ms)} ms: the poke should have ended the 10 s sleep`);
  assert.equal(s.hits(), 2, 'one 503, then one 200 right after the output');
});

test('without output the loop sleeps the whole interval between attempts', async (t) => {
  const s = await flippingServer(t);
  const waker = new OutputWaker();
  const ac = new AbortController();
  const done = waitHealthy(s.url, { intervalMs: 10_000, signal: ac.signal, waker });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(s.hits(), 1, 'a single attempt within 300 ms of a 10 s interval');
  ac.abort(new Error('test over'));
  await assert.rejects(done, /test over/);
});

test('chatty output is bounded to one attempt per wake gap', async (t) => {
  const s = await flippingServer(t);
  const waker = new OutputWaker();
  const ac = new AbortController();
  const done = waitHealthy(s.url, { intervalMs: 10_000, signal: ac.signal, waker, wakeGapMs: 50 });
  const chatter = setInterval(() => waker.poke(), 1); // a server printing a line every millisecond
  await new Promise((resolve) => setTimeout(resolve, 500));
  clearInterval(chatter);
  const hits = s.hits();
  ac.abort(new Error('test over'));
  await assert.rejects(done, /test over/);
  assert.ok(hits >= 3, `some attempts while it talks (got ${hits})`);
  assert.ok(hits <= 11, `at most one per 50 ms gap in 500 ms, plus the first (got ${hits})`);
});

test('OutputWaker.sleep on an already aborted signal rejects at once with its reason', async () => {
  const waker = new OutputWaker();
  const ac = new AbortController();
  ac.abort(new Error('gone'));
  const started = performance.now();
  await assert.rejects(waker.sleep(10_000, ac.signal), /gone/);
  assert.ok(performance.now() - started < 1_000);
});

test('attempts share one kept-alive connection, which the first forwarded request then reuses', async (t) => {
  const s = await flippingServer(t);
  let connections = 0;
  s.server.on('connection', () => (connections += 1));
  const waker = new OutputWaker();
  const done = waitHealthy(s.url, { intervalMs: 20, signal: AbortSignal.timeout(20_000), waker });
  setTimeout(() => s.ready(), 150);
  await done;
  assert.ok(s.hits() >= 3, `several attempts (${s.hits()})`);
  const res = await new Promise<number>((resolve, reject) => {
    const req = upstreamRequest(s.url, { method: 'GET' });
    req.on('error', reject);
    req.on('response', (r) => {
      r.resume();
      r.on('end', () => resolve(r.statusCode ?? 0));
    });
    req.end();
  });
  assert.equal(res, 200);
  assert.equal(connections, 1, 'one TCP connection for every attempt and the request after them');
  assert.equal(closeIdleConnections(s.url), 1, 'and it is the pooled one a stop closes');
});
