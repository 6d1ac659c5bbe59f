/**
 * `models.<id>.simulate`: load and stop times for `modelswap simulate`. The
 * defaults are the schema's (the schema is the source of truth), applied here
 * too because the validator fills in defaults only inside a block that is
 * present, and most models have no `simulate` block at all.
 */
import type { RawModel } from './raw.ts';
import { configSchema } from './schema.ts';
import type { ModelSimulate } from './types.ts';

interface SimulateSchema {
  readonly definitions: { readonly model: { readonly properties: { readonly simulate: { readonly properties: Record<keyof ModelSimulate, { readonly default: number }> } } } };
}

/** The schema's defaults for `simulate.loadMs` and `simulate.stopMs`. */
export function simulateDefaults(): ModelSimulate {
  const props = (configSchema() as unknown as SimulateSchema).definitions.model.properties.simulate.properties;
  return { loadMs: props.loadMs.default, stopMs: props.stopMs.default };
}

/** The block as validated (or undefined when absent or reported broken), with defaults for missing keys. */
export function normalizeSimulate(raw: RawModel['simulate']): ModelSimulate {
  const d = simulateDefaults();
  return {
    loadMs: typeof raw?.loadMs === 'number' ? raw.loadMs : d.loadMs,
    stopMs: typeof raw?.stopMs === 'number' ? raw.stopMs : d.stopMs,
  };
}
