/**
 * Small llama-swap routes a client may call: `GET /api/version`,
 * `GET /api/performance` and `GET /api/hardware` (modelswap does not poll
 * system or GPU statistics: 503 with `enabled: false`, as llama-swap answers
 * when its polling is off), and `POST /api/inflight/<id>/cancel`, which ends a
 * request being served (its id is the one the event feed and the activity
 * history show).
 */
import type { ServerResponse } from 'node:http';
import { ProxyError } from '../errors.ts';
import { packageVersion } from '../version.ts';
import { sendJson } from './openai-error.ts';

/** Requests being served, by request id: what a cancel can reach. */
export class InFlightResponses {
  readonly #byId = new Map<number, ServerResponse>();

  /** `res` serves request `id` until it closes. */
  add(id: number, res: ServerResponse): void {
    this.#byId.set(id, res);
    res.once('close', () => {
      if (this.#byId.get(id) === res) this.#byId.delete(id);
    });
  }

  /** End request `id` now (its upstream request is aborted as for a client that left); false when it is not being served. */
  cancel(id: number): boolean {
    const res = this.#byId.get(id);
    if (res === undefined) return false;
    this.#byId.delete(id);
    res.destroy();
    return true;
  }
}

/** Answers one of these routes and returns true, or returns false when `path` is none of them. */
export function infoRoute(method: string, path: string, res: ServerResponse, inflight: InFlightResponses): boolean {
  if (method === 'GET' && path === '/api/version') {
    sendJson(res, 200, { version: packageVersion(), commit: 'unknown', build_date: 'unknown' });
    return true;
  }
  if (method === 'GET' && (path === '/api/performance' || path === '/api/hardware')) {
    sendJson(res, 503, { enabled: false, message: 'modelswap does not collect system or GPU statistics; see GET /metrics for its own' });
    return true;
  }
  const cancel = /^\/api\/inflight\/([^/]+)\/cancel$/.exec(path);
  if (method === 'POST' && cancel !== null) {
    const id = Number(cancel[1]);
    if (!Number.isSafeInteger(id) || !inflight.cancel(id)) {
      throw new ProxyError('NOT_FOUND', `no request ${JSON.stringify(cancel[1])} is being served`);
    }
    sendJson(res, 200, { msg: 'ok' });
    return true;
  }
  return false;
}
