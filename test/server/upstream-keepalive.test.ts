/**
 * Kept-alive upstream connections (src/upstream-agent.ts, src/server/forward.ts)
 * with real sockets on 127.0.0.1: a connection the upstream dropped while
 * idle never turns into a 502, and a socket timeout derived from the
 * server's Keep-Alive hint never cuts an active request.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { request } from 'undici';
import { forward } from '../../src/server/forward.ts';
import { sendError } from '../../src/server/openai-error.ts';
import { closeIdleConnections, upstreamRequest } from '../../src/upstream-agent.ts';
import { listen } from '../helpers/http-server.ts';

/**
 * A proxy whose every request is forwarded to `upstream` (the body read first,
 * as the app does); an unreachable upstream is answered with its error, as
 * the app does for a server that is up (there is no process to restart here).
 */
function proxyTo(t: TestContext, upstream: string): Promise<string> {
  return listen(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void forward({ req, res, upstream, path: req.url ?? '/', body: Buffer.concat(chunks), model: 'm' }).then((r) => {
      if (r.unreachable !== undefined) sendError(res, r.unreachable);
    }));
  });
}

async function post(url: string): Promise<{ status: number; body: string }> {
  const r = await request(url, { method: 'POST', body: '{"model":"m"}', headers: { 'content-type': 'application/json' }, reset: true });
  return { status: r.statusCode, body: await r.body.text() };
}

test('a pooled connection the upstream dropped is retried on a new one, not answered with 502', async (t) => {
  const served = new Map<Socket, number>();
  let connections = 0;
  const upstream = await listen(t, (req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n === 1) connections += 1;
    // The close race of an idle keep-alive connection: the request arrives on a connection the server is dropping.
    if (n > 1) return void req.socket.destroy();
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(`{"n":${connections}}`));
  });
  const proxy = await proxyTo(t, upstream);
  for (let i = 1; i <= 4; i++) {
    const r = await post(`${proxy}/v1/chat/completions`);
    assert.equal(r.status, 200, `request ${i}: ${r.body}`);
    assert.equal(JSON.parse(r.body).n, i, 'each answered on a fresh connection after the stale one failed');
  }
});

test('an upstream that resets every connection still gets a 502 (retries are bounded)', async (t) => {
  let attempts = 0;
  const upstream = await listen(t, (req) => {
    attempts += 1;
    req.socket.destroy();
  });
  const proxy = await proxyTo(t, upstream);
  const r = await post(`${proxy}/x`);
  assert.equal(r.status, 502);
  assert.match(r.body, /upstream for model \\"m\\" failed: ECONNRESET/);
  assert.equal(attempts, 1, 'a fresh connection that fails is not retried');
});

test('a socket timeout from the Keep-Alive hint does not cut a slow answer on a reused connection', async (t) => {
  let requests = 0;
  const upstream = await listen(t, (req, res) => {
    requests += 1;
    req.resume();
    // The second request (on the kept-alive socket, whose idle timeout is now hint − 1 s = 1 s) thinks for 2.5 s.
    const delay = requests === 1 ? 0 : 2500;
    setTimeout(() => res.writeHead(200, { 'keep-alive': 'timeout=2', 'content-type': 'text/plain' }).end(`answer ${requests}`), delay);
  });
  const proxy = await proxyTo(t, upstream);
  assert.equal((await post(`${proxy}/a`)).body, 'answer 1');
  const slow = await post(`${proxy}/b`);
  assert.equal(slow.status, 200, slow.body);
  assert.equal(slow.body, 'answer 2');
});

/** GET `url` on the shared agents and read the whole answer, leaving the connection pooled. */
async function pooledGet(url: string): Promise<string> {
  const req = upstreamRequest(url, { method: 'GET' });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return text;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('closeIdleConnections closes the idle pooled connections to one server only, never one in use', async (t) => {
  let openAtA = 0;
  let release: (() => void) | undefined;
  const serverA = createServer((req, res) => {
    if (req.url === '/slow') release = () => res.end('slow');
    else res.end('ok');
  });
  serverA.on('connection', (socket: Socket) => {
    openAtA += 1;
    socket.on('close', () => (openAtA -= 1));
  });
  serverA.listen(0, '127.0.0.1');
  await once(serverA, 'listening');
  t.after(() => {
    serverA.closeAllConnections();
    serverA.close();
  });
  const a = `http://127.0.0.1:${(serverA.address() as AddressInfo).port}`;
  const b = await listen(t, (_req, res) => res.end('ok'));
  // a request to a still in flight on one connection, a finished one on another
  const slow = upstreamRequest(`${a}/slow`, { method: 'GET' });
  slow.end();
  const slowRes = once(slow, 'response');
  await until(() => release !== undefined, 'the slow request to arrive');
  assert.equal(await pooledGet(`${a}/x`), 'ok');
  assert.equal(await pooledGet(`${b}/x`), 'ok');
  assert.equal(openAtA, 2, 'two connections to a: one idle, one busy');

  assert.equal(closeIdleConnections(`${a}/v1`), 1, 'the idle connection to a');
  await until(() => openAtA === 1, 'a to see the idle connection closed');
  assert.equal(closeIdleConnections(a), 0, 'nothing idle left for a');
  release!();
  const [res] = (await slowRes) as [IncomingMessage];
  let text = '';
  for await (const chunk of res) text += String(chunk);
  assert.equal(text, 'slow', 'the request in flight finished');
  assert.equal(closeIdleConnections(b), 1, "b's idle connection was left alone until now");
  assert.equal(closeIdleConnections('not a url'), 0);
});
