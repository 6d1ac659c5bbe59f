/**
 * `peers`: other OpenAI-compatible servers (another modelswap, llama-swap, a
 * hosted API) and the models they serve, and the names that reach them.
 *
 * Naming rules, as llama-swap has them:
 * 1. every peer model is reachable as `<peer>/<model>` (its fully qualified
 *    name); two peers whose names would give the same one are an issue, and
 *    so is a model id, alias, selector id or profile pin that equals one;
 * 2. the bare `<model>` also reaches it when exactly one peer serves a model
 *    of that id and no local model id or alias is spelled so (local names win).
 */
import type { IssueList, KeyPath } from './issues.ts';
import { MODEL_TIMEOUTS, normalizeFilters, normalizeTimeouts } from './model-options.ts';
import type { RawConfig } from './raw.ts';
import type { ModelTimeouts, PeerConfig, PeerRoute } from './types.ts';
import { isMap } from './is-map.ts';

/** Peers wait at most a minute for response headers unless told otherwise (a hosted API that hangs should fail). */
export const PEER_TIMEOUTS: ModelTimeouts = { connectMs: MODEL_TIMEOUTS.connectMs, responseHeaderMs: 60_000 };

export function peerFqn(peer: string, model: string): string {
  return `${peer}/${model}`;
}

function proxyUrl(text: string, path: KeyPath, issues: IssueList): string {
  let ok = false;
  try {
    const u = new URL(text);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok) issues.add(path, `expected an http(s) URL such as http://192.168.1.23:8080, got ${JSON.stringify(text)}`, text);
  return text.replace(/\/+$/, '');
}

/** Local names a peer's fully qualified name must not equal. */
export interface TakenNames {
  readonly ids: ReadonlySet<string>;
  readonly aliases: ReadonlyMap<string, string>;
}

export function normalizePeers(raw: RawConfig, local: TakenNames, issues: IssueList, warnings: IssueList): { peers: Map<string, PeerConfig>; peerModels: Map<string, PeerRoute> } {
  const peers = new Map<string, PeerConfig>();
  const peerModels = new Map<string, PeerRoute>();
  const given = isMap(raw.peers) ? raw.peers : {};
  const bare = new Map<string, PeerRoute[]>();
  for (const id of Object.keys(given).sort()) {
    const path = ['peers', id];
    if (issues.atOrAbove(path) || issues.under(path)) continue;
    const p = given[id]!;
    const models = [...new Set(p.models)];
    const peer: PeerConfig = {
      id,
      proxy: proxyUrl(p.proxy, [...path, 'proxy'], issues),
      apiKey: p.apiKey === undefined || p.apiKey === '' ? undefined : p.apiKey,
      models,
      filters: normalizeFilters(p.filters),
      timeouts: normalizeTimeouts(p.timeouts, path, warnings, PEER_TIMEOUTS),
    };
    peers.set(id, peer);
    models.forEach((model) => {
      const route: PeerRoute = { peer: id, model, fqn: peerFqn(id, model) };
      const at = [...path, 'models', p.models.indexOf(model)];
      const other = peerModels.get(route.fqn);
      // 1.
      if (other !== undefined) issues.add(at, `"${route.fqn}" is ambiguous: it also names model "${other.model}" of peer "${other.peer}"`, model);
      else if (local.ids.has(route.fqn)) issues.add(at, `"${route.fqn}" (this peer model's full name) is also a model id`, model);
      else if (local.aliases.has(route.fqn)) issues.add(at, `"${route.fqn}" (this peer model's full name) is also an alias of model "${local.aliases.get(route.fqn)}"`, model);
      else peerModels.set(route.fqn, route);
      bare.set(model, [...(bare.get(model) ?? []), route]);
    });
  }
  // 2.
  for (const [model, routes] of bare) {
    if (routes.length !== 1 || peerModels.has(model) || local.ids.has(model) || local.aliases.has(model)) continue;
    peerModels.set(model, routes[0]!);
  }
  return { peers, peerModels };
}

/** Rule 1 for names defined after the peers (selector ids, profile pins): an issue when `name` is a peer model's full name. */
export function checkNotPeerName(name: string, path: KeyPath, peerModels: ReadonlyMap<string, PeerRoute>, what: string, issues: IssueList): boolean {
  const route = peerModels.get(name);
  if (route === undefined || route.fqn !== name) return true;
  issues.add(path, `${what} "${name}" is the full name of model "${route.model}" of peer "${route.peer}"`, name);
  return false;
}
