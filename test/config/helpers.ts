/** Shared helpers for the config tests (not a test file itself). */
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import type { ConfigIssue } from '../../src/config/load.ts';
import type { Config, ModelConfig } from '../../src/config/types.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Parses `yaml` with an explicit (default empty) environment. */
export function load(yaml: string, env: Env = {}): Config {
  return parseConfig(yaml, { env });
}

/** The one model `id` of a config parsed from `yaml`. */
export function model(yaml: string, id: string, env: Env = {}): ModelConfig {
  const m = load(yaml, env).models.get(id);
  assert.ok(m, `model ${id} missing`);
  return m;
}

/** The issues of a config that must fail to load. */
export function issuesOf(yaml: string, env: Env = {}): readonly ConfigIssue[] {
  try {
    parseConfig(yaml, { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.issues.length > 0);
    return err.issues;
  }
  assert.fail('expected the config to be rejected');
}

/** Asserts exactly one issue, at `path`, whose message matches `pattern`; returns it. */
export function oneIssue(yaml: string, path: string, pattern: RegExp, env: Env = {}): ConfigIssue {
  const issues = issuesOf(yaml, env);
  assert.equal(issues.length, 1, `expected one issue, got:\n${issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`);
  const [issue] = issues as [ConfigIssue];
  assert.equal(issue.path, path);
  assert.match(issue.message, pattern);
  return issue;
}
