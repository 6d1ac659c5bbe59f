/**
 * The one HTTP client pool for talking to upstream servers (health checks and
 * forwarded requests). Keep-alive; no header/body timeouts, because a model
 * may legitimately take minutes before its first byte. `autoSelectFamily`
 * tries IPv4 and IPv6 both, so the llama-swap default `http://localhost:PORT`
 * reaches a server bound to 127.0.0.1 even where localhost resolves to ::1 first.
 */
import { Agent } from 'undici';

export const upstreamAgent = new Agent({
  headersTimeout: 0,
  bodyTimeout: 0,
  keepAliveTimeout: 30_000,
  connect: { autoSelectFamily: true },
});
