/**
 * Requests that Node's HTTP parser refuses, or that time out, never reach the
 * app: the server emits 'clientError' with the socket. Node's default answer
 * is a bare status line; this one is the same status with an OpenAI-shaped
 * JSON body, then the connection is closed.
 *
 * Contract (like Node's default handler, without its private fields):
 * - the client is gone (ECONNRESET, socket not writable) -> destroy, write nothing;
 * - a response on this connection has started but not finished (an error in a
 *   pipelined request after it) -> destroy, write nothing: writing would
 *   corrupt that response;
 * - otherwise -> write one complete error response and close.
 * The app registers each response with `trackResponse`, so the second rule
 * can be checked.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rawErrorResponse } from './openai-error.ts';

/** Per connection: responses not yet finished (pipelining can queue several). */
const open = new WeakMap<object, Set<ServerResponse>>();

/** Record `res` as a response on its connection until it finishes. Called by the app for every request. */
export function trackResponse(req: IncomingMessage, res: ServerResponse): void {
  let set = open.get(req.socket);
  if (set === undefined) {
    set = new Set();
    open.set(req.socket, set);
  }
  set.add(res);
  const done = (): void => void set.delete(res);
  res.once('finish', done);
  res.once('close', done);
}

/** Whether some response on this connection has sent its head and not finished. */
function midResponse(socket: Duplex): boolean {
  for (const res of open.get(socket) ?? []) if (res.headersSent) return true;
  return false;
}

interface ClientErrorAnswer {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

const seconds = (ms: number): string => `${+(ms / 1000).toFixed(1)} s`;

/** Status and message for a parser or timeout error. Messages never quote client bytes. */
export function classifyClientError(err: Error & { code?: string }, server: Pick<Server, 'headersTimeout' | 'requestTimeout'>): ClientErrorAnswer {
  switch (err.code ?? '') {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'request_timeout',
        message: `the request was not received in time: headers must arrive within ${seconds(server.headersTimeout)} ` +
          `and the whole request (body included) within ${seconds(server.requestTimeout)}`,
      };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'request_header_fields_too_large', message: 'the request line and headers are too large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'request_too_large', message: 'chunk extensions too large' };
    default:
      return {
        status: 400,
        code: 'bad_request',
        message: `malformed HTTP request (${err.code ?? 'parse error'}${err.message.startsWith('Parse Error: ') ? `: ${err.message.slice(13)}` : ''})`,
      };
  }
}

export function answerClientError(err: Error & { code?: string }, socket: Duplex, server: Pick<Server, 'headersTimeout' | 'requestTimeout'>): void {
  if (err.code === 'ECONNRESET' || !socket.writable || midResponse(socket)) {
    socket.destroy();
    return;
  }
  const a = classifyClientError(err, server);
  // The client may still be sending: close once the answer is flushed, and at
  // the latest after a second (a client that does not read cannot pin the socket).
  socket.end(rawErrorResponse(a.status, a.code, a.message), () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}
