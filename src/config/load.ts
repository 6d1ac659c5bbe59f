/**
 * Config loading: YAML text in, validated, normalized, deep-frozen `Config` out.
 *
 * Pipeline (the schema is the source of truth; nothing is mutated after the
 * freeze); each phase reports every problem it finds,
 * and the first phase with problems stops the pipeline with one ConfigError:
 * 1. `${env.NAME}` substitution on the raw text (env.ts).
 * 2. YAML parse (yaml-doc.ts).
 * 3. Schema validation, raw pass: shapes, unknown and unsupported keys,
 *    defaults filled in (schema.ts, schema/config.schema.json).
 * 4. Macro expansion and ${PORT} assignment (expand.ts, macros.ts).
 * 5. Schema validation, expanded pass: values produced by macros.
 * 6. Normalization and cross-model checks (normalize.ts, routing.ts).
 * 7. Deep freeze (freeze.ts).
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
import { keyOrder, lineOf, parseYaml, toData } from './yaml-doc.ts';
import type { ParsedYaml } from './yaml-doc.ts';

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

/**
 * Parses config text. Throws ConfigError listing every problem of the first
 * failing phase (see the file comment); never returns a partial Config.
 */
export function parseConfig(text: string, options: ParseConfigOptions = {}): Config {
  const parsed = parseSource(text, options.env ?? process.env, options.source);
  return buildConfig(
    { data: toData(parsed), keyOrder: (path) => keyOrder(parsed, path), lineOf: (path) => lineOf(parsed, path), fileOf: () => undefined },
    options.source,
  );
}

/** Phases 1 and 2 of one text: throws ConfigError naming `source`. */
function parseSource(text: string, env: ConfigEnv, source: string | undefined): ParsedYaml {
  const issues = new IssueList();
  // 1.
  const substituted = substituteEnv(text, env, issues);
  if (issues.size > 0) throw new ConfigError(issues.toIssues(), source);
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

/** Phases 3 to 7. */
function buildConfig(src: SourceView, source: string | undefined): Config {
  const issues = new IssueList();
  const fail = (located: boolean): ConfigError =>
    new ConfigError(located ? issues.toIssues(src.lineOf, src.fileOf) : issues.toIssues(), source);
  const { data } = src;
  // 3.
  if (!validateShape(data, 'raw', issues)) throw fail(true);
  // 4.
  const expanded = expandConfig(data as Record<string, unknown>, src.keyOrder, issues);
  if (issues.size > 0) throw fail(true);
  // 5.
  if (!validateShape(expanded, 'expanded', issues)) throw fail(true);
  // 6.
  const config = normalizeConfig(expanded as unknown as RawConfig, issues);
  if (issues.size > 0) throw fail(true);
  // 7.
  return deepFreeze(config);
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
  for (const file of files) parsed.set(file, parseSource(await readText(file), env, file));
  const label = files.length === 1 ? files[0] : `${sources.config === undefined ? '' : `${sources.config} + `}${sources.configDir}`;
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
  );
}
