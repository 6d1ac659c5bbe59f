/**
 * Normalization of a model's optional blocks: `filters`, `timeouts`,
 * `capabilities` and `compat`. Each reads a block the schema has checked
 * (or, when the schema found a problem there, skips it: the problem is
 * reported once) and returns the public shape from types.ts.
 */
import type { IssueList, KeyPath } from './issues.ts';
import type { RawFilters, RawModel } from './raw.ts';
import type { ModelCapabilities, ModelFilters, ModelTimeouts } from './types.ts';

/** Never stripped and never set by filters: the proxy routes on it. */
export const PROTECTED_PARAMS: ReadonlySet<string> = new Set(['model']);

const ms = (seconds: number): number => Math.round(seconds * 1000);

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A copy of `params` without the protected keys; undefined when nothing is left. */
function unprotected(params: unknown): Readonly<Record<string, unknown>> | undefined {
  if (!isMap(params)) return undefined;
  const out = Object.fromEntries(Object.entries(params).filter(([k]) => !PROTECTED_PARAMS.has(k)));
  return Object.keys(out).length === 0 ? undefined : out;
}

/** `a, b ,a` -> [a, b]: trimmed, sorted, no empties, no repeats, `model` dropped. */
export function parseStripParams(list: string): string[] {
  const names = list.split(',').map((p) => p.trim()).filter((p) => p !== '' && !PROTECTED_PARAMS.has(p));
  return [...new Set(names)].sort();
}

/**
 * `filters`: `stripParams` (or, when it is empty, the legacy `strip_params`),
 * `setParams` and `setParamsByID`. A key of setParamsByID that is not the
 * model's id becomes an alias: normalize.ts registers it. `broken(key)`: an
 * earlier phase reported that setParamsByID entry, so it is left out.
 */
export function normalizeFilters(raw: RawFilters | undefined, broken: (key: string) => boolean = () => false): ModelFilters {
  const strip = raw?.stripParams !== undefined && raw.stripParams.trim() !== '' ? raw.stripParams : (raw?.strip_params ?? '');
  const byId = new Map<string, Readonly<Record<string, unknown>>>();
  if (isMap(raw?.setParamsByID)) {
    for (const [id, params] of Object.entries(raw.setParamsByID)) if (!broken(id)) byId.set(id, unprotected(params) ?? {});
  }
  return { stripParams: typeof strip === 'string' ? parseStripParams(strip) : [], setParams: unprotected(raw?.setParams), setParamsByID: byId };
}

/** The keys of `timeouts` modelswap applies, and a warning naming the others when they are set. */
/** A model's timeouts when it sets none: connect 30 s, no limit on the response headers (a model may think for minutes). */
export const MODEL_TIMEOUTS: ModelTimeouts = { connectMs: 30_000, responseHeaderMs: 0 };

export function normalizeTimeouts(raw: RawModel['timeouts'], path: KeyPath, warnings: IssueList, defaults: ModelTimeouts = MODEL_TIMEOUTS): ModelTimeouts {
  const ignored = (['keepalive', 'tlsHandshake', 'expectContinue', 'idleConn'] as const).filter((k) => raw?.[k] !== undefined);
  if (ignored.length > 0) {
    warnings.add(
      [...path, 'timeouts'],
      `timeouts.${ignored.join(', timeouts.')} accepted but not applied: modelswap's shared upstream connection pool keeps its own settings (only connect and responseHeader are per model or peer)`,
    );
  }
  const connect = raw?.connect;
  const header = raw?.responseHeader;
  return {
    connectMs: typeof connect === 'number' ? ms(connect) : defaults.connectMs,
    responseHeaderMs: typeof header === 'number' ? ms(header) : defaults.responseHeaderMs,
  };
}

/** `capabilities`, or undefined when the block is absent or has only empty values (as llama-swap treats it). */
export function normalizeCapabilities(raw: RawModel['capabilities']): ModelCapabilities | undefined {
  if (!isMap(raw)) return undefined;
  const caps: ModelCapabilities = {
    in: Array.isArray(raw.in) ? [...raw.in] : [],
    out: Array.isArray(raw.out) ? [...raw.out] : [],
    tools: raw.tools === true,
    reranker: raw.reranker === true,
    context: typeof raw.context === 'number' ? raw.context : 0,
  };
  const empty = caps.in.length === 0 && caps.out.length === 0 && !caps.tools && !caps.reranker && caps.context === 0;
  return empty ? undefined : caps;
}

/**
 * `compat.ignoreWebsockets`: upgrades on /upstream never start the model and
 * are not counted (served only while it is ready). The model id
 * `comfyui_auto` always has it, as in llama-swap.
 */
export function normalizeIgnoreWebsockets(raw: RawModel['compat'], id: string): boolean {
  return raw?.ignoreWebsockets === true || id === COMFYUI_MODEL;
}

/** The model id llama-swap serves at /comfyui/. */
export const COMFYUI_MODEL = 'comfyui_auto';
