/**
 * How `forward` (src/server/forward.ts) relays an SSE answer's body: each
 * upstream chunk framed as one HTTP chunk and written to the client's socket
 * (`relayBody`), with real sockets on 127.0.0.1. The framing ends where
 * `res.end()` ends it (the connection serves the next request), a slow client
 * holds the upstream back instead of the proxy buffering, and an HTTP/1.0
 * client (no chunked encoding) gets the body as it is.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chunkFrame, forward } from '../../src/server/forward.ts';
import { listen } from '../helpers/http-server.ts';

function proxyTo(t: TestContext, upstream: string): Promise<string> {
  return listen(t, (req, res) => {
    req.resume();
    req.on('end', () => void forward({ req, res, upstream, path: req.url ?? '/', body: Buffer.alloc(0), model: 'm' }));
  });
}

/** An SSE upstream that answers every request by calling `write` with its response. */
function sseUpstream(t: TestContext, write: (res: ServerResponse, req: IncomingMessage) => void): Promise<string> {
  return listen(t, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    write(res, req);
  });
}

/** GET `path` on `agent`; the status and the whole de-chunked body. */
function get(origin: string, path: string, agent: Agent): Promise<{ status: number; body: string; socketPort: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}${path}`, { agent, signal: AbortSignal.timeout(20_000) });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      const socketPort = res.socket.localPort ?? 0;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), socketPort }));
      res.once('error', reject);
    });
    req.end();
  });
}

/** Write `text` on a fresh connection to `origin`; everything received until the server closes it. */
async function exchange(t: TestContext, origin: string, text: string): Promise<string> {
  const url = new URL(origin);
  const socket = connect(Number(url.port), '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write(text);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

test('chunkFrame: the size in hex, CRLF, the bytes, CRLF', () => {
  assert.equal(chunkFrame(Buffer.from('data: x\n\n')).toString('latin1'), '9\r\ndata: x\n\n\r\n');
  const big = Buffer.alloc(70_000, 0x61);
  const framed = chunkFrame(big);
  assert.equal(framed.subarray(0, 7).toString('latin1'), '11170\r\n');
  assert.ok(framed.subarray(7, 7 + big.length).equals(big));
  assert.equal(framed.subarray(-2).toString('latin1'), '\r\n');
  assert.equal(framed.length, 7 + big.length + 2);
});

test('an SSE answer arrives whole and in order, event by event, and the kept-alive connection serves the next request', async (t) => {
  const upstream = await sseUpstream(t, (res) => {
    let i = 0;
    const timer = setInterval(() => {
      res.write(`data: {"n":${i}}\n\n`);
      if (++i === 50) {
        clearInterval(timer);
        res.end('data: [DONE]\n\n');
      }
    }, 1);
  });
  const proxy = await proxyTo(t, upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const expected = `${Array.from({ length: 50 }, (_, i) => `data: {"n":${i}}\n\n`).join('')}data: [DONE]\n\n`;
  const first = await get(proxy, '/v1/chat/completions', agent);
  assert.equal(first.status, 200);
  assert.equal(first.body, expected);
  const second = await get(proxy, '/v1/chat/completions', agent);
  assert.equal(second.body, expected, 'the second answer on the same connection is whole: the first one\'s framing ended where it should');
  assert.equal(second.socketPort, first.socketPort, 'the same client connection served both');
});

test('the events leave one by one, as they come: the client reads the first before the upstream writes the second', async (t) => {
  let release: (() => void) | undefined;
  const upstream = await sseUpstream(t, (res) => {
    res.write('data: one\n\n');
    release = () => res.end('data: two\n\n');
  });
  const proxy = await proxyTo(t, upstream);
  const req = request(`${proxy}/v1/chat/completions`, { signal: AbortSignal.timeout(20_000) });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const [first] = (await once(res, 'data')) as [Buffer];
  assert.equal(first.toString(), 'data: one\n\n');
  assert.ok(release !== undefined);
  release();
  const rest: Buffer[] = [];
  res.on('data', (c: Buffer) => rest.push(c));
  await once(res, 'end');
  assert.equal(Buffer.concat(rest).toString(), 'data: two\n\n');
});

test('a client that does not read holds the upstream back (its writes see backpressure), and then gets every byte in order', async (t) => {
  const EVENTS = 2048;
  const pad = 'x'.repeat(16 * 1024);
  let refused = 0;
  let written = 0;
  const upstream = await sseUpstream(t, (res) => {
    const pump = (): void => {
      while (written < EVENTS) {
        const ok = res.write(`data: ${written} ${pad}\n\n`);
        written += 1;
        if (!ok) {
          refused += 1;
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  const proxy = await proxyTo(t, upstream);
  const req = request(`${proxy}/v1/chat/completions`, { signal: AbortSignal.timeout(60_000) });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.pause();
  await sleep(500);
  assert.ok(written < EVENTS, `the upstream could not write all ${EVENTS} events (32 MB) while the client read nothing: it wrote ${written}`);
  assert.ok(refused > 0);
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.resume();
  await once(res, 'end');
  const events = Buffer.concat(chunks).toString().split('\n\n').filter((e) => e !== '');
  assert.equal(events.length, EVENTS);
  events.forEach((e, i) => assert.equal(e, `data: ${i} ${pad}`));
});

test('an HTTP/1.0 client (no chunked encoding) gets the events as they are, and the connection closes at the end', async (t) => {
  const upstream = await sseUpstream(t, (res) => {
    res.write('data: a\n\n');
    setTimeout(() => res.end('data: b\n\n'), 5);
  });
  const raw = await exchange(t, await proxyTo(t, upstream), 'GET /v1/chat/completions HTTP/1.0\r\nHost: x\r\n\r\n');
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, end);
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.doesNotMatch(head, /transfer-encoding/i);
  assert.equal(raw.slice(end + 4), 'data: a\n\ndata: b\n\n', 'the body unframed, closed by the end of the connection');
});

test('a HEAD for an SSE answer gets its head only, and a request pipelined after it is answered whole', async (t) => {
  const upstream = await sseUpstream(t, (res, req) => {
    if (req.method === 'HEAD') return void res.end();
    res.end('data: x\n\n');
  });
  const raw = await exchange(t, await proxyTo(t, upstream), 'HEAD /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const heads = raw.split(/HTTP\/1\.1 /).filter((x) => x !== '');
  assert.equal(heads.length, 2, raw);
  assert.ok(heads[0]!.endsWith('\r\n\r\n'), 'the HEAD answer carries no body');
  assert.ok(heads[1]!.endsWith('\r\n\r\n9\r\ndata: x\n\n\r\n0\r\n\r\n'), raw);
});
