/**
 * HTTP for the client commands, on Node's built-in fetch. Every failure a
 * person can act on becomes a ClientError whose message says what to do:
 * nothing listening, a missing or wrong API key, or the server's own error
 * message (an unknown model, a failed start).
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';
}

export interface Target {
  /** Without a trailing slash. */
  readonly url: string;
  /** MODELSWAP_API_KEY, sent as `Authorization: Bearer`. */
  readonly apiKey: string | undefined;
}

/** The socket-level code behind a fetch failure (`ECONNREFUSED`, …), if any. */
function causeCode(err: unknown): string | undefined {
  let cause = (err as { cause?: unknown }).cause;
  // localhost may resolve to several addresses: then each attempt's error is in `errors`
  if (cause instanceof AggregateError && (cause as { code?: unknown }).code === undefined) cause = cause.errors[0];
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function notListening(url: string): ClientError {
  return new ClientError(`nothing is listening at ${url} — start modelswap with \`modelswap --config <file>\` or pass --url`);
}

function unreachable(t: Target, err: unknown): ClientError {
  const code = causeCode(err);
  if (code === 'ECONNREFUSED') return notListening(t.url);
  if ((err as { cause?: Error }).cause?.message === 'bad port') {
    return new ClientError(`cannot reach modelswap at ${t.url}: fetch refuses that port (one browsers block); have modelswap listen on another`, { cause: err });
  }
  const why = code ?? ((err as { cause?: Error }).cause?.message ?? (err as Error).message);
  return new ClientError(`cannot reach modelswap at ${t.url}: ${why}`, { cause: err });
}

/** The message of an OpenAI-shaped error body, else the body itself (shortened), else the status. */
async function serverMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string };
    const message = typeof body.error === 'string' ? body.error : body.error?.message;
    if (typeof message === 'string' && message !== '') return message;
  } catch {
    // not JSON: use the text
  }
  const short = text.trim().slice(0, 300);
  return short === '' ? `HTTP ${res.status} ${res.statusText}` : `HTTP ${res.status}: ${short}`;
}

/**
 * `method path` against the target; resolves with the response when it is a
 * success (2xx), otherwise rejects with a ClientError.
 */
export async function call(t: Target, method: 'GET' | 'POST', path: string, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json, text/plain, text/event-stream' };
  if (t.apiKey !== undefined && t.apiKey !== '') headers.authorization = `Bearer ${t.apiKey}`;
  let res: Response;
  try {
    res = await fetch(`${t.url}${path}`, { method, headers, ...(signal === undefined ? {} : { signal }) });
  } catch (err) {
    if (signal?.aborted === true) throw err;
    throw unreachable(t, err);
  }
  if (res.ok) return res;
  if (res.status === 401) {
    await res.body?.cancel();
    throw new ClientError(t.apiKey === undefined || t.apiKey === ''
      ? `modelswap at ${t.url} needs an API key: set MODELSWAP_API_KEY to one of the apiKeys in its config`
      : `modelswap at ${t.url} refused the API key in MODELSWAP_API_KEY: it is not one of the apiKeys in its config`);
  }
  throw new ClientError(await serverMessage(res));
}

/** A JSON answer of `method path`. */
export async function callJson<T>(t: Target, method: 'GET' | 'POST', path: string): Promise<T> {
  const res = await call(t, method, path);
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ClientError(`${t.url}${path} did not answer JSON (is it modelswap?): ${text.slice(0, 200)}`, { cause: err });
  }
}

/** A model id as one path segment (ids may contain slashes; the server decodes %2F back). */
export const segment = (model: string): string => encodeURIComponent(model);
