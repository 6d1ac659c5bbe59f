/**
 * Options and hooks for the `http.Server` that runs the app (wired in
 * src/main.ts): timeouts for slow or stalled clients, and OpenAI-shaped
 * answers for requests Node's parser refuses before any handler runs.
 *
 * Timeouts, and why they never cut a long stream: Node's `headersTimeout` and
 * `requestTimeout` bound *receiving the request*; a connection leaves Node's
 * timeout list when its request is complete, so neither applies while the
 * client waits for a model to load or reads a long response (tested in
 * test/server/http-options.test.ts: a 3 s stream passes a 1 s requestTimeout).
 * They are constants, not config keys (adding keys means schema + normalize
 * work for little gain): 30 s for headers (a real client sends them in
 * milliseconds; this bounds slowloris), and for the whole request 300 s or
 * the time to send `maxBodyBytes` at 200 KiB/s, whichever is longer (64 MiB
 * of audio -> 328 s). Node checks them every `connectionsCheckingInterval`
 * (30 s by default; 1 s here so a stalled client is cut close to its time).
 * A client that stalls is answered 408 and disconnected.
 *
 * Not used on purpose: `server.timeout` (socket inactivity), which would cut
 * a silent connection while its model loads for minutes.
 */
import type { Server, ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { answerClientError } from './client-errors.ts';

export const HEADERS_TIMEOUT_MS = 30_000;
export const MIN_REQUEST_TIMEOUT_MS = 300_000;
/** The slowest upload rate that can still send a body of `maxBodyBytes` in time. */
export const MIN_UPLOAD_BYTES_PER_SECOND = 200 * 1024;
export const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;
/** Longer than the 60 s idle timeout of common load balancers, so they close first. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface HttpTimeouts {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly checkIntervalMs: number;
}

/** The timeouts for a given body limit (see the module comment). */
export function httpTimeouts(maxBodyBytes: number): HttpTimeouts {
  const upload = Math.ceil(maxBodyBytes / MIN_UPLOAD_BYTES_PER_SECOND) * 1000;
  return {
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: Math.max(MIN_REQUEST_TIMEOUT_MS, upload),
    checkIntervalMs: CONNECTIONS_CHECK_INTERVAL_MS,
  };
}

/** Options for `http.createServer(options, app)`. `overrides` exist for tests. */
export function httpServerOptions(maxBodyBytes: number, overrides: Partial<HttpTimeouts> = {}): ServerOptions {
  const t = { ...httpTimeouts(maxBodyBytes), ...overrides };
  return {
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    headersTimeout: Math.min(t.headersTimeoutMs, t.requestTimeoutMs), // Node requires headers <= request
    requestTimeout: t.requestTimeoutMs,
    connectionsCheckingInterval: t.checkIntervalMs,
  };
}

/**
 * Install the server-level handlers: `clientError` (malformed HTTP 400, header
 * overflow 431, timeouts 408, in the OpenAI error shape; see client-errors.ts).
 * Call once, right after `createServer`.
 */
export function setupHttpServer(server: Server): void {
  server.on('clientError', (err: Error, socket: Duplex) => answerClientError(err, socket, server));
}
