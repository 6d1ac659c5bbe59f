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
 */
import { readFile } from 'node:fs/promises';
import { substituteEnv } from './env.ts';
import { expandConfig } from './expand.ts';
import { deepFreeze } from './freeze.ts';
import { IssueList } from './issues.ts';
import type { ConfigIssue } from './issues.ts';
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

/**
 * Parses config text. Throws ConfigError listing every problem of the first
 * failing phase (see the file comment); never returns a partial Config.
 */
export function parseConfig(text: string, options: ParseConfigOptions = {}): Config {
  const issues = new IssueList();
  const fail = (parsed?: ParsedYaml): ConfigError =>
    new ConfigError(issues.toIssues(parsed === undefined ? undefined : (path) => lineOf(parsed, path)), options.source);

  // 1.
  const substituted = substituteEnv(text, options.env ?? process.env, issues);
  if (issues.size > 0) throw fail();
  // 2.
  const parsed = parseYaml(substituted, issues);
  if (parsed === undefined) throw fail();
  const data = toData(parsed);
  // 3.
  if (!validateShape(data, 'raw', issues)) throw fail(parsed);
  // 4.
  const expanded = expandConfig(data as Record<string, unknown>, (path) => keyOrder(parsed, path), issues);
  if (issues.size > 0) throw fail(parsed);
  // 5.
  if (!validateShape(expanded, 'expanded', issues)) throw fail(parsed);
  // 6.
  const config = normalizeConfig(expanded as unknown as RawConfig, issues);
  if (issues.size > 0) throw fail(parsed);
  // 7.
  return deepFreeze(config);
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
