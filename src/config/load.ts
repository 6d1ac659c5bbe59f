/**
 * Config loading: YAML text in, validated, normalized, deep-frozen `Config` out.
 *
 * Pipeline (the schema is the source of truth; nothing is mutated after the
 * freeze). Every phase runs, even after an earlier one found problems, so one
 * load reports every problem at once, each with its key path and line; a
 * later phase leaves out what would only repeat an earlier problem. Only a
 * YAML syntax error stops early (there is no tree to check).
 * 1. `${env.NAME}` substitution on the raw text (env.ts). An unset variable
 *    is an issue and its reference stays in the text.
 * 2. YAML parse (yaml-doc.ts).
 * 3. Schema validation, raw pass: shapes and unknown keys, defaults filled in
 *    (schema.ts, schema/config.schema.json).
 * 4. Macro expansion and ${PORT} assignment (expand.ts, macros.ts).
 * 5. Schema validation, expanded pass: values produced by macros.
 * 6. Normalization and cross-model checks (normalize.ts, routing.ts), and the
 *    warnings about accepted settings that have no effect (warnings.ts).
 * 7. With no issue: deep freeze (freeze.ts). Otherwise one ConfigError.
 *
 * Several files (`--config-dir`) each go through phases 1 and 2 on their own,
 * are merged (merge-dir.ts), and the result goes through phases 3 to 7.
 */
import { readFile } from 'node:fs/promises';
import { substituteEnv } from './env.ts';
import { expandConfig } from './expand.ts';
import { deepFreeze } from './freeze.ts';
import { IssueList } from './issues.ts';
import type { ConfigIssue, KeyPath } from './issues.ts';
import { listConfigDir, mergeSources, sameFile } from './merge-dir.ts';
import { normalizeConfig } from './normalize.ts';
import type { RawConfig } from './raw.ts';
import { validateShape } from './schema.ts';
import type { Config } from './types.ts';
import { inactiveKeyWarnings } from './warnings.ts';
import { keyOrder, lineOf, parseYaml, toData } from './yaml-doc.ts';
import type { ParsedYaml } from './yaml-doc.ts';
import { isMap } from './is-map.ts';

export type { ConfigIssue } from './issues.ts';

/** Environment used for `${env.NAME}`. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export interface ParseConfigOptions {
  /** Variables for `${env.NAME}`; default `process.env`. */
  readonly env?: ConfigEnv;
  /** Where the text came from (a file path), shown in the error message. */
  readonly source?: string;
}

function formatIssue(issue: ConfigIssue): string {
  const at = [issue.file, issue.line === undefined ? undefined : `line ${issue.line}`].filter((x) => x !== undefined);
  const line = at.length === 0 ? '' : ` (${at.join(' ')})`;
  return `  - ${issue.path === '' ? '(config)' : issue.path}${line}: ${issue.message}`;
}

/** Every problem of one config, listed one per line in `message`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** At least one. */
  readonly issues: readonly ConfigIssue[];
  /** The `source` the text came from, if known. */
  readonly source: string | undefined;

  constructor(issues: readonly ConfigIssue[], source?: string, options?: { readonly cause?: unknown }) {
    const where = source === undefined ? '' : ` ${source}`;
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`invalid config${where} (${count}):\n${issues.map(formatIssue).join('\n')}`, options);
    this.issues = Object.freeze([...issues]);
    this.source = source;
  }
}

/** A value still holding `${env.NAME}`: its unset variable was reported by phase 1. */
const hasEnvRef = (value: unknown): boolean => typeof value === 'string' && value.includes('${env.');

/**
 * Parses config text. Throws ConfigError listing every problem (see the file
 * comment); never returns a partial Config. Accepted settings that have no
 * effect are listed in the returned Config's `warnings`.
 */
export function parseConfig(text: string, options: ParseConfigOptions = {}): Config {
  const issues = new IssueList();
  const parsed = parseSource(text, options.env ?? process.env, options.source, issues);
  return buildConfig(
    { data: toData(parsed), keyOrder: (path) => keyOrder(parsed, path), lineOf: (path) => lineOf(parsed, path), fileOf: () => undefined },
    options.source,
    issues,
  );
}

/**
 * Phases 1 and 2 of one text. Unset variables are added to `issues` (the
 * later phases still run); a YAML syntax error throws ConfigError naming `source`.
 */
function parseSource(text: string, env: ConfigEnv, source: string | undefined, issues: IssueList): ParsedYaml {
  // 1.
  const substituted = substituteEnv(text, env, issues);
  // 2.
  const parsed = parseYaml(substituted, issues);
  if (parsed === undefined) throw new ConfigError(issues.toIssues(), source);
  return parsed;
}

/** Parsed data, with what the later phases need to know about where its keys came from. */
interface SourceView {
  readonly data: unknown;
  readonly keyOrder: (path: KeyPath) => string[] | undefined;
  readonly lineOf: (path: KeyPath) => number | undefined;
  readonly fileOf: (path: KeyPath) => string | undefined;
}

/** Phases 3 to 7, adding to the `issues` of phases 1 and 2. */
function buildConfig(src: SourceView, source: string | undefined, issues: IssueList): Config {
  const warnings = new IssueList();
  const { data } = src;
  // 3.
  const defaultProxy = modelsWithout(data, 'proxy');
  validateShape(data, 'raw', issues, (_path, value) => hasEnvRef(value));
  // 4.
  const expanded = expandConfig(isMap(data) ? data : {}, { orderOf: src.keyOrder, issues, warnings, defaultProxy });
  // 5.
  const before = issues.size;
  validateShape(expanded, 'expanded', issues, (path: KeyPath, value) => hasEnvRef(value) || issues.touches(path, before));
  // 6.
  let config: Omit<Config, 'warnings'> | undefined;
  try {
    config = normalizeConfig(expanded as unknown as RawConfig, issues, warnings, src.keyOrder);
  } catch (err) {
    // A shape an earlier phase reported can still trip a check here; the report is what matters then.
    if (issues.size === 0) throw err;
  }
  inactiveKeyWarnings(expanded, warnings);
  // 7.
  if (issues.size > 0 || config === undefined) throw new ConfigError(issues.toIssues(src.lineOf, src.fileOf), source);
  return deepFreeze({ ...config, warnings: warnings.toIssues(src.lineOf, src.fileOf) });
}

/** Ids of the models that do not set `key` (read before the schema fills in defaults). */
function modelsWithout(data: unknown, key: string): Set<string> {
  const models = isMap(data) ? data['models'] : undefined;
  if (!isMap(models)) return new Set();
  return new Set(Object.keys(models).filter((id) => { const m = models[id]; return !isMap(m) || m[key] === undefined || m[key] === null; }));
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([{ path: '', message: `cannot read config file: ${reason}` }], path, { cause: err });
  }
}

/** Reads and parses a config file; an unreadable file is a ConfigError too. */
export async function loadConfigFile(path: string, env: ConfigEnv = process.env): Promise<Config> {
  return parseConfig(await readText(path), { env, source: path });
}

/** Where a config comes from: a file, a directory of files merged after it, or both (at least one). */
export interface ConfigSources {
  readonly config?: string | undefined;
  readonly configDir?: string | undefined;
}

/** The files a `ConfigSources` reads, in merge order; a ConfigError if the directory cannot be listed or holds the `config` file. */
export function sourceFiles(sources: ConfigSources): string[] {
  const { config, configDir } = sources;
  if (configDir === undefined) return config === undefined ? [] : [config];
  let files: string[];
  try {
    files = listConfigDir(configDir);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([{ path: '', message: `cannot read config directory: ${reason}` }], configDir, { cause: err });
  }
  if (config === undefined) {
    if (files.length === 0) throw new ConfigError([{ path: '', message: 'no *.yml or *.yaml file in the config directory' }], configDir);
    return files;
  }
  const twice = sameFile(config, files);
  if (twice !== undefined) {
    throw new ConfigError([{ path: '', message: `the --config file is also in --config-dir (as ${twice}); it would be read twice, remove it from one` }], config);
  }
  return [config, ...files];
}

/**
 * Loads `--config` and/or every YAML file of `--config-dir`, merged by
 * merge-dir.ts's rules. With only `config` this is `loadConfigFile`. Each
 * file gets phases 1–2 on its own (its problems name it); the merged data
 * goes through phases 3–7, and each problem names the file and line of its key.
 */
export async function loadConfigSources(sources: ConfigSources, env: ConfigEnv = process.env): Promise<Config> {
  if (sources.configDir === undefined && sources.config !== undefined) return loadConfigFile(sources.config, env);
  const files = sourceFiles(sources);
  const parsed = new Map<string, ParsedYaml>();
  const envIssues = new Map<string, IssueList>();
  for (const file of files) {
    const own = new IssueList();
    parsed.set(file, parseSource(await readText(file), env, file, own));
    envIssues.set(file, own);
  }
  const label = files.length === 1 ? files[0] : `${sources.config === undefined ? '' : `${sources.config} + `}${sources.configDir}`;
  // Unset variables of each file are reported with that file's name (the merge below cannot place them).
  const unset = [...envIssues].flatMap(([file, list]) => list.toIssues().map((i) => ({ ...i, file })));
  if (unset.length > 0) throw new ConfigError(unset, label);
  const issues = new IssueList();
  const merged = mergeSources(files.map((file) => ({ file, data: toData(parsed.get(file)!) })), issues);
  const where = (path: KeyPath): { file: string; line: number | undefined } | undefined => {
    const place = merged.placeOf(path);
    const doc = place === undefined ? undefined : parsed.get(place.file);
    return place === undefined || doc === undefined ? undefined : { file: place.file, line: lineOf(doc, place.path) };
  };
  if (issues.size > 0) throw new ConfigError(issues.toIssues((p) => where(p)?.line, (p) => where(p)?.file), label);
  return buildConfig(
    {
      data: merged.data,
      // a map several files add to lists its keys in the order they were first seen
      keyOrder: (path) => {
        const keys: string[] = [];
        for (const doc of parsed.values()) {
          if (!doc.doc.hasIn(path)) continue;
          const own = keyOrder(doc, path);
          if (own === undefined) return undefined;
          for (const k of own) if (!keys.includes(k)) keys.push(k);
        }
        return keys;
      },
      lineOf: (path) => where(path)?.line,
      fileOf: (path) => where(path)?.file,
    },
    label,
    issues,
  );
}
