/**
 * Phase: turn the validated, macro-expanded tree into the public `Config`
 * (src/config/types.ts): seconds -> milliseconds, "0 means default" resolved,
 * commands split into argv, names resolved, cross-model rules checked
 * (unique aliases, one group per model). Every problem is reported; the
 * returned Config is only meaningful when no issue was added.
 */
import { splitCommand } from './command.ts';
import type { IssueList, KeyPath } from './issues.ts';
import { setOwn } from './macros.ts';
import type { RawConfig, RawModel } from './raw.ts';
import { normalizeGroups, normalizePreload, normalizeScheduler } from './routing.ts';
import type { Config, ModelConfig } from './types.ts';

/** Used when `concurrencyLimit` is 0 or absent. */
export const DEFAULT_CONCURRENCY_LIMIT = 10;
/** Used when the global `unloadTimeout` is 0. */
export const DEFAULT_UNLOAD_TIMEOUT_S = 10;

const ms = (seconds: number): number => Math.round(seconds * 1000);

interface Globals {
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

function normalizeModel(id: string, raw: RawModel, g: Globals, issues: IssueList): ModelConfig {
  const path = ['models', id];
  const stop = raw.cmdStop ?? '';
  return {
    id,
    cmd: argv(raw.cmd, [...path, 'cmd'], issues),
    cmdStop: stop.trim() === '' ? undefined : argv(stop, [...path, 'cmdStop'], issues),
    proxy: proxyUrl(raw.proxy, [...path, 'proxy'], issues),
    checkEndpoint: checkEndpoint(raw.checkEndpoint, [...path, 'checkEndpoint'], issues),
    env: envRecord(raw.env ?? []),
    ttlMs: ms(raw.ttl === -1 ? g.globalTTL : raw.ttl),
    unloadTimeoutMs: ms(raw.unloadTimeout === 0 ? g.unloadTimeout : raw.unloadTimeout),
    healthCheckTimeoutMs: ms(g.healthCheckTimeout),
    aliases: [...(raw.aliases ?? [])],
    useModelName: orUndefined(raw.useModelName),
    unlisted: raw.unlisted,
    name: orUndefined(raw.name),
    description: orUndefined(raw.description),
    metadata: raw.metadata === undefined ? undefined : { ...raw.metadata },
    concurrencyLimit: raw.concurrencyLimit === 0 ? DEFAULT_CONCURRENCY_LIMIT : raw.concurrencyLimit,
  };
}

/** Alias -> model id; an alias that is a model id or is used twice is an issue. */
function aliasMap(models: ReadonlyMap<string, ModelConfig>, issues: IssueList): Map<string, string> {
  const aliases = new Map<string, string>();
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
  return aliases;
}

/** Builds the Config from a tree that passed both schema passes and macro expansion. */
export function normalizeConfig(raw: RawConfig, issues: IssueList): Config {
  const globals: Globals = {
    globalTTL: raw.globalTTL,
    unloadTimeout: raw.unloadTimeout === 0 ? DEFAULT_UNLOAD_TIMEOUT_S : raw.unloadTimeout,
    healthCheckTimeout: raw.healthCheckTimeout,
  };
  const models = new Map<string, ModelConfig>();
  for (const id of Object.keys(raw.models).sort()) {
    models.set(id, normalizeModel(id, raw.models[id] as RawModel, globals, issues));
  }
  const aliases = aliasMap(models, issues);
  const names = { ids: new Set(models.keys()), aliases };
  return {
    models,
    aliases,
    groups: normalizeGroups(raw, names, issues),
    scheduler: normalizeScheduler(raw, names, issues),
    healthCheckTimeoutMs: ms(raw.healthCheckTimeout),
    logLevel: raw.logLevel,
    logToStdout: raw.logToStdout,
    apiKeys: [...(raw.apiKeys ?? [])],
    includeAliasesInList: raw.includeAliasesInList,
    preload: normalizePreload(raw, names, issues),
    maxBodyBytes: raw.maxBodyBytes,
  };
}
