/**
 * Forwarding one request to an upstream and piping its answer back, chunk by
 * chunk (no buffering: SSE events leave as they arrive). Engine: node:http
 * on a keep-alive Agent with `.pipe()` — the cheapest correct variant
 * measured in ../shared/reference/node-stack.md §3–4, confirmed against
 * undici by `npm run bench` (BENCHMARKS.md).
 *
 * Failure contract:
 * - client disconnects → the upstream request is aborted at once;
 * - upstream unreachable before headers → 502 UPSTREAM_ERROR;
 * - upstream dies mid-body → the client's response is destroyed at once
 *   (the client sees a reset, never a hang).
 */
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { ProxyError } from '../errors.ts';
import { upstreamRequest } from '../upstream-agent.ts';
import { sendError } from './openai-error.ts';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authenticate', 'proxy-authorization', 'host', 'content-length', 'expect',
]);

function copyHeaders(h: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined && !HOP_BY_HOP.has(k.toLowerCase())) out[k] = v;
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
}

/** Resolves when the client's response is over (finished, failed or abandoned); never rejects. */
export function forward(o: ForwardOptions): Promise<void> {
  const { req, res } = o;
  if (res.destroyed) return Promise.resolve();
  const headers = copyHeaders(req.headers);
  const method = req.method ?? 'GET';
  const hasBody = o.body.length > 0 || !(method === 'GET' || method === 'HEAD');
  if (hasBody) headers['content-length'] = String(o.body.length);

  return new Promise<void>((resolve) => {
    let up: ClientRequest | undefined;
    // Client gone before the answer is complete → abort the upstream request at once.
    res.once('close', () => {
      if (!res.writableFinished) up?.destroy();
      resolve();
    });
    const send = (retriesLeft: number): void => {
      try {
        up = upstreamRequest(o.upstream + o.path, { method, headers });
      } catch (err) {
        // e.g. an upstream URL node:http rejects: nothing was sent
        return sendError(res, upstreamError(o.model, err));
      }
      const sent = up;
      let answered = false;
      sent.on('error', (err) => {
        if (res.destroyed) return; // we aborted it, or the client is gone anyway
        if (!answered && retriesLeft > 0 && sent.reusedSocket && STALE_SOCKET.has((err as NodeJS.ErrnoException).code ?? '')) {
          return send(retriesLeft - 1);
        }
        if (res.headersSent) return void res.destroy(err);
        sendError(res, upstreamError(o.model, err));
      });
      sent.on('response', (answer) => {
        answered = true;
        relay(answer, res);
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

function upstreamError(model: string, err: unknown): ProxyError {
  const code = (err as { code?: string }).code ?? (err as Error).message;
  return new ProxyError('UPSTREAM_ERROR', `upstream for model "${model}" failed: ${code}`, { cause: err });
}

/** Copy the upstream's status and headers, then its body chunk by chunk. */
function relay(answer: IncomingMessage, res: ServerResponse): void {
  if (res.destroyed) return void answer.destroy();
  const out = copyHeaders(answer.headers);
  const ct = String(answer.headers['content-type'] ?? '');
  const sse = ct.startsWith('text/event-stream');
  if (sse) out['x-accel-buffering'] = 'no';
  const len = answer.headers['content-length'];
  if (len !== undefined) out['content-length'] = len;
  try {
    res.writeHead(answer.statusCode ?? 502, out);
  } catch (err) {
    // A status or header Node refuses to send (e.g. a control character in a value).
    answer.destroy();
    return sendError(res, new ProxyError('UPSTREAM_ERROR', `upstream answered with an invalid response head: ${(err as Error).message}`, { cause: err }));
  }
  if (sse) res.flushHeaders();
  // Upstream died mid-body (crash, reset, cut stream) → the client sees a reset, never a hang.
  answer.on('error', (err) => res.destroy(err));
  answer.on('close', () => {
    if (!answer.complete) res.destroy();
  });
  answer.pipe(res);
}
