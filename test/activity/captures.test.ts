/** Captures: secrets redacted, one capture bounded by the buffer, the cache bounded by its sum. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { it } from 'node:test';
import { CaptureStore, captureJson, redactedHeaders } from '../../src/activity/captures.ts';

/** Enough of an upstream answer for a tap: status, raw headers, data events. */
function answer(status: number, rawHeaders: string[]): IncomingMessage & EventEmitter {
  return Object.assign(new EventEmitter(), { statusCode: status, rawHeaders }) as unknown as IncomingMessage & EventEmitter;
}

it('redacts the headers that carry credentials, whatever their case, and joins repeats', () => {
  assert.deepEqual(redactedHeaders([
    'Authorization', 'Bearer sk-1', 'X-API-Key', 'k', 'Cookie', 'c=1', 'Proxy-Authorization', 'Basic x', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2',
    'Accept', 'text/plain', 'X-Custom', '1', 'x-custom', '2',
  ]), {
    'authorization': '[REDACTED]', 'x-api-key': '[REDACTED]', 'cookie': '[REDACTED]', 'proxy-authorization': '[REDACTED]',
    'set-cookie': '[REDACTED], [REDACTED]', 'accept': 'text/plain', 'x-custom': '1, 2',
  });
});

it('keeps request and answer, filed under the row id the recorder gives it', () => {
  const store = new CaptureStore(1024 * 1024);
  const tap = store.begin('/v1/chat/completions', ['Authorization', 'Bearer sekret', 'Content-Type', 'application/json'], Buffer.from('{"q":1}'));
  const a = answer(200, ['Content-Type', 'text/event-stream', 'Set-Cookie', 'session=abc']);
  tap.onAnswer(a);
  a.emit('data', Buffer.from('data: 1\n\n'));
  a.emit('data', Buffer.from('data: [DONE]\n\n'));
  store.hold(7, tap.finish());
  assert.equal(store.get(7), undefined, 'held, not yet filed');
  store.claim(7, 42);
  store.claim(7, 43); // claimed once only
  assert.equal(store.has(43), false);
  const json = captureJson(42, store.get(42)!);
  assert.deepEqual(json, {
    id: 42, req_path: '/v1/chat/completions',
    req_headers: { 'authorization': '[REDACTED]', 'content-type': 'application/json' }, req_body: Buffer.from('{"q":1}').toString('base64'),
    resp_status_code: 200, resp_headers: { 'content-type': 'text/event-stream', 'set-cookie': '[REDACTED]' },
    resp_body: Buffer.from('data: 1\n\ndata: [DONE]\n\n').toString('base64'), truncated: false,
  });
  assert.equal(JSON.stringify(json).includes('sekret'), false);
});

it('a long stream is kept only up to the buffer size, and marked truncated', () => {
  const store = new CaptureStore(1000);
  const tap = store.begin('/p', [], Buffer.alloc(100, 'q'));
  const a = answer(200, []);
  tap.onAnswer(a);
  for (let i = 0; i < 1000; i++) a.emit('data', Buffer.alloc(100, 'x')); // 100 kB streamed
  const c = tap.finish();
  assert.equal(c.truncated, true);
  assert.ok(c.bytes <= 1000, `${c.bytes}`);
  assert.equal(c.reqBody.length + c.respBody.length, 1000);
  const big = store.begin('/p', [], Buffer.alloc(5000)).finish();
  assert.equal(big.reqBody.length, 1000, 'a request body too');
  assert.equal(big.truncated, true);
});

it('the cache drops its oldest captures once their sum passes the buffer', () => {
  const store = new CaptureStore(1000);
  for (let id = 1; id <= 5; id++) {
    store.hold(id, store.begin('/p', [], Buffer.alloc(300)).finish());
    store.claim(id, id);
  }
  assert.deepEqual([1, 2, 3, 4, 5].filter((id) => store.has(id)), [3, 4, 5]);
  assert.ok(store.bytes <= 1000);
});

it('captures never claimed are few: the oldest held are dropped', () => {
  const store = new CaptureStore(1000);
  for (let id = 1; id <= 100; id++) store.hold(id, store.begin('/p', [], Buffer.alloc(1)).finish());
  store.claim(1, 1);
  store.claim(100, 100);
  assert.equal(store.has(1), false);
  assert.equal(store.has(100), true);
});
