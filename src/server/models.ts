/** Model name resolution and the OpenAI model list. */
import type { Config, PeerRoute, ProfileConfig } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import { capabilityFields, withoutCapabilityKeys } from './capabilities.ts';
import type { CapabilityFields } from './capabilities.ts';
import { quote } from './quote.ts';

/** Where a request goes once pins and selectors have been applied. */
export type Destination =
  | { readonly kind: 'local'; readonly model: string }
  | { readonly kind: 'peer'; readonly route: PeerRoute };

function notFound(config: Config, name: string): ProxyError {
  const available = [
    ...[...config.models.values()].filter((m) => !m.unlisted).map((m) => m.id),
    ...[...config.peerModels.entries()].filter(([n, r]) => n === r.fqn).map(([n]) => n),
    ...[...config.selectors.values()].filter((s) => !s.unlisted).map((s) => s.id),
  ];
  return new ProxyError('MODEL_NOT_FOUND', `model ${quote(name)} not found; available models: ${available.length > 0 ? available.join(', ') : '(none configured)'}`);
}

/**
 * A name -> where it is served, in this order: a model id, an alias, a peer
 * model's full name or the bare id one peer alone serves (the config already
 * left out bare ids a local name takes). MODEL_NOT_FOUND otherwise.
 */
export function resolveDestination(config: Config, name: string): Destination {
  if (config.models.has(name)) return { kind: 'local', model: name };
  const viaAlias = config.aliases.get(name);
  if (viaAlias !== undefined) return { kind: 'local', model: viaAlias };
  const route = config.peerModels.get(name);
  if (route !== undefined) return { kind: 'peer', route };
  throw notFound(config, name);
}

/** A configured id or alias -> model id (for routes that act on local processes); MODEL_NOT_FOUND otherwise. */
export function resolveModel(config: Config, name: string): string {
  const d = resolveDestination(config, name);
  if (d.kind === 'local') return d.model;
  throw new ProxyError('MODEL_NOT_FOUND', `${quote(name)} is model "${d.route.model}" of peer "${d.route.peer}", not a local model`);
}

export interface ModelRecord {
  readonly id: string;
  readonly object: 'model';
  readonly created: number;
  readonly owned_by: 'modelswap';
  readonly name?: string;
  readonly description?: string;
  readonly architecture?: CapabilityFields['architecture'];
  readonly capabilities?: CapabilityFields['capabilities'];
  readonly supported_parameters?: readonly string[];
  readonly context_length?: number;
  readonly meta: { readonly llamaswap: Readonly<Record<string, unknown>>; readonly n_ctx?: number };
  readonly status: { readonly value: 'loaded' | 'unloaded' };
}

/**
 * `GET /v1/models`: listed models, sorted by id. Aliases get their own
 * entry with includeAliasesInList; the ids a model's setParamsByID adds
 * always do (each is a variant of the model with its own parameters).
 * Then, as llama-swap lists them: every peer model by its full name (type
 * `peer`, always "unloaded": its state is the peer's business), every listed
 * selector (type `selector`, "loaded" when a target it would choose is ready
 * or starting), and the active profile's pins that are not already an id
 * (type `profile`).
 */
export function listModels(config: Config, status: (model: string) => string, created: number, profile?: ProfileConfig): { object: 'list'; data: ModelRecord[] } {
  const data: ModelRecord[] = [];
  const loaded = (model: string): boolean => status(model) !== 'stopped';
  const base = (id: string, o: { name?: string | undefined; description?: string | undefined; loaded: boolean }): Omit<ModelRecord, 'meta'> => {
    const name = o.name?.trim();
    const description = o.description?.trim();
    return {
      id, object: 'model', created, owned_by: 'modelswap',
      ...(name !== undefined && name !== '' ? { name } : {}),
      ...(description !== undefined && description !== '' ? { description } : {}),
      status: { value: o.loaded ? 'loaded' : 'unloaded' },
    };
  };
  const record = (id: string, model: string, type: 'model' | 'alias'): ModelRecord => {
    const m = config.models.get(model)!;
    const caps = capabilityFields(m.capabilities);
    const meta: Record<string, unknown> = { ...withoutCapabilityKeys(m.metadata, m.capabilities !== undefined), type };
    if (type === 'alias') meta['modelID'] = model;
    else if (m.aliases.length > 0) meta['aliases'] = m.aliases;
    const { status: st, ...rest } = base(id, { name: m.name, description: m.description, loaded: loaded(model) });
    return { ...rest, ...caps, meta: { llamaswap: meta, ...(caps.context_length !== undefined ? { n_ctx: caps.context_length } : {}) }, status: st };
  };
  const ids = new Set<string>();
  for (const m of config.models.values()) {
    ids.add(m.id);
    for (const a of m.aliases) ids.add(a);
    if (m.unlisted) continue;
    data.push(record(m.id, m.id, 'model'));
    for (const a of m.aliases) {
      if (config.includeAliasesInList || m.filters.setParamsByID.has(a)) data.push(record(a, m.id, 'alias'));
    }
  }
  for (const [name, route] of config.peerModels) {
    ids.add(name);
    if (name !== route.fqn) continue;
    data.push({ ...base(name, { name: `${route.peer}: ${route.model}`, loaded: false }), meta: { llamaswap: { type: 'peer', peerID: route.peer } } });
  }
  for (const s of config.selectors.values()) {
    ids.add(s.id);
    if (s.unlisted) continue;
    const candidates = s.strategy === 'pin' ? s.targets.slice(0, 1) : s.targets;
    const warm = candidates.some((t) => {
      const local = config.models.has(t) ? t : config.aliases.get(t);
      const st = local === undefined ? 'stopped' : status(local);
      return st === 'ready' || st === 'starting';
    });
    const meta = { ...s.metadata, type: 'selector', strategy: s.strategy, targets: s.targets, ...(s.strategy === 'spillover' ? { spillover: s.spillover } : {}) };
    data.push({ ...base(s.id, { name: s.name, description: s.description, loaded: warm }), meta: { llamaswap: meta } });
  }
  for (const [pin, target] of profile?.pins ?? []) {
    if (target === null || ids.has(pin)) continue;
    data.push({ ...base(pin, { loaded: false }), meta: { llamaswap: { type: 'profile' } } });
  }
  data.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { object: 'list', data };
}
