/**
 * Requests for a peer's model: forwarded to the peer as they are (streaming
 * included), never through the router, so no local process starts or stops
 * for them.
 *
 * What is changed on the way:
 * 1. the body's `model` becomes the peer's own id for the model (a client
 *    may have asked for `<peer>/<model>`), in the body and in `?model=`;
 * 2. the peer's `filters` (stripParams, then setParams) edit a JSON body;
 * 3. with an `apiKey`, `Authorization: Bearer <key>` and `x-api-key: <key>`
 *    replace the client's headers of those names (the client's key is for
 *    this proxy, the peer's is for the peer).
 * A peer that cannot be reached gets a 502 naming the peer and its URL.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config, PeerConfig, PeerRoute } from '../config/types.ts';
import { filterEdits } from './filters.ts';
import { forward } from './forward.ts';
import { editMembers } from './json-model.ts';
import type { Extracted } from './model-extract.ts';
import { rewriteModel } from './model-extract.ts';
import { sendError } from './openai-error.ts';

/** Requests in flight per peer model (full name), for `/running`. */
export class PeerTraffic {
  readonly #inFlight = new Map<string, number>();

  begin(fqn: string): () => void {
    this.#inFlight.set(fqn, (this.#inFlight.get(fqn) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.#inFlight.get(fqn) ?? 1) - 1;
      if (n === 0) this.#inFlight.delete(fqn);
      else this.#inFlight.set(fqn, n);
    };
  }

  inFlight(fqn: string): number {
    return this.#inFlight.get(fqn) ?? 0;
  }
}

/** Steps 1 and 2: the body to send to the peer. `ex.model` is the name the request carries now. */
export function peerBody(ex: Extracted, contentType: string | undefined, body: Buffer, peer: PeerConfig, route: PeerRoute): Buffer {
  const edits = ex.json === undefined ? undefined : filterEdits(ex.json, ex.model, peer.filters);
  const filtered = edits === undefined ? body : editMembers(body, edits);
  return ex.model === route.model ? filtered : rewriteModel(ex, contentType, filtered, route.model);
}

/** Step 3. */
export function peerHeaders(peer: PeerConfig): readonly (readonly [string, string])[] | undefined {
  if (peer.apiKey === undefined) return undefined;
  return [['Authorization', `Bearer ${peer.apiKey}`], ['x-api-key', peer.apiKey]];
}

/** Forwards one request to the peer of `route`; `path` is the path and query to request there. */
export async function servePeer(config: Config, traffic: PeerTraffic, req: IncomingMessage, res: ServerResponse, route: PeerRoute, path: string, body: Buffer): Promise<void> {
  const peer = config.peers.get(route.peer)!;
  const upstreamName = `peer "${peer.id}" (${peer.proxy}) for model "${route.model}"`;
  const done = traffic.begin(route.fqn);
  try {
    const result = await forward({
      req, res, upstream: peer.proxy, path, body, model: route.fqn, timeouts: peer.timeouts, replaceHeaders: peerHeaders(peer), upstreamName,
    });
    // A peer is not ours to restart: refused or reset before any answer is a plain 502.
    if (result.unreachable !== undefined) sendError(res, result.unreachable);
  } finally {
    done();
  }
}

/** What `/running` shows of a peer model: marked `peer`, with the peer's URL, no process. */
export interface PeerRunning {
  readonly model: string;
  readonly state: 'peer';
  readonly peer: string;
  readonly proxy: string;
  readonly inFlight: number;
  readonly queued: 0;
}

/** Every peer model by its full name, in name order. */
export function peerRunning(config: Config, traffic: PeerTraffic): PeerRunning[] {
  const out: PeerRunning[] = [];
  for (const peer of config.peers.values()) {
    for (const model of peer.models) {
      const fqn = `${peer.id}/${model}`;
      if (config.peerModels.get(fqn)?.peer !== peer.id) continue;
      out.push({ model: fqn, state: 'peer', peer: peer.id, proxy: peer.proxy, inFlight: traffic.inFlight(fqn), queued: 0 });
    }
  }
  return out.sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
}
