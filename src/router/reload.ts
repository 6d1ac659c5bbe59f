/**
 * What a config reload changes, model by model. A model is "kept" when
 * everything that shapes its process is the same; other fields (ttl, aliases,
 * name, limits, …) take effect without a restart.
 */
import type { ModelConfig } from '../config/types.ts';

export interface ModelDiff {
  /** Same process definition: keeps running and serving. */
  readonly kept: readonly string[];
  /** Process definition changed: the old process stops once its in-flight requests finish. */
  readonly changed: readonly string[];
  readonly added: readonly string[];
  /** Gone from the config: stops once its in-flight (and already waiting) requests finish. */
  readonly removed: readonly string[];
}

/** The fields whose change needs a new process. */
function processKey(m: ModelConfig): string {
  const env = Object.keys(m.env).sort().map((k) => [k, m.env[k]]);
  return JSON.stringify([m.cmd, m.cmdStop ?? null, m.proxy, m.checkEndpoint, env, m.healthCheckTimeoutMs, m.unloadTimeoutMs]);
}

export function diffModels(before: ReadonlyMap<string, ModelConfig>, after: ReadonlyMap<string, ModelConfig>): ModelDiff {
  const kept: string[] = [];
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [id, m] of after) {
    const old = before.get(id);
    if (old === undefined) added.push(id);
    else if (processKey(old) === processKey(m)) kept.push(id);
    else changed.push(id);
  }
  for (const id of before.keys()) if (!after.has(id)) removed.push(id);
  return { kept, changed, added, removed };
}
