import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { issuesOf, oneIssue } from './helpers.ts';

const MODEL = 'models: { m: { cmd: s, proxy: "http://h" } }';

describe('config errors', () => {
  it('rejects durations beyond what a Node timer can hold (about 24.8 days) instead of firing at once', () => {
    const issues = issuesOf(`healthCheckTimeout: 2592000
globalTTL: 2147484
unloadTimeout: 9e9
models: { m: { cmd: s, proxy: "http://h", ttl: 99999999, unloadTimeout: 3000000 } }`);
    assert.deepEqual(issues.map((i) => i.path).sort(), ['globalTTL', 'healthCheckTimeout', 'models.m.ttl', 'models.m.unloadTimeout', 'unloadTimeout']);
    assert.ok(issues.every((i) => /<= 2147483/.test(i.message)), JSON.stringify(issues));
    assert.equal(parseConfig(`globalTTL: 2147483\n${MODEL}`, { env: {} }).models.get('m')!.ttlMs, 2147483000);
  });

  it('rejects unknown keys, suggesting the closest known one', () => {
    oneIssue(`healthcheckTimeout: 5\n${MODEL}`, 'healthcheckTimeout', /unknown key "healthcheckTimeout" \(did you mean healthCheckTimeout\?\)/);
    oneIssue('models: { m: { cmd: s, proxy: "http://h", tll: 5 } }', 'models.m.tll', /unknown key "tll" \(did you mean ttl\?\)/);
    const far = oneIssue(`somethingElse: 1\n${MODEL}`, 'somethingElse', /^unknown key "somethingElse"$/);
    assert.equal(far.value, 1);
    oneIssue(`hooks: { on_start: { preload: [m] } }\n${MODEL}`, 'hooks.on_start', /did you mean on_startup/);
  });

  it('reports all the mistakes of a bad config at once, each with path, value and expectation', () => {
    const yaml = `
healthCheckTimeout: soon
logLevel: loud
startPort: 0
peers: { p: { proxy: "http://h" } }
models:
  "qwen2.5":
    cmd: 42
    ttl: -5
    unlisted: "no"
    aliases: alias-not-a-list
    fliters: {}
  ok:
    cmd: srv \${PORT}
groups:
  g: { swap: true }
`;
    let error: unknown;
    try {
      parseConfig(yaml, { env: {} });
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof ConfigError);
    const byPath = new Map(error.issues.map((i) => [i.path, i]));
    assert.deepEqual(
      [...byPath.keys()].sort(),
      [
        'groups.g.members',
        'healthCheckTimeout',
        'logLevel',
        'models["qwen2.5"].aliases',
        'models["qwen2.5"].cmd',
        'models["qwen2.5"].fliters',
        'models["qwen2.5"].ttl',
        'models["qwen2.5"].unlisted',
        'peers.p.models',
        'startPort',
      ],
    );
    assert.equal(error.issues.length, 10);
    assert.equal(byPath.get('healthCheckTimeout')?.message, 'expected a number > 0 and <= 2147483 or a ${macro} reference, got "soon"');
    assert.equal(byPath.get('healthCheckTimeout')?.value, 'soon');
    assert.equal(byPath.get('healthCheckTimeout')?.line, 2);
    assert.equal(byPath.get('models["qwen2.5"].ttl')?.line, 9);
    assert.match(byPath.get('models["qwen2.5"].cmd')?.message ?? '', /expected a non-empty string, got 42/);
    assert.match(byPath.get('models["qwen2.5"].aliases')?.message ?? '', /expected a list \(each a non-empty string\), got "alias-not-a-list"/);
    assert.equal(byPath.get('models["qwen2.5"].fliters')?.message, 'unknown key "fliters" (did you mean filters?)');
    // the message lists every issue on its own line
    const lines = error.message.split('\n');
    assert.equal(lines[0], 'invalid config (10 problems):');
    assert.equal(lines.length, 11);
    assert.ok(lines.includes('  - startPort (line 4): expected an integer >= 1 and <= 65535 or a ${macro} reference, got 0'), error.message);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    const syntax = issuesOf('models:\n  m: { cmd: s\n');
    assert.match(syntax[0]?.message ?? '', /^YAML syntax error/);
    assert.equal(syntax[0]?.line, 3);
    const dup = issuesOf('models:\n  m: { cmd: s, proxy: "http://h" }\n  m: { cmd: t }\n');
    assert.equal(dup.length, 1);
    assert.match(dup[0]?.message ?? '', /YAML syntax error: Map keys must be unique/);
    assert.equal(dup[0]?.line, 3);
  });

  it('supports YAML anchors and merge keys, as llama-swap (yaml.v3) does', () => {
    const models = parseConfig(
      `
models:
  a: &base
    cmd: srv a
    proxy: http://127.0.0.1:9
    ttl: 7
  b:
    <<: *base
    cmd: srv b
`,
      { env: {} },
    ).models;
    assert.equal(models.get('b')?.ttlMs, 7000);
    assert.deepEqual(models.get('b')?.cmd, ['srv', 'b']);
    assert.equal(models.get('b')?.proxy, 'http://127.0.0.1:9');
  });
});
