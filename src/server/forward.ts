/**
 * Forwarding one request to an upstream and piping its answer back, chunk by
 * chunk (no buffering: SSE events leave as they arrive). Engine: undici
 * `request` on a keep-alive Agent with `.pipe()` — the cheapest correct
 * variant measured in ../shared/reference/node-stack.md §3–4.
 *
 * Failure contract:
 * - client disconnects → the upstream request is aborted at once;
 * - upstream unreachable before headers → 502 UPSTREAM_ERROR;
 * - upstream dies mid-body → the client's response is destroyed at once
 *   (the client sees a reset, never a hang).
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { ProxyError } from '../errors.ts';
import { upstreamAgent } from '../upstream-agent.ts';
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
export async function forward(o: ForwardOptions): Promise<void> {
  const { req, res } = o;
  if (res.destroyed) return;
  const ac = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) ac.abort();
  };
  res.once('close', onClose);
  const closed = once(res, 'close').catch(() => undefined);

  const headers = copyHeaders(req.headers);
  const method = req.method ?? 'GET';
  const hasBody = o.body.length > 0 || !(method === 'GET' || method === 'HEAD');
  if (hasBody) headers['content-length'] = String(o.body.length);

  let up: Awaited<ReturnType<typeof request>>;
  try {
    up = await request(o.upstream + o.path, {
      method: method as 'GET',
      headers,
      body: hasBody ? o.body : null,
      dispatcher: upstreamAgent,
      signal: ac.signal,
    });
  } catch (err) {
    if (!ac.signal.aborted) {
      const code = (err as { code?: string }).code ?? (err as Error).message;
      sendError(res, new ProxyError('UPSTREAM_ERROR', `upstream for model "${o.model}" failed: ${code}`, { cause: err }));
    }
    await closed;
    return;
  }

  const out = copyHeaders(up.headers);
  const ct = String(up.headers['content-type'] ?? '');
  if (ct.startsWith('text/event-stream')) out['x-accel-buffering'] = 'no';
  const len = up.headers['content-length'];
  if (len !== undefined) out['content-length'] = len;
  if (res.destroyed) {
    up.body.destroy();
    return;
  }
  res.writeHead(up.statusCode, out);
  if (ct.startsWith('text/event-stream')) res.flushHeaders();
  up.body.on('error', (err) => res.destroy(err));
  up.body.pipe(res);
  await closed;
  if (!up.body.destroyed) up.body.destroy();
}
