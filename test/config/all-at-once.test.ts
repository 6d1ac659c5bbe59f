import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesOf } from './helpers.ts';

describe('every problem at once', () => {
  it('reports a schema error, an unknown macro, an unknown group member and a missing env var together, each with path and line', () => {
    const issues = issuesOf(`logLevel: loud
startPort: \${env.BASE_PORT}
models:
  a:
    cmd: srv --port \${PORT} \${nope}
  b:
    cmd: srv --port \${PORT}
    ttl: \${env.B_TTL}
routing:
  router:
    settings:
      groups:
        g: { members: [a, c] }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line]),
      [
        ['logLevel', 1],
        ['startPort', 2],
        ['models.a.cmd', 5],
        ['models.b.ttl', 8],
        ['routing.router.settings.groups.g.members[1]', 13],
      ],
    );
    const [level, port, macro, ttl, member] = issues.map((i) => i.message);
    assert.match(level ?? '', /expected one of debug, info, warn, error or a \$\{macro\} reference, got "loud"/);
    assert.match(port ?? '', /environment variable BASE_PORT is not set/);
    assert.match(macro ?? '', /unknown macro \$\{nope\}/);
    assert.match(ttl ?? '', /environment variable B_TTL is not set/);
    assert.match(member ?? '', /unknown model "c"/);
  });

  it('does not repeat a problem in a later phase (a broken cmd does not also make its default proxy an issue)', () => {
    const issues = issuesOf('macros: { t: soon }\nmodels:\n  m:\n    cmd: 42\n    ttl: ${t}\n');
    assert.deepEqual(issues.map((i) => i.path), ['models.m.cmd', 'models.m.ttl']);
  });

  it('still reports cross-model problems when a model is not a map', () => {
    const issues = issuesOf('models: { m: 5, n: { cmd: "s ${PORT}", aliases: [n] } }');
    assert.deepEqual(issues.map((i) => i.path), ['models.m', 'models.n.aliases[0]']);
  });
});
