/**
 * A model's `timeouts` on one forwarded request. Each costs a timer only
 * when it is set and can fire: `connect` only while a new connection is
 * being opened (a pooled connection needs none), `responseHeader` from the
 * request's start until the response headers arrive. Either destroys the
 * request with its own error code, which forward.ts turns into 502 / 504.
 */
import type { ClientRequest } from 'node:http';
import type { ModelTimeouts } from '../config/types.ts';

export const CONNECT_TIMEOUT = 'MODELSWAP_CONNECT_TIMEOUT';
export const HEADER_TIMEOUT = 'MODELSWAP_RESPONSE_HEADER_TIMEOUT';

function timeoutError(code: string, what: string, ms: number): Error {
  return Object.assign(new Error(`${what} after ${ms / 1000} s`), { code });
}

export function armTimeouts(up: ClientRequest, t: ModelTimeouts): void {
  if (t.connectMs > 0) {
    up.once('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => up.destroy(timeoutError(CONNECT_TIMEOUT, 'connect timed out (timeouts.connect)', t.connectMs)), t.connectMs);
      const clear = (): void => clearTimeout(timer);
      socket.once('connect', clear);
      socket.once('close', clear);
    });
  }
  if (t.responseHeaderMs > 0) {
    const timer = setTimeout(() => up.destroy(timeoutError(HEADER_TIMEOUT, 'no response headers (timeouts.responseHeader)', t.responseHeaderMs)), t.responseHeaderMs);
    const clear = (): void => clearTimeout(timer);
    up.once('response', clear);
    up.once('close', clear);
  }
}
