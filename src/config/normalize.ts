/**
 * Phase: turn the validated, macro-expanded tree into the public `Config`
 * (src/config/types.ts): seconds -> milliseconds, "0 means default" resolved,
 * commands split into argv, names resolved, cross-model rules checked
 * (unique aliases, one group per model). Every problem is reported; the
 * returned Config is only meaningful when no issue was added.
 *
 * It also runs after earlier phases found problems (so one load lists them
 * all): a value with an issue at or below its path is not checked again and
 * gets a placeholder, so each problem is reported once.
 */
import { normalizeActivity } from './activity.ts';
import { splitCommand } from './command.ts';
import { checkDeviceMacro } from './device-macro.ts';
import { defaultProxyWithoutPort } from './expand.ts';
import type { IssueList, KeyPath } from './issues.ts';
import { setOwn } from './macros.ts';
import { COMFYUI_MODEL, normalizeCapabilities, normalizeFilters, normalizeIgnoreWebsockets, normalizeTimeouts } from './model-options.ts';
import type { RawConfig, RawModel } from './raw.ts';
import { normalizePeers } from './peers.ts';
import { normalizeProfiles } from './profiles.ts';
import { normalizeGroups, normalizePreload, normalizeRouter, normalizeScheduler, routerWarnings, usesGroups } from './routing.ts';
import { normalizeSelectors } from './selectors.ts';
import { normalizeSimulate } from './simulate-options.ts';
import { configSchema } from './schema.ts';
import type { Config, ModelConfig } from './types.ts';

/** Used when `concurrencyLimit` is 0 or absent. */
export const DEFAULT_CONCURRENCY_LIMIT = 10;
/** Used when the global `unloadTimeout` is 0. */
export const DEFAULT_UNLOAD_TIMEOUT_S = 10;

const ms = (seconds: number): number => Math.round(seconds * 1000);

interface Globals {
  readonly sendLoadingState: boolean;
  readonly globalTTL: number;
  readonly unloadTimeout: number;
  readonly healthCheckTimeout: number;
}

function argv(text: string, path: KeyPath, issues: IssueList): string[] {
  const split = splitCommand(text);
  if (split.ok) return split.argv;
  issues.add(path, split.error, text);
  return [];
}

function proxyUrl(text: string, path: KeyPath, issues: IssueList): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    issues.add(path, `expected an http(s) URL such as http://127.0.0.1:8080, got ${JSON.stringify(text)}`, text);
  }
  return text.replace(/\/+$/, '');
}

function checkEndpoint(text: string, path: KeyPath, issues: IssueList): string | null {
  if (text === 'none') return null;
  if (/^[a-z]+:\/\//i.test(text)) {
    issues.add(path, `expected a path such as /health (it is appended to proxy) or none, got ${JSON.stringify(text)}`, text);
  }
  return text.startsWith('/') ? text : `/${text}`;
}

function envRecord(lines: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    setOwn(env, line.slice(0, eq), line.slice(eq + 1)); // later entries win, as with Go's exec
  }
  return env;
}

const orUndefined = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

function normalizeModel(id: string, raw: RawModel, g: Globals, issues: IssueList, warnings: IssueList): ModelConfig {
  const path = ['models', id];
  /** The value of `key` when no earlier phase reported a problem at, above or below it. */
  const ok = <K extends keyof RawModel>(key: K): RawModel[K] | undefined => (issues.touches([...path, key]) ? undefined : raw[key]);
  const text = (key: 'cmd' | 'cmdStop' | 'proxy' | 'checkEndpoint'): string | undefined => {
    const v = ok(key);
    return typeof v === 'string' ? v : undefined;
  };
  const num = (key: 'ttl' | 'unloadTimeout' | 'concurrencyLimit', fallback: number): number => {
    const v = ok(key);
    return typeof v === 'number' ? v : fallback;
  };
  const cmd = text('cmd');
  const stop = text('cmdStop') ?? '';
  const proxy = text('proxy');
  const check = text('checkEndpoint');
  const ttl = num('ttl', -1);
  const unload = num('unloadTimeout', 0);
  const limit = num('concurrencyLimit', 0);
  return {
    id,
    cmd: cmd === undefined ? [] : argv(cmd, [...path, 'cmd'], issues),
    cmdStop: stop.trim() === '' ? undefined : argv(stop, [...path, 'cmdStop'], issues),
    // A proxy still holding ${...} was reported by the macro phase, or left alone because cmd was broken.
    proxy: proxy === undefined || proxy.includes('${') ? '' : proxyUrl(proxy, [...path, 'proxy'], issues),
    checkEndpoint: check === undefined ? null : checkEndpoint(check, [...path, 'checkEndpoint'], issues),
    env: envRecord(Array.isArray(ok('env')) ? (raw.env ?? []) : []),
    ttlMs: ms(ttl === -1 ? g.globalTTL : ttl),
    unloadTimeoutMs: ms(unload === 0 ? g.unloadTimeout : unload),
    healthCheckTimeoutMs: ms(g.healthCheckTimeout),
    aliases: Array.isArray(ok('aliases')) ? [...(raw.aliases ?? [])] : [],
    useModelName: orUndefined(ok('useModelName')),
    unlisted: ok('unlisted') === true,
    name: orUndefined(ok('name')),
    description: orUndefined(ok('description')),
    metadata: raw.metadata === undefined || ok('metadata') === undefined ? undefined : { ...raw.metadata },
    // comfyui_auto: a UI opens many connections at once (llama-swap raises its limit to at least 50).
    concurrencyLimit: Math.max(limit === 0 ? DEFAULT_CONCURRENCY_LIMIT : limit, id === COMFYUI_MODEL ? 50 : 0),
    filters: normalizeFilters(issues.atOrAbove([...path, 'filters']) ? undefined : raw.filters, (key) => issues.touches([...path, 'filters', 'setParamsByID', key])),
    timeouts: normalizeTimeouts(ok('timeouts'), path, warnings),
    capabilities: normalizeCapabilities(ok('capabilities')),
    ignoreWebsockets: normalizeIgnoreWebsockets(ok('compat'), id),
    sendLoadingState: typeof ok('sendLoadingState') === 'boolean' ? raw.sendLoadingState === true : g.sendLoadingState,
    startError: proxy?.includes('${PORT}') === true ? defaultProxyWithoutPort(id) : undefined,
    simulate: normalizeSimulate(ok('simulate')),
  };
}

/**
 * Alias -> model id, in two rounds as llama-swap registers them:
 * 1. every `aliases` entry: one that is a model id or is used twice is an issue;
 * 2. every `filters.setParamsByID` key other than the model's own id: it
 *    becomes an alias of its model (appended to the model's `aliases`); a key
 *    that is another model's id or alias is an issue.
 */
function aliasMap(models: Map<string, ModelConfig>, issues: IssueList): Map<string, string> {
  const aliases = new Map<string, string>();
  // 1.
  for (const [id, model] of models) {
    model.aliases.forEach((alias, i) => {
      const path = ['models', id, 'aliases', i];
      const owner = aliases.get(alias);
      if (models.has(alias)) issues.add(path, `alias "${alias}" is also a model id`, alias);
      else if (owner === id) issues.add(path, `alias "${alias}" is listed twice`, alias);
      else if (owner !== undefined) issues.add(path, `alias "${alias}" is already used by model "${owner}"`, alias);
      else aliases.set(alias, id);
    });
  }
  // 2.
  for (const [id, model] of models) {
    const added: string[] = [];
    for (const key of model.filters.setParamsByID.keys()) {
      if (key === id) continue;
      const path = ['models', id, 'filters', 'setParamsByID', key];
      const owner = aliases.get(key);
      if (models.has(key)) issues.add(path, `"${key}" is the id of another model: setParamsByID keys become aliases of this model`, key);
      else if (owner !== undefined && owner !== id) issues.add(path, `"${key}" is already an alias of model "${owner}": setParamsByID keys become aliases of this model`, key);
      else if (owner === undefined) {
        aliases.set(key, id);
        added.push(key);
      }
    }
    if (added.length > 0) models.set(id, { ...model, aliases: [...model.aliases, ...added] });
  }
  return aliases;
}

function ignorePaths(raw: RawConfig, issues: IssueList): RegExp[] {
  const schema = configSchema() as { properties: { upstream: { properties: { ignorePaths: { default: string[] } } } } };
  const given = raw.upstream?.ignorePaths;
  const patterns = Array.isArray(given) ? given : schema.properties.upstream.properties.ignorePaths.default;
  const out: RegExp[] = [];
  patterns.forEach((pattern, i) => {
    if (typeof pattern !== 'string') return;
    try {
      out.push(new RegExp(pattern));
    } catch (err) {
      issues.add(['upstream', 'ignorePaths', i], `not a valid regular expression: ${(err as Error).message}`, pattern);
    }
  });
  return out;
}

/**
 * Builds the Config from the macro-expanded tree. `warnings` receives the
 * accepted settings that have no effect; the caller adds them to the Config.
 * `orderOf` lists a map's keys in file order (matrix sets break ties by it).
 */
export function normalizeConfig(
  raw: RawConfig,
  issues: IssueList,
  warnings: IssueList,
  orderOf: (path: KeyPath) => readonly string[] | undefined = () => undefined,
): Omit<Config, 'warnings'> {
  const globals: Globals = {
    sendLoadingState: raw.sendLoadingState === true,
    globalTTL: raw.globalTTL,
    unloadTimeout: raw.unloadTimeout === 0 ? DEFAULT_UNLOAD_TIMEOUT_S : raw.unloadTimeout,
    healthCheckTimeout: raw.healthCheckTimeout,
  };
  const models = new Map<string, ModelConfig>();
  const rawModels = raw.models !== null && typeof raw.models === 'object' ? raw.models : {};
  for (const id of Object.keys(rawModels).sort()) {
    const m = rawModels[id];
    models.set(id, normalizeModel(id, (m !== null && typeof m === 'object' ? m : {}) as RawModel, globals, issues, warnings));
  }
  const aliases = aliasMap(models, issues);
  const names = { ids: new Set(models.keys()), aliases };
  routerWarnings(raw, warnings);
  if (raw.logRequests !== undefined) {
    warnings.add(['logRequests'], 'deprecated and ignored (as in llama-swap): remove it; every request is logged at logLevel: debug');
  }
  const groups = normalizeGroups(raw, names, issues);
  const scheduler = normalizeScheduler(raw, names, issues);
  const { peers, peerModels } = normalizePeers(raw, names, issues, warnings);
  const targetNames = { ...names, peerModels };
  const selectors = normalizeSelectors(raw, targetNames, { groups, scheduler, groupsUsed: usesGroups(raw) }, issues, warnings);
  const profiles = normalizeProfiles(raw, targetNames, new Set(Object.keys(raw.selectors ?? {})), issues);
  const router = normalizeRouter(raw, names, issues, warnings, orderOf);
  checkDeviceMacro(raw, router, issues);
  return {
    models,
    aliases,
    groups,
    router,
    scheduler,
    peers,
    peerModels,
    profiles,
    selectors,
    healthCheckTimeoutMs: ms(raw.healthCheckTimeout),
    logLevel: raw.logLevel,
    logToStdout: raw.logToStdout,
    apiKeys: Array.isArray(raw.apiKeys) ? [...raw.apiKeys] : [],
    includeAliasesInList: raw.includeAliasesInList,
    publicMetrics: raw.publicMetrics,
    recording: raw.recording,
    preload: normalizePreload(raw, names, issues, warnings).filter((id) => models.get(id)?.startError === undefined),
    maxBodyBytes: raw.maxBodyBytes,
    logTimeFormat: raw.logTimeFormat,
    upstreamIgnorePaths: ignorePaths(raw, issues),
    activity: normalizeActivity(raw),
  };
}
