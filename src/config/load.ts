/**
 * Config loading: YAML text in, validated, normalized, deep-frozen `Config` out.
 *
 * Pipeline (STYLE practice 11). Every phase runs, even after an earlier one
 * found problems, so one load reports every problem at once, each with its key
 * path and line; a later phase leaves out what would only repeat an earlier
 * problem. Only a YAML syntax error stops early (there is no tree to check).
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
 */
import { readFile } from 'node:fs/promises';
import { substituteEnv } from './env.ts';
import { expandConfig } from './expand.ts';
import { deepFreeze } from './freeze.ts';
import { IssueList } from './issues.ts';
import type { ConfigIssue } from './issues.ts';
import type { KeyPath } from './issues.ts';
import { normalizeConfig } from './normalize.ts';
import type { RawConfig } from './raw.ts';
import { validateShape } from './schema.ts';
import type { Config } from './types.ts';
import { inactiveKeyWarnings } from './warnings.ts';
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
  const line = issue.line === undefined ? '' : ` (line ${issue.line})`;
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
  const warnings = new IssueList();
  const fail = (parsed?: ParsedYaml): ConfigError =>
    new ConfigError(issues.toIssues(parsed === undefined ? undefined : (path) => lineOf(parsed, path)), options.source);

  // 1.
  const substituted = substituteEnv(text, options.env ?? process.env, issues);
  // 2.
  const parsed = parseYaml(substituted, issues);
  if (parsed === undefined) throw fail();
  const data = toData(parsed);
  // 3.
  const defaultProxy = modelsWithout(data, 'proxy');
  validateShape(data, 'raw', issues, (_path, value) => hasEnvRef(value));
  // 4.
  const expanded = expandConfig(isMap(data) ? data : {}, { orderOf: (path) => keyOrder(parsed, path), issues, warnings, defaultProxy });
  // 5.
  const before = issues.size;
  validateShape(expanded, 'expanded', issues, (path: KeyPath, value) => hasEnvRef(value) || issues.touches(path, before));
  // 6.
  let config: Omit<Config, 'warnings'> | undefined;
  try {
    config = normalizeConfig(expanded as unknown as RawConfig, issues, warnings);
  } catch (err) {
    // A shape an earlier phase reported can still trip a check here; the report is what matters then.
    if (issues.size === 0) throw err;
  }
  inactiveKeyWarnings(expanded, warnings);
  // 7.
  if (issues.size > 0 || config === undefined) throw fail(parsed);
  return deepFreeze({ ...config, warnings: warnings.toIssues((path) => lineOf(parsed, path)) });
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Ids of the models that do not set `key` (read before the schema fills in defaults). */
function modelsWithout(data: unknown, key: string): Set<string> {
  const models = isMap(data) ? data['models'] : undefined;
  if (!isMap(models)) return new Set();
  return new Set(Object.keys(models).filter((id) => { const m = models[id]; return !isMap(m) || m[key] === undefined || m[key] === null; }));
}

/** Reads and parses a config file; an unreadable file is a ConfigError too. */
export async function loadConfigFile(path: string, env: ConfigEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([{ path: '', message: `cannot read config file: ${reason}` }], path, { cause: err });
  }
  return parseConfig(text, { env, source: path });
}
