/**
 * A client that disconnects at every moment of an exchange, on raw sockets
 * against a real modelswap: while sending the request line, the headers or
 * the body (plain, chunked, multipart, passthrough), while its model loads
 * (reset or half-close), while a stream is being sent, while reading
 * /logs/stream. After each: nothing in flight or queued in /running, and
 * the proxy still serves.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFromYaml, until, type Started } from '../helpers/modelswap.ts';
import { assertIdle, openRaw, running } from './raw-http.ts';

const YAML = `
routing: { scheduler: { use: fifo } }
groups:
  all: { members: [m1, slowload, streamer], swap: false, exclusive: false }
models:
  m1:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 2
  slowload:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --load-ms 2000 --tokens 2
  streamer:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 1000 --token-ms 10
`;

const CHAT = (model: string, stream = false): string => JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'x' }] });
const head = (path: string, extra: string): string => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

describe('a client that disconnects', () => {
  let app: Started;
  before(async () => {
    app = await startFromYaml(undefined, YAML);
  });
  after(() => app.close(2000));

  /** Open a connection, run `script`, reset the connection; then check for leaks and that m1 still answers. */
  async function cut(script: (s: Socket, received: () => Buffer) => Promise<void>, how: 'reset' | 'half-close' = 'reset'): Promise<void> {
    const { socket, received } = await openRaw(app.url);
    await script(socket, received);
    const closed = once(socket, 'close');
    if (how === 'reset') socket.resetAndDestroy();
    else socket.end();
    await closed;
    await assertIdle(app.url);
    assert.doesNotMatch(app.logs.proxy.history(), /unexpected error handling request/);
    const r = await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CHAT('m1'), signal: AbortSignal.timeout(10_000) });
    assert.equal(r.status, 200, 'the proxy still serves');
    await r.arrayBuffer();
  }

  const write = (s: Socket, data: string | Buffer): Promise<void> => new Promise((resolve, reject) => s.write(data, (e) => (e ? reject(e) : resolve())));

  test('in the request line', () => cut((s) => write(s, 'POST /v1/chat/compl')));

  test('in the headers', () => cut((s) => write(s, 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le')));

  test('after the headers, before the body', () => cut((s) => write(s, head('/v1/chat/completions', 'Content-Type: application/json\r\nContent-Length: 60\r\n'))));

  test('in a body with a content-length', () => cut(async (s) => {
    await write(s, `${head('/v1/chat/completions', 'Content-Type: application/json\r\nContent-Length: 60\r\n')}{"model":"m1",`);
    await sleep(50); // let the handler start reading
  }));

  test('in a chunked body', () => cut(async (s) => {
    await write(s, `${head('/v1/chat/completions', 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n')}d\r\n{"model":"m1"\r\n3`);
    await sleep(50);
  }));

  test('in a multipart upload', () => cut(async (s) => {
    await write(s, `${head('/v1/audio/transcriptions', 'Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n')}--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm1\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`);
    await write(s, Buffer.alloc(20_000, 7));
    await sleep(50);
  }));

  test('in a body for /upstream passthrough', () => cut(async (s) => {
    await write(s, `${head('/upstream/m1/v1/chat/completions', 'Content-Type: application/json\r\nContent-Length: 500\r\n')}{"model":"m1"`);
    await sleep(50);
  }));

  /**
   * Queue a request behind slowload's 2 s load and cut it. The request must
   * be withdrawn at once (queued 0 well before the load ends), and never
   * forwarded when the load completes.
   */
  async function cutWhileLoading(how: 'reset' | 'half-close'): Promise<void> {
    await app.router.unload(['slowload']);
    app.logs.model('slowload').clear();
    let cutAt = 0;
    await cut(async (s) => {
      const body = CHAT('slowload');
      await write(s, `${head('/v1/chat/completions', `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n`)}${body}`);
      await until(async () => (await running(app.url)).some((r) => r.model === 'slowload' && r.queued === 1), 5000, 'the request to queue for slowload');
      cutAt = performance.now();
    }, how);
    assert.ok(performance.now() - cutAt < 1500, `withdrawn ${(performance.now() - cutAt).toFixed(0)} ms after the cut; the load takes 2000 ms`);
    await sleep(2200); // past the load: a request not withdrawn would be forwarded now
    assert.doesNotMatch(app.logs.model('slowload').history(), /request: POST \/v1\/chat\/completions/, 'never forwarded');
  }

  test('while waiting for its model to load (connection reset)', () => cutWhileLoading('reset'));

  test('while waiting for its model to load (half-close: the client ends its side)', () => cutWhileLoading('half-close'));

  test('right after sending a whole request, before any answer', () => cut(async (s) => {
    const body = CHAT('m1', true);
    await write(s, `${head('/v1/chat/completions', `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n`)}${body}`);
  }));

  test('in the middle of a stream', () => cut(async (s, received) => {
    const body = CHAT('streamer', true);
    await write(s, `${head('/v1/chat/completions', `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n`)}${body}`);
    await until(() => (received().toString().match(/data: /g)?.length ?? 0) >= 5, 10_000, 'five events');
    const row = (await running(app.url)).find((r) => r.model === 'streamer');
    assert.equal(row?.inFlight, 1, 'the stream holds its lease until the cut');
  }));

  test('while reading /logs/stream', () => cut(async (s, received) => {
    await write(s, 'GET /logs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await until(() => received().includes('\r\n\r\n'), 5000, 'the log stream head');
  }));

});
