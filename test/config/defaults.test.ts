import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesOf, load, model, oneIssue } from './helpers.ts';

const ONE = `
models:
  m:
    cmd: server --port \${PORT}
`;

describe('config defaults', () => {
  it('fills every top-level default', () => {
    const c = load(ONE);
    assert.equal(c.healthCheckTimeoutMs, 120_000);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.logToStdout, 'proxy');
    assert.deepEqual(c.apiKeys, []);
    assert.equal(c.includeAliasesInList, false);
    assert.deepEqual(c.preload, []);
    assert.equal(c.maxBodyBytes, 64 * 1024 * 1024);
    assert.deepEqual(c.scheduler, { use: 'serial' });
    assert.deepEqual(c.aliases, new Map());
  });

  it('fills every model default', () => {
    const m = model(ONE, 'm');
    assert.deepEqual(m, {
      id: 'm',
      cmd: ['server', '--port', '5800'],
      cmdStop: undefined,
      proxy: 'http://localhost:5800',
      checkEndpoint: '/health',
      env: {},
      ttlMs: 0,
      unloadTimeoutMs: 10_000,
      healthCheckTimeoutMs: 120_000,
      aliases: [],
      useModelName: undefined,
      unlisted: false,
      name: undefined,
      description: undefined,
      metadata: undefined,
      concurrencyLimit: 10,
      filters: { stripParams: [], setParams: undefined, setParamsByID: new Map() },
      timeouts: { connectMs: 30_000, responseHeaderMs: 0 },
      capabilities: undefined,
      ignoreWebsockets: false,
      sendLoadingState: false,
      startError: undefined,
      simulate: { loadMs: 10_000, stopMs: 1000 },
    });
  });

  it('accepts an empty models map but not a missing or null one', () => {
    const c = load('models: {}');
    assert.equal(c.models.size, 0);
    assert.deepEqual(c.groups, []);
    oneIssue('logLevel: info', 'models', /required/);
    oneIssue('models:', 'models', /expected a map, got null/);
    oneIssue('models: [a]', 'models', /expected a map/);
    oneIssue('', '', /expected a map/);
  });

  it('keeps fractional healthCheckTimeout and does not clamp it to 15 s', () => {
    assert.equal(load(`healthCheckTimeout: 0.25\n${ONE}`).healthCheckTimeoutMs, 250);
    assert.equal(model(`healthCheckTimeout: 2\n${ONE}`, 'm').healthCheckTimeoutMs, 2000);
    oneIssue(`healthCheckTimeout: 0\n${ONE}`, 'healthCheckTimeout', /expected a number > 0.*got 0/);
    oneIssue(`healthCheckTimeout: -3\n${ONE}`, 'healthCheckTimeout', /got -3/);
  });

  it('resolves ttl against globalTTL: -1 or absent = global, 0 = never', () => {
    const yaml = `
globalTTL: 30
models:
  absent: { cmd: a, proxy: "http://h:1" }
  minus: { cmd: a, proxy: "http://h:2", ttl: -1 }
  never: { cmd: a, proxy: "http://h:3", ttl: 0 }
  own: { cmd: a, proxy: "http://h:4", ttl: 1.5 }
`;
    const c = load(yaml);
    assert.deepEqual(
      [...c.models.values()].map((m) => [m.id, m.ttlMs]),
      [['absent', 30_000], ['minus', 30_000], ['never', 0], ['own', 1500]],
    );
    oneIssue(`models: { m: { cmd: a, proxy: "http://h", ttl: -2 } }`, 'models.m.ttl', /expected -1 or a number >= 0/);
    oneIssue(`globalTTL: -1\nmodels: {}`, 'globalTTL', /expected a number >= 0/);
  });

  it('treats unloadTimeout 0 as the default, globally and per model', () => {
    const yaml = (global: number, own: number): string =>
      `unloadTimeout: ${global}\nmodels: { m: { cmd: a, proxy: "http://h", unloadTimeout: ${own} } }`;
    assert.equal(model(yaml(0, 0), 'm').unloadTimeoutMs, 10_000);
    assert.equal(model(yaml(3, 0), 'm').unloadTimeoutMs, 3000);
    assert.equal(model(yaml(3, 7), 'm').unloadTimeoutMs, 7000);
  });

  it('treats concurrencyLimit 0 as 10 and rejects fractions', () => {
    const yaml = (n: number): string => `models: { m: { cmd: a, proxy: "http://h", concurrencyLimit: ${n} } }`;
    assert.equal(model(yaml(0), 'm').concurrencyLimit, 10);
    assert.equal(model(yaml(3), 'm').concurrencyLimit, 3);
    oneIssue(yaml(1.5), 'models.m.concurrencyLimit', /an integer >= 0/);
  });

  it('normalizes proxy, checkEndpoint, env and empty strings', () => {
    const m = model(
      `
models:
  m:
    cmd: a
    proxy: http://127.0.0.1:8080/
    checkEndpoint: none
    env: ["A=1", "B=x=y", "A=2", "EMPTY="]
    useModelName: ""
    name: ""
    cmdStop: "  "
`,
      'm',
    );
    assert.equal(m.proxy, 'http://127.0.0.1:8080');
    assert.equal(m.checkEndpoint, null);
    assert.deepEqual(m.env, { A: '2', B: 'x=y', EMPTY: '' });
    assert.equal(m.useModelName, undefined);
    assert.equal(m.name, undefined);
    assert.equal(m.cmdStop, undefined);
    assert.equal(model('models: { m: { cmd: a, proxy: "http://h", checkEndpoint: "v1/ready" } }', 'm').checkEndpoint, '/v1/ready');
  });

  it('rejects a proxy that is not an http URL and env entries without NAME=', () => {
    const issues = issuesOf(`
models:
  m: { cmd: a, proxy: "ftp://x", env: ["NOEQUALS", "1X=2"] }
`);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['models.m.env[0]', 'models.m.env[1]', 'models.m.proxy'],
    );
    oneIssue('models: { m: { cmd: a, proxy: "ftp://x" } }', 'models.m.proxy', /http\(s\) URL/);
  });

  it('accepts logRequests and ignores it', () => {
    assert.equal(load(`logRequests: true\n${ONE}`).models.size, 1);
  });

  it('lists models in sorted id order', () => {
    const c = load('models: { b: { cmd: x, proxy: "http://h" }, a: { cmd: x, proxy: "http://h" }, "10": { cmd: x, proxy: "http://h" } }');
    assert.deepEqual([...c.models.keys()], ['10', 'a', 'b']);
  });

  it('returns a deep-frozen config', () => {
    const c = load(`
apiKeys: [k1]
models:
  m: { cmd: a b, proxy: "http://h", aliases: [x], env: ["A=1"], metadata: { n: { deep: [1] } } }
`);
    const m = c.models.get('m');
    assert.ok(m);
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.apiKeys));
    assert.ok(Object.isFrozen(c.groups[0]));
    assert.ok(Object.isFrozen(m));
    assert.ok(Object.isFrozen(m.cmd));
    assert.ok(Object.isFrozen(m.env));
    assert.ok(Object.isFrozen((m.metadata?.['n'] as { deep: number[] }).deep));
    assert.throws(() => {
      (m.cmd as string[]).push('x');
    }, TypeError);
  });

  it('rejects bad enum values with the allowed ones', () => {
    oneIssue(`logLevel: verbose\n${ONE}`, 'logLevel', /one of debug, info, warn, error.*got "verbose"/);
    oneIssue(`logToStdout: all\n${ONE}`, 'logToStdout', /one of proxy, upstream, both, none/);
  });

  it('validates apiKeys and maxBodyBytes', () => {
    assert.deepEqual(load(`apiKeys: [a, b]\n${ONE}`).apiKeys, ['a', 'b']);
    oneIssue(`apiKeys: ["has space"]\n${ONE}`, 'apiKeys[0]', /without spaces/);
    oneIssue(`apiKeys: [""]\n${ONE}`, 'apiKeys[0]', /non-empty string without spaces/);
    assert.equal(load(`maxBodyBytes: 1024\n${ONE}`).maxBodyBytes, 1024);
    oneIssue(`maxBodyBytes: 0\n${ONE}`, 'maxBodyBytes', /an integer >= 1/);
  });
});
