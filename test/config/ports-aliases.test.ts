import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesOf, load, oneIssue } from './helpers.ts';

describe('${PORT} assignment', () => {
  it('assigns ports from startPort in sorted id order, only to models whose cmd uses ${PORT}', () => {
    const c = load(`
startPort: 9100
models:
  zeta: { cmd: "srv --port \${PORT}" }
  alpha: { cmd: "srv --port \${PORT}" }
  fixed: { cmd: "srv --port 8000", proxy: "http://127.0.0.1:8000" }
  beta: { cmd: "srv --port \${PORT}" }
`);
    const ports = [...c.models.values()].map((m) => [m.id, m.proxy]);
    assert.deepEqual(ports, [
      ['alpha', 'http://localhost:9100'],
      ['beta', 'http://localhost:9101'],
      ['fixed', 'http://127.0.0.1:8000'],
      ['zeta', 'http://localhost:9102'],
    ]);
  });

  it('uses the same port everywhere in the model', () => {
    const m = load(`
models:
  m:
    cmd: srv --port \${PORT}
    cmdStop: stop --port \${PORT} --pid \${PID}
    proxy: http://127.0.0.1:\${PORT}/
    name: m@\${PORT}
    env: ["PORT=\${PORT}"]
    metadata: { port: "\${PORT}", url: "http://x:\${PORT}" }
`).models.get('m');
    assert.deepEqual(m?.cmd, ['srv', '--port', '5800']);
    assert.deepEqual(m?.cmdStop, ['stop', '--port', '5800', '--pid', '${PID}']);
    assert.equal(m?.proxy, 'http://127.0.0.1:5800');
    assert.equal(m?.name, 'm@5800');
    assert.deepEqual(m?.env, { PORT: '5800' });
    assert.deepEqual(m?.metadata, { port: 5800, url: 'http://x:5800' });
  });

  it('counts ${PORT} that reaches cmd through a macro, but not one in a comment line', () => {
    const c = load(`
macros: { listen: "--port \${PORT}" }
models:
  a: { cmd: "srv \${listen}" }
  b:
    cmd: |
      # srv --port \${PORT}
      srv --port 7000
    proxy: http://127.0.0.1:7000
  c: { cmd: "srv \${listen}" }
`);
    assert.deepEqual(c.models.get('a')?.cmd, ['srv', '--port', '5800']);
    assert.deepEqual(c.models.get('c')?.cmd, ['srv', '--port', '5801']);
  });

  it('rejects a proxy written with ${PORT} when cmd does not use it', () => {
    oneIssue(
      'models: { m: { cmd: "srv", proxy: "http://h:${PORT}" } }',
      'models.m.proxy',
      /proxy uses \$\{PORT\} but cmd does not/,
    );
    oneIssue(
      'models: { m: { cmd: "srv", proxy: "http://h", metadata: { p: "${PORT}" } } }',
      'models.m.metadata.p',
      /only available when the model's cmd uses \$\{PORT\}/,
    );
  });

  it('accepts the default proxy without ${PORT} in cmd with a warning, and marks the model as unable to start', () => {
    const c = load('models: { m: { cmd: "srv --port 8080" }, ok: { cmd: "srv ${PORT}" } }\nhooks: { on_startup: { preload: [m, ok] } }');
    assert.deepEqual(c.warnings.map((w) => [w.path, w.line]), [['models.m.proxy', 1]]);
    assert.match(c.warnings[0]?.message ?? '', /model "m" cannot start: its proxy defaults to http:\/\/localhost:\$\{PORT\}.*set proxy/);
    assert.equal(c.models.get('m')?.startError, c.warnings[0]?.message);
    assert.equal(c.models.get('ok')?.startError, undefined);
    assert.deepEqual(c.preload, ['ok']);
  });

  it('rejects ports beyond 65535', () => {
    const issues = issuesOf('startPort: 65535\nmodels: { a: { cmd: "s ${PORT}" }, b: { cmd: "s ${PORT}" } }');
    assert.deepEqual(
      issues.map((i) => i.path),
      ['models.b'],
    );
  });
});

describe('aliases', () => {
  it('maps every alias to its model id', () => {
    const c = load('models: { a: { cmd: s, proxy: "http://h", aliases: [x, y] }, b: { cmd: s, proxy: "http://h", aliases: [z] } }');
    assert.deepEqual(
      c.aliases,
      new Map([
        ['x', 'a'],
        ['y', 'a'],
        ['z', 'b'],
      ]),
    );
  });

  it('rejects aliases used twice, listed twice, or equal to a model id, all at once', () => {
    const issues = issuesOf(`
models:
  a: { cmd: s, proxy: "http://h", aliases: [shared, twice, twice] }
  b: { cmd: s, proxy: "http://h", aliases: [shared, a] }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.message]),
      [
        ['models.a.aliases[2]', 'alias "twice" is listed twice'],
        ['models.b.aliases[0]', 'alias "shared" is already used by model "a"'],
        ['models.b.aliases[1]', 'alias "a" is also a model id'],
      ],
    );
  });
});
