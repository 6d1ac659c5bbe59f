import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { armTimeouts, CONNECT_TIMEOUT } from '../../src/server/upstream-timeouts.ts';

describe('upstream timeouts', () => {
  it('timeouts.connect destroys a request whose new connection does not open in time', async () => {
    // A socket that stays "connecting": no packet leaves the machine.
    const socket = new Socket();
    Object.defineProperty(socket, 'connecting', { value: true });
    const req = request({ host: '127.0.0.1', port: 9, createConnection: () => socket });
    armTimeouts(req, { connectMs: 50, responseHeaderMs: 0 });
    req.end();
    const [err] = (await once(req, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
    assert.equal(err.code, CONNECT_TIMEOUT);
    assert.match(err.message, /connect timed out \(timeouts\.connect\) after 0\.05 s/);
  });

  it('sets no timer for a zero timeout', () => {
    const socket = new Socket();
    const req = request({ host: '127.0.0.1', port: 9, createConnection: () => socket });
    req.on('error', () => undefined);
    armTimeouts(req, { connectMs: 0, responseHeaderMs: 0 });
    assert.equal(req.listenerCount('socket'), 0);
    assert.equal(req.listenerCount('response'), 0);
    req.destroy();
  });
});
