/**
 * The one HTTP client for talking to upstream servers (forwarded requests and
 * health checks): node:http / node:https on shared keep-alive agents, with
 * no header or body timeouts, because a model may legitimately take minutes
 * before its first byte. Chosen over undici (used until 0.1.0) after an A/B
 * run of both engines (BENCHMARKS.md, "Findings"): the same CPU per request
 * within noise, but with 1,000 SSE streams open the proxy's RSS peaked at
 * ~195 MB instead of ~350 MB; the failure behaviour is the same (tests).
 * Node's agents honour the
 * server's `Keep-Alive: timeout=N` hint, and Node tries IPv4 and IPv6 both
 * (net.getDefaultAutoSelectFamily(), on by default), so the llama-swap default `http://localhost:PORT`
 * reaches a server bound to 127.0.0.1 even where localhost resolves to ::1.
 * Idle pooled sockets are unref'd by the agent: they never keep the process up.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * `timeout` is what makes Node honour a server's `Keep-Alive: timeout=N`
 * (llama-server sends 5 s): an idle pooled socket is dropped 1 s before the
 * server would close it, or after 60 s without a hint. It never cuts an
 * active request: Node only emits 'timeout' on it, and nobody listens (a
 * model may think for minutes before its first byte).
 */
const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 256, scheduling: 'lifo', timeout: 60_000 } as const;
const httpAgent = new HttpAgent(agentOptions);
const httpsAgent = new HttpsAgent(agentOptions);

/**
 * Close the idle pooled connections to the server at `url` (its scheme, host
 * and port); connections with a request in flight are left alone. Called when
 * that server is being stopped: llama-server (cpp-httplib) serves each
 * kept-alive connection on a thread that looks every 10 ms at whether the
 * server is stopping, so an idle connection of ours held its exit back by up
 * to 10 ms on every swap (measured: SIGTERM to exit 12–18 ms with our pooled
 * connection open, 5–7 ms without). Returns how many were closed.
 */
export function closeIdleConnections(url: string): number {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 0;
  }
  const https = u.protocol === 'https:';
  const agent = https ? httpsAgent : httpAgent;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const prefix = `${host}:${u.port || (https ? '443' : '80')}:`;
  let closed = 0;
  for (const [name, sockets] of Object.entries(agent.freeSockets)) {
    if (!name.startsWith(prefix)) continue;
    for (const socket of [...(sockets ?? [])]) {
      socket.destroy();
      closed += 1;
    }
  }
  return closed;
}

/**
 * Start a request to `url` (http: or https:) on the shared agents; pass
 * `agent: false` for a connection of its own that is closed afterwards.
 * Parses `url` on every call: for forwarded requests, see `forwardRequest`.
 */
export function upstreamRequest(url: string, options: RequestOptions): ClientRequest {
  const https = url.startsWith('https:');
  const agent = options.agent ?? (https ? httpsAgent : httpAgent);
  return (https ? httpsRequest : httpRequest)(url, { ...options, agent });
}

/** An upstream base URL, parsed once: what node:http needs to reach it. */
interface Target {
  readonly https: boolean;
  readonly hostname: string;
  readonly port: number;
  /** The Host header Node would send: host, plus the port when not the scheme's default. */
  readonly host: string;
  /** `user:password` from the URL, sent as Basic auth (as node:http does for a URL). */
  readonly auth: string | undefined;
  /** The base URL's path without its trailing slash ('' for none): prefixed to every request's path. */
  readonly prefix: string;
}

/** Parsed bases, by their string; bounded by the configs' proxy URLs (cleared if it ever grows past 1024). */
const targets = new Map<string, Target>();

function target(base: string): Target {
  let t = targets.get(base);
  if (t !== undefined) return t;
  const u = new URL(base); // throws on a malformed base: the caller answers 502 with the reason
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw Object.assign(new TypeError(`unsupported protocol ${u.protocol}`), { code: 'ERR_INVALID_PROTOCOL' });
  const https = u.protocol === 'https:';
  const auth = u.username !== '' || u.password !== '' ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined;
  t = {
    https,
    hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port === '' ? (https ? 443 : 80) : Number(u.port),
    host: u.host,
    auth,
    prefix: u.pathname.replace(/\/+$/, ''),
  };
  if (targets.size >= 1024) targets.clear();
  targets.set(base, t);
  return t;
}

/** The first value of header `lowerName` in a flat [name, value, ...] list (the shape of `rawHeaders`), names compared case-insensitively. */
export function rawHeaderValue(flat: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i]!.toLowerCase() === lowerName) return flat[i + 1];
  return undefined;
}

/**
 * Start a forwarded request: `path` (starting with '/', already normalized
 * and percent-encoded by the HTTP layer) on the upstream at `base`, on the
 * shared agents. `headers` is a flat [name, value, ...] list (the shape of
 * `rawHeaders`) without Host, which is added here: node:http writes such a
 * list as it is, with no per-header bookkeeping, and `base` is parsed once
 * per upstream rather than once per request (bench/findings.md).
 */
export function forwardRequest(base: string, path: string, method: string, headers: string[]): ClientRequest {
  const t = target(base);
  headers.push('Host', t.host);
  // As node:http does for a URL with credentials: unless the request carries its own.
  if (t.auth !== undefined && rawHeaderValue(headers, 'authorization') === undefined) headers.push('Authorization', `Basic ${Buffer.from(t.auth).toString('base64')}`);
  const options: RequestOptions = { hostname: t.hostname, port: t.port, path: t.prefix + path, method, headers, agent: t.https ? httpsAgent : httpAgent };
  return (t.https ? httpsRequest : httpRequest)(options);
}
