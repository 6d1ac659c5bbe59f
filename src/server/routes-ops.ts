/**
 * Operations routes beyond the inference API: loading a model on demand
 * (`POST /api/models/load/<model>`) and the `GET /upstream` listing of the
 * passthrough URLs.
 */
import type { ServerResponse } from 'node:http';
import type { Config } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import type { Router } from '../router/router.ts';
import { sendJson } from './openai-error.ts';

export interface UpstreamEntry {
  readonly model: string;
  readonly name: string | undefined;
  readonly description: string | undefined;
  readonly aliases: readonly string[];
  /** The process state: stopped, starting, ready, stopping. */
  readonly state: string;
  /** Passthrough to this model's own server: `<url>` + any path of it. */
  readonly url: string;
}

/**
 * `GET /upstream`: every listed model with its `/upstream/<model>/` URL and
 * state. llama-swap redirects this path to its web UI's model page;
 * modelswap keeps answering the same information as JSON, for scripts (its
 * web UI is at /ui).
 */
export function upstreamListing(config: Config, status: (model: string) => string): { models: UpstreamEntry[] } {
  const models: UpstreamEntry[] = [];
  for (const m of config.models.values()) {
    if (m.unlisted) continue;
    models.push({
      model: m.id, name: m.name, description: m.description, aliases: m.aliases,
      state: status(m.id), url: `/upstream/${m.id.split('/').map(encodeURIComponent).join('/')}/`,
    });
  }
  return { models };
}

/**
 * `POST /api/models/load/<model>`: load `model` (a resolved id) as a request
 * would, subject to the same eviction rules and queue, and answer once it is
 * ready. A client that leaves first withdraws the load (a load nobody waits
 * for is cancelled). A failed start rejects with its ProxyError, answered as
 * usual.
 */
export async function loadModel(router: Router, res: ServerResponse, model: string): Promise<void> {
  if (res.destroyed) throw new ProxyError('CLIENT_CLOSED', 'client closed the request before the load was queued');
  const ac = new AbortController();
  const onClose = (): void => ac.abort();
  res.once('close', onClose);
  const started = performance.now();
  const lease = await router.acquire(model, ac.signal).finally(() => res.off('close', onClose));
  lease.release();
  sendJson(res, 200, { msg: 'ok', model, state: router.status(model), ms: Math.round(performance.now() - started) });
}
