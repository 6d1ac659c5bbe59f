/**
 * Forwarding one request to an upstream and piping its answer back, chunk by
 * chunk (no buffering: SSE events leave as they arrive). Engine: node:http
 * on a keep-alive Agent with `.pipe()` (SSE events framed and written to the
 * client's socket directly, `relayBody`): of the engines measured on this
 * project's hosts (node:http, undici's request and dispatch, http-proxy), the
 * cheapest correct one, confirmed by `npm run bench` (BENCHMARKS.md).
 *
 * Failure contract:
 * - client disconnects → the upstream request is aborted at once;
 * - connection refused or reset before any byte of the answer → nothing is
 *   sent to the client and the result says `unreachable` (the server may
 *   just have crashed: the caller decides whether to retry or answer 502);
 * - any other upstream failure before headers → 502 UPSTREAM_ERROR (also
 *   when the model's timeouts.connect passes while connecting);
 * - no response headers within the model's timeouts.responseHeader → 504;
 * - upstream dies mid-body → the client's response is destroyed at once
 *   (the client sees a reset, never a hang).
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { ModelTimeouts } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import type { TokenUsage } from '../router/feed.ts';
import { forwardRequest, rawHeaderValue } from '../upstream-agent.ts';
import { armTimeouts, CONNECT_TIMEOUT, HEADER_TIMEOUT } from './upstream-timeouts.ts';
import { sendError } from './openai-error.ts';
import { UsageTap } from './usage.ts';

/** Hop-by-hop headers (RFC 9110 §7.6.1): about one connection, never forwarded. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authenticate', 'proxy-authorization',
]);

/** Not copied from a client's request either: the upstream's own Host, the length of the body actually sent, no 100-continue. */
const NOT_IN_REQUEST: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'host', 'content-length', 'expect']);

/** Dropped from an SSE answer, which gets its own `X-Accel-Buffering: no`. */
const NOT_IN_SSE_ANSWER: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'x-accel-buffering']);

/**
 * The header names a Connection header lists (RFC 9110 §7.6.1: those are
 * hop-by-hop too, like Go's ReverseProxy and so llama-swap treat them),
 * beyond `close` and `keep-alive`; undefined when there are none, the
 * common case.
 */
function connectionListed(raw: readonly string[]): Set<string> | undefined {
  let out: Set<string> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const listed = token.trim().toLowerCase();
      if (listed !== '' && listed !== 'close' && listed !== 'keep-alive') (out ??= new Set()).add(listed);
    }
  }
  return out;
}

/**
 * `raw` (a `rawHeaders` list: names as sent, duplicates kept) without the
 * headers named in `drop` (lower case) or listed by its Connection header.
 * Reading the list as it is, instead of the parsed `headers` object,
 * forwards repeated headers faithfully and spares Node building that object
 * for the upstream's answer.
 */
function copyHeaders(raw: readonly string[], drop: ReadonlySet<string>): string[] {
  const listed = connectionListed(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (drop.has(lower) || listed?.has(lower) === true) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

export interface ForwardOptions {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Upstream base URL, no trailing slash. */
  readonly upstream: string;
  /** Path and query to request on the upstream, starting with '/'. */
  readonly path: string;
  /** The (possibly rewritten) request body. */
  readonly body: Buffer;
  readonly model: string;
  /** The model's `timeouts` (connect, response headers); none when omitted. */
  readonly timeouts?: ModelTimeouts;
  /** Read the answer's token counts (see ./usage.ts). */
  readonly usage?: boolean;
  /** Headers sent instead of the client's of the same names (a peer's API key). */
  readonly replaceHeaders?: readonly (readonly [string, string])[];
  /** How error messages name the upstream; `upstream for model "<model>"` when omitted. */
  readonly upstreamName?: string;
  /** Called with the upstream's answer before it is relayed (a capture taps its data events). */
  readonly onAnswer?: (answer: IncomingMessage) => void;
}

/** How a forward ended, for the caller's retry decision and the event feed. */
export interface ForwardResult {
  /** The status sent to the client (0 when nothing was sent). */
  readonly status: number;
  /** From the call to the upstream's response head, when one came. */
  readonly ttfbMs: number | undefined;
  /** The client left before the answer was complete. */
  readonly clientAborted: boolean;
  /**
   * Set when the connection was refused or reset before any byte of the
   * answer: nothing was sent to the client, whose response is still open.
   */
  readonly unreachable: ProxyError | undefined;
  /** The answer's token counts, when asked for and reported. */
  readonly usage?: TokenUsage | undefined;
  /** The upstream answer's Content-Type, when one came. */
  readonly contentType?: string | undefined;
}

/** Resolves when the client's response is over (finished, failed or abandoned), or unreachable; never rejects. */
export function forward(o: ForwardOptions): Promise<ForwardResult> {
  const { req, res } = o;
  if (res.destroyed) return Promise.resolve({ status: 0, ttfbMs: undefined, clientAborted: true, unreachable: undefined });
  const method = req.method ?? 'GET';
  const hasBody = o.body.length > 0 || !(method === 'GET' || method === 'HEAD');
  const t0 = performance.now();
  let ttfbMs: number | undefined;
  let contentType: string | undefined;
  const tap = o.usage === true ? new UsageTap() : undefined;

  return new Promise<ForwardResult>((resolve) => {
    let up: ClientRequest | undefined;
    // Client gone before the answer is complete → abort the upstream request at once.
    const onClose = (): void => {
      const clientAborted = !res.writableFinished;
      if (clientAborted) up?.destroy();
      resolve({ status: res.headersSent ? res.statusCode : 0, ttfbMs, clientAborted, unreachable: undefined, usage: tap?.usage(), contentType });
    };
    res.once('close', onClose);
    const replace = o.replaceHeaders;
    const drop = replace === undefined ? NOT_IN_REQUEST : new Set([...NOT_IN_REQUEST, ...replace.map(([name]) => name.toLowerCase())]);
    const what = o.upstreamName ?? `upstream for model "${o.model}"`;
    const send = (retriesLeft: number): void => {
      try {
        const headers = copyHeaders(req.rawHeaders, drop);
        for (const [name, value] of replace ?? []) headers.push(name, value);
        if (hasBody) headers.push('Content-Length', String(o.body.length));
        up = forwardRequest(o.upstream, o.path, method, headers);
        if (o.timeouts !== undefined) armTimeouts(up, o.timeouts);
      } catch (err) {
        // e.g. an upstream URL node:http rejects: nothing was sent
        return sendError(res, upstreamError(what, err));
      }
      const sent = up;
      let answered = false;
      sent.on('error', (err) => {
        if (res.destroyed) return; // we aborted it, or the client is gone anyway
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!answered && retriesLeft > 0 && sent.reusedSocket && STALE_SOCKET.has(code)) {
          return send(retriesLeft - 1);
        }
        if (res.headersSent) return void res.destroy(err);
        if (!answered && UNREACHABLE.has(code)) {
          res.off('close', onClose);
          return resolve({ status: 0, ttfbMs: undefined, clientAborted: false, unreachable: upstreamError(what, err) });
        }
        sendError(res, upstreamError(what, err));
      });
      sent.on('response', (answer) => {
        answered = true;
        ttfbMs = performance.now() - t0;
        contentType = rawHeaderValue(answer.rawHeaders, 'content-type');
        if (tap !== undefined) answer.on('data', (chunk: Buffer) => tap.push(chunk));
        o.onAnswer?.(answer);
        relay(answer, res, contentType);
      });
      sent.end(hasBody ? o.body : undefined);
    };
    send(STALE_RETRIES);
  });
}

/**
 * A kept-alive connection the upstream closed while idle fails the next
 * request sent on it with one of these before any answer: the server never
 * saw the request, so it is sent again on another connection (Node's
 * documented `reusedSocket` retry). Bounded, since several pooled sockets
 * may have gone stale at once.
 */
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE']);
const STALE_RETRIES = 3;

/** Failures before any byte of the answer that a server which just died causes. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

/** `what` names the upstream in the message, e.g. `upstream for model "m"`. */
export function upstreamError(what: string, err: unknown): ProxyError {
  const code = (err as { code?: string }).code ?? (err as Error).message;
  if (code === HEADER_TIMEOUT || code === CONNECT_TIMEOUT) {
    return new ProxyError(code === HEADER_TIMEOUT ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_ERROR', `${what}: ${(err as Error).message}`, { cause: err });
  }
  return new ProxyError('UPSTREAM_ERROR', `${what} failed: ${code}`, { cause: err });
}

/** Copy the upstream's status and headers, then its body chunk by chunk. */
function relay(answer: IncomingMessage, res: ServerResponse, contentType: string | undefined): void {
  if (res.destroyed) return void answer.destroy();
  if (res.headersSent) return continueStream(answer, res);
  const raw = answer.rawHeaders;
  const sse = contentType?.startsWith('text/event-stream') === true;
  const out = copyHeaders(raw, sse ? NOT_IN_SSE_ANSWER : HOP_BY_HOP);
  // SSE: tell a buffering reverse proxy in front of us (nginx) to pass events on at once.
  if (sse) out.push('X-Accel-Buffering', 'no');
  try {
    res.writeHead(answer.statusCode ?? 502, out);
  } catch (err) {
    // A status or header Node refuses to send (e.g. a control character in a value).
    answer.destroy();
    return sendError(res, new ProxyError('UPSTREAM_ERROR', `upstream answered with an invalid response head: ${(err as Error).message}`, { cause: err }));
  }
  if (sse) res.flushHeaders();
  answer.on('error', (err) => res.destroy(err));
  relayBody(answer, res, sse);
}

/**
 * The answer's body to the client; an answer cut short (the upstream died
 * mid-body) resets the client's response. An SSE answer goes event by event:
 * each chunk read from the upstream is framed as one HTTP chunk and written
 * to the client's socket in one write, where ServerResponse.write makes four
 * buffered writes and a corked writev of each (3–14% less proxy CPU per
 * streamed event, bench/findings.md). Only while the response is chunked
 * (an HTTP/1.1 client, no Content-Length) and holds its socket, so that
 * `res.end()` writes the last chunk after these; anything else is piped.
 */
function relayBody(answer: IncomingMessage, res: ServerResponse, events: boolean): void {
  // Upstream died mid-body (crash, reset, cut stream) → the client sees a reset, never a hang.
  answer.on('close', () => {
    if (!answer.complete) res.destroy();
  });
  const socket = res.socket;
  // Node also sets chunkedEncoding where a response has no body (a HEAD answer given a Transfer-Encoding): those are piped, and Node drops the bytes.
  const bodyless = res.req.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
  if (!events || socket === null || !res.chunkedEncoding || bodyless) {
    answer.pipe(res);
    return;
  }
  answer.on('data', (chunk: Buffer) => {
    // An empty chunk would be the last-chunk marker, ending the stream early; the client gone: its close aborts the upstream request.
    if (chunk.length === 0 || socket.destroyed) return;
    if (!socket.write(chunkFrame(chunk))) {
      answer.pause(); // a slow client: the upstream waits, as pipe() would make it
      socket.once('drain', () => answer.resume());
    }
  });
  answer.on('end', () => res.end());
}

/** `chunk` as one HTTP/1.1 chunk: its size in hex, CRLF, the bytes, CRLF. */
export function chunkFrame(chunk: Buffer): Buffer {
  const size = chunk.length.toString(16);
  const out = Buffer.allocUnsafe(size.length + chunk.length + 4);
  out.write(size, 0, 'latin1');
  out[size.length] = 13;
  out[size.length + 1] = 10;
  chunk.copy(out, size.length + 2);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** What of an error answer is read to put it into a stream already sent. */
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * The 200 and the first events of an SSE stream were sent already (a loading
 * stream, ./loading.ts): a successful answer continues that stream; an error
 * answer becomes one `error` event, and the stream ends there.
 */
function continueStream(answer: IncomingMessage, res: ServerResponse): void {
  answer.on('error', (err) => res.destroy(err));
  if ((answer.statusCode ?? 502) < 400) {
    relayBody(answer, res, true);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  answer.on('data', (c: Buffer) => {
    if (size < ERROR_BODY_LIMIT) chunks.push(c);
    size += c.length;
  });
  answer.on('end', () => {
    const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_LIMIT).toString('utf8');
    let error: unknown;
    try {
      error = (JSON.parse(text) as { error?: unknown }).error;
    } catch {
      // not JSON: the text itself is the message
    }
    error ??= { message: text, type: 'upstream_error', code: answer.statusCode };
    res.end(`data: ${JSON.stringify({ error })}\n\n`);
  });
}
