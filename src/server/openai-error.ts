/**
 * The one place where errors become HTTP: status, OpenAI-shaped body
 * `{ error: { message, type, code, param }, src }` and extra headers.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { assertNever, ProxyError, type ProxyErrorCode } from '../errors.ts';

export interface HttpError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: {
    readonly error: { readonly message: string; readonly type: string; readonly code: string; readonly param: null };
    readonly src: 'modelswap';
  };
}

function classify(code: ProxyErrorCode): { status: number; type: string; code: string } {
  switch (code) {
    case 'NO_MODEL': return { status: 400, type: 'invalid_request_error', code: 'model_required' };
    case 'BAD_REQUEST': return { status: 400, type: 'invalid_request_error', code: 'bad_request' };
    case 'MODEL_NOT_FOUND': return { status: 404, type: 'invalid_request_error', code: 'model_not_found' };
    case 'NOT_FOUND': return { status: 404, type: 'invalid_request_error', code: 'not_found' };
    case 'UNAUTHORIZED': return { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' };
    case 'BODY_TOO_LARGE': return { status: 413, type: 'invalid_request_error', code: 'request_too_large' };
    case 'CONCURRENCY_LIMIT': return { status: 429, type: 'rate_limit_error', code: 'concurrency_limit' };
    case 'UPSTREAM_START_FAILED': return { status: 502, type: 'server_error', code: 'upstream_start_failed' };
    case 'UPSTREAM_ERROR': return { status: 502, type: 'server_error', code: 'upstream_error' };
    case 'UPSTREAM_TIMEOUT': return { status: 504, type: 'server_error', code: 'upstream_timeout' };
    case 'UPSTREAM_NOT_READY': return { status: 503, type: 'server_error', code: 'upstream_not_ready' };
    case 'MODEL_UNLOADED': return { status: 503, type: 'server_error', code: 'model_unloaded' };
    case 'MODEL_TOO_LARGE': return { status: 422, type: 'invalid_request_error', code: 'model_too_large' };
    case 'WOULD_START_MODEL': return { status: 409, type: 'invalid_request_error', code: 'model_not_ready' };
    case 'SHUTTING_DOWN': return { status: 503, type: 'server_error', code: 'shutting_down' };
    case 'NO_TARGET': return { status: 503, type: 'server_error', code: 'no_target_available' };
    case 'CLIENT_CLOSED': return { status: 499, type: 'invalid_request_error', code: 'client_closed' };
    case 'INTERNAL': return { status: 500, type: 'server_error', code: 'internal_error' };
    default: return assertNever(code);
  }
}

/**
 * `challenge: false` leaves the Basic challenge off a 401: a script that
 * asks for its own key (the web UI, which says so with `X-Requested-With`)
 * must not make the browser open its login dialog instead.
 */
export function toOpenAIError(err: unknown, challenge = true): HttpError {
  if (!(err instanceof ProxyError)) {
    return {
      status: 500,
      headers: {},
      body: { error: { message: `internal error: ${String(err)}`, type: 'server_error', code: 'internal_error', param: null }, src: 'modelswap' },
    };
  }
  const c = classify(err.code);
  const headers: Record<string, string> = {};
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  if (err.code === 'UNAUTHORIZED' && challenge) headers['www-authenticate'] = 'Basic realm="modelswap"';
  // The rest of an oversized upload is not read: close the connection instead of draining it.
  if (err.code === 'BODY_TOO_LARGE') headers['connection'] = 'close';
  return { status: c.status, headers, body: { error: { message: err.message, type: c.type, code: c.code, param: null }, src: 'modelswap' } };
}

/**
 * A whole HTTP/1.1 error response, for a connection whose request never
 * reached a handler (client-errors.ts: malformed HTTP, header overflow,
 * timeouts). Same body shape as `toOpenAIError`; always `connection: close`.
 * `message` must not contain client input.
 */
export function rawErrorResponse(status: number, code: string, message: string): string {
  const text = JSON.stringify({ error: { message, type: 'invalid_request_error', code, param: null }, src: 'modelswap' });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(text)}`,
    'connection: close',
    '',
    text,
  ].join('\r\n');
}

/** Write an error response, or destroy the response if headers already went out. */
export function sendError(res: ServerResponse, err: unknown, challenge = true): void {
  if (res.headersSent) {
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  const e = toOpenAIError(err, challenge);
  const text = JSON.stringify(e.body);
  res.writeHead(e.status, { ...e.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Write a JSON success body. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
