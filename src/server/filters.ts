/**
 * The body forwarded for an inference request: the model's `filters`, then
 * `useModelName`, applied to a JSON body (other bodies only get the rename).
 *
 * Order, as in llama-swap:
 * 1. `stripParams`: the listed top-level keys are deleted;
 * 2. `setParams`: merged into the body;
 * 3. `setParamsByID[<requested id>]`: merged after setParams, so it wins.
 *    The requested id is the name the client sent (the model's id or an alias);
 * 4. `useModelName`: the top-level `model` value is replaced.
 * `model` is never stripped or set by 1-3 (the config drops it).
 *
 * Merging is deep, unlike llama-swap's top-level set: an object value is
 * merged key by key into an object already in the body (so
 * `chat_template_kwargs: { reasoning_effort: high }` keeps the client's other
 * `chat_template_kwargs`); any other value replaces what is there. Only the
 * edited members are re-serialized; every other member keeps its bytes.
 * A body with nothing to change is returned as it is.
 */
import type { ModelConfig } from '../config/types.ts';
import { editMembers, REMOVE } from './json-model.ts';
import type { Extracted } from './model-extract.ts';
import { rewriteModel } from './model-extract.ts';
import { isMap } from '../config/is-map.ts';

/** `base` with `patch` merged into it (objects key by key, recursively); neither is modified. */
export function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isMap(base) || !isMap(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    Object.defineProperty(out, k, { value: deepMerge(Object.hasOwn(base, k) ? base[k] : undefined, v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Steps 1-3 on a JSON body: the members to change (REMOVE or the new value),
 * or undefined when nothing changes. `json` is `body` parsed.
 */
export function filterEdits(json: Readonly<Record<string, unknown>>, requested: string, filters: ModelConfig['filters']): Map<string, unknown> | undefined {
  const byId = filters.setParamsByID.get(requested);
  if (filters.stripParams.length === 0 && filters.setParams === undefined && byId === undefined) return undefined;
  const edits = new Map<string, unknown>();
  // 1.
  for (const key of filters.stripParams) if (Object.hasOwn(json, key)) edits.set(key, REMOVE);
  // 2. and 3.
  for (const layer of [filters.setParams, byId]) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      const current = edits.has(key) ? edits.get(key) : Object.hasOwn(json, key) ? json[key] : undefined;
      edits.set(key, deepMerge(current === REMOVE ? undefined : current, value));
    }
  }
  return edits.size === 0 ? undefined : edits;
}

/** Steps 1-4: the body to forward for `model`, given what `extractModel` found in it. */
export function forwardedBody(ex: Extracted, contentType: string | undefined, body: Buffer, model: ModelConfig): Buffer {
  const edits = ex.json === undefined ? undefined : filterEdits(ex.json, ex.model, model.filters);
  const filtered = edits === undefined ? body : editMembers(body, edits);
  // 4.
  return model.useModelName === undefined ? filtered : rewriteModel(ex, contentType, filtered, model.useModelName);
}
