/** Model name resolution and the OpenAI model list. */
import type { Config } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import { capabilityFields, withoutCapabilityKeys } from './capabilities.ts';
import type { CapabilityFields } from './capabilities.ts';
import { quote } from './quote.ts';

/** A configured id or alias -> model id; MODEL_NOT_FOUND (listing what exists) otherwise. */
export function resolveModel(config: Config, name: string): string {
  if (config.models.has(name)) return name;
  const viaAlias = config.aliases.get(name);
  if (viaAlias !== undefined) return viaAlias;
  const available = [...config.models.values()].filter((m) => !m.unlisted).map((m) => m.id);
  const shown = quote(name);
  throw new ProxyError(
    'MODEL_NOT_FOUND',
    `model ${shown} not found; available models: ${available.length > 0 ? available.join(', ') : '(none configured)'}`,
  );
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
 */
export function listModels(config: Config, status: (model: string) => string, created: number): { object: 'list'; data: ModelRecord[] } {
  const data: ModelRecord[] = [];
  const record = (id: string, model: string, type: 'model' | 'alias'): ModelRecord => {
    const m = config.models.get(model)!;
    const caps = capabilityFields(m.capabilities);
    const meta: Record<string, unknown> = { ...withoutCapabilityKeys(m.metadata, m.capabilities !== undefined), type };
    if (type === 'alias') meta['modelID'] = model;
    else if (m.aliases.length > 0) meta['aliases'] = m.aliases;
    const name = m.name?.trim();
    const description = m.description?.trim();
    return {
      id, object: 'model', created, owned_by: 'modelswap',
      ...(name !== undefined && name !== '' ? { name } : {}),
      ...(description !== undefined && description !== '' ? { description } : {}),
      ...caps,
      meta: { llamaswap: meta, ...(caps.context_length !== undefined ? { n_ctx: caps.context_length } : {}) },
      status: { value: status(model) === 'stopped' ? 'unloaded' : 'loaded' },
    };
  };
  for (const m of config.models.values()) {
    if (m.unlisted) continue;
    data.push(record(m.id, m.id, 'model'));
    for (const a of m.aliases) {
      if (config.includeAliasesInList || m.filters.setParamsByID.has(a)) data.push(record(a, m.id, 'alias'));
    }
  }
  data.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { object: 'list', data };
}
