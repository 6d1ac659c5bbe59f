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
 * Start a request to `url` (http: or https:) on the shared agents; pass
 * `agent: false` for a connection of its own that is closed afterwards.
 */
export function upstreamRequest(url: string, options: RequestOptions): ClientRequest {
  const https = url.startsWith('https:');
  const agent = options.agent ?? (https ? httpsAgent : httpAgent);
  return (https ? httpsRequest : httpRequest)(url, { ...options, agent });
}

