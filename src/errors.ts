/**
 * The proxy's error hierarchy: one class, literal codes. HTTP status and the
 * OpenAI error shape are derived from the code in exactly one place
 * (`src/server/openai-error.ts`); nothing else picks a status.
 */
export type ProxyErrorCode =
  | 'NO_MODEL' // request names no model (400)
  | 'MODEL_NOT_FOUND' // unknown model or alias (404)
  | 'BAD_REQUEST' // malformed body, wrong types (400)
  | 'BODY_TOO_LARGE' // over maxBodyBytes (413)
  | 'NOT_FOUND' // unknown path (404)
  | 'UNAUTHORIZED' // missing or wrong API key (401)
  | 'CONCURRENCY_LIMIT' // concurrencyLimit reached at admission (429)
  | 'UPSTREAM_START_FAILED' // the server exited during start or could not be spawned (502)
  | 'UPSTREAM_NOT_READY' // health check timed out (503)
  | 'UPSTREAM_ERROR' // upstream died or reset mid-request (502)
  | 'UPSTREAM_TIMEOUT' // no response headers within the model's timeouts.responseHeader (504)
  | 'MODEL_UNLOADED' // the model was unloaded while the request waited (503)
  | 'MODEL_TOO_LARGE' // the model needs more memory than its budget has: it can never start (422)
  | 'WOULD_START_MODEL' // the request may not start its model, which is not ready (409, upstream.ignorePaths)
  | 'SHUTTING_DOWN' // the proxy is shutting down (503)
  | 'NO_TARGET' // a selector has no target it can choose now (503)
  | 'CLIENT_CLOSED' // the client went away before an answer (499, never sent)
  | 'INTERNAL'; // a broken invariant inside modelswap (500): a bug, logged as such

export interface ProxyErrorOptions {
  readonly cause?: unknown;
  /** For CONCURRENCY_LIMIT: seconds for the Retry-After header. */
  readonly retryAfterSeconds?: number;
}

export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  readonly code: ProxyErrorCode;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ProxyErrorCode, message: string, options: ProxyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Exhaustiveness guard for discriminated unions: `default: assertNever(x)`. */
export function assertNever(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
