import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesOf, load, model, oneIssue } from './helpers.ts';

const M = 'cmd: "srv ${PORT}"';

describe('filters', () => {
  it('normalizes stripParams (or the legacy strip_params), setParams and setParamsByID, without model', () => {
    const m = model(`
macros: { effort: high }
models:
  m:
    ${M}
    filters:
      stripParams: " top_p, temperature, model,top_p"
      strip_params: "ignored when stripParams is set"
      setParams: { model: x, top_k: 40, kw: { a: 1 } }
      setParamsByID:
        "\${MODEL_ID}": { seed: 1 }
        "\${MODEL_ID}:\${effort}": { model: y, kw: { effort: "\${effort}" } }
`, 'm');
    assert.deepEqual(m.filters.stripParams, ['temperature', 'top_p']);
    assert.deepEqual(m.filters.setParams, { top_k: 40, kw: { a: 1 } });
    assert.deepEqual(m.filters.setParamsByID, new Map([['m', { seed: 1 }], ['m:high', { kw: { effort: 'high' } }]]));
    assert.deepEqual(m.aliases, ['m:high']);
    assert.deepEqual(model(`models: { m: { ${M}, filters: { strip_params: "a, b" } } }`, 'm').filters.stripParams, ['a', 'b']);
  });

  it('registers setParamsByID keys as aliases, and rejects one that is another model\'s id or alias', () => {
    const c = load(`models: { a: { ${M}, aliases: [a1], filters: { setParamsByID: { "a1": {}, "a:x": {} } } }, b: { ${M} } }`);
    assert.equal(c.aliases.get('a:x'), 'a');
    assert.deepEqual(c.models.get('a')?.aliases, ['a1', 'a:x']);
    const issues = issuesOf(`models:
  a: { ${M}, aliases: [a1] }
  b: { ${M}, filters: { setParamsByID: { a: {}, a1: {}, "\${MODEL_ID}:\${oops}": {} } } }
`);
    assert.deepEqual(issues.map((i) => i.path), ['models.b.filters.setParamsByID["b:${oops}"]', 'models.b.filters.setParamsByID.a', 'models.b.filters.setParamsByID.a1']);
    assert.match(issues[0]?.message ?? '', /unknown macro \$\{oops\}/);
    assert.match(issues[1]?.message ?? '', /"a" is the id of another model/);
    assert.match(issues[2]?.message ?? '', /already an alias of model "a"/);
    oneIssue(`models: { m: { ${M}, filters: { setParamsByID: { x: 5 } } } }`, 'models.m.filters.setParamsByID.x', /expected a map of parameters, got 5/);
  });
});

describe('capabilities, timeouts, compat', () => {
  it('keeps a capabilities block, treats an all-empty one as absent, and rejects unknown modalities', () => {
    assert.deepEqual(model(`models: { m: { ${M}, capabilities: { in: [text, image], out: [text], tools: true, context: 8192 } } }`, 'm').capabilities, {
      in: ['text', 'image'], out: ['text'], tools: true, reranker: false, context: 8192,
    });
    assert.equal(model(`models: { m: { ${M}, capabilities: { in: [], context: 0 } } }`, 'm').capabilities, undefined);
    oneIssue(`models: { m: { ${M}, capabilities: { in: [video] } } }`, 'models.m.capabilities.in[0]', /expected one of text, audio, image, got "video"/);
    oneIssue(`models: { m: { ${M}, capabilities: { context: -1 } } }`, 'models.m.capabilities.context', /expected an integer >= 0/);
  });

  it('reads timeouts in seconds (connect 30 and responseHeader 0 by default) and warns about the ones it does not apply', () => {
    assert.deepEqual(model(`models: { m: { ${M} } }`, 'm').timeouts, { connectMs: 30_000, responseHeaderMs: 0 });
    const c = load(`models: { m: { ${M}, timeouts: { connect: 0.5, responseHeader: 60, keepalive: 0, idleConn: 90 } } }`);
    assert.deepEqual(c.models.get('m')?.timeouts, { connectMs: 500, responseHeaderMs: 60_000 });
    assert.deepEqual(c.warnings.map((w) => w.path), ['models.m.timeouts']);
    assert.match(c.warnings[0]?.message ?? '', /timeouts\.keepalive, timeouts\.idleConn accepted but not applied/);
  });

  it('accepts compat.ignoreWebsockets, with no warning (upgrades are proxied), and forces it on for comfyui_auto with a limit of at least 50', () => {
    const c = load(`models: { m: { ${M}, compat: { ignoreWebsockets: true } }, n: { ${M} }, comfyui_auto: { ${M} } }`);
    assert.equal(c.models.get('m')?.ignoreWebsockets, true);
    assert.equal(c.models.get('n')?.ignoreWebsockets, false);
    assert.equal(c.models.get('comfyui_auto')?.ignoreWebsockets, true);
    assert.equal(c.models.get('comfyui_auto')?.concurrencyLimit, 50);
    assert.deepEqual(c.warnings, []);
  });
});

describe('upstream.ignorePaths', () => {
  it('defaults to static-asset suffixes, takes a list, and rejects an invalid pattern', () => {
    const [re] = load(`models: { m: { ${M} } }`).upstreamIgnorePaths;
    assert.ok(re?.test('/assets/app.js') && !re.test('/v1/chat/completions'));
    assert.deepEqual(load(`upstream: { ignorePaths: [] }\nmodels: { m: { ${M} } }`).upstreamIgnorePaths, []);
    oneIssue(`upstream: { ignorePaths: ["("] }\nmodels: { m: { ${M} } }`, 'upstream.ignorePaths[0]', /not a valid regular expression/);
  });
});

describe('the activity keys', () => {
  it('are active, with their defaults (captures off, 30 days of a store file, the two session headers)', () => {
    const d = load(`models: { m: { ${M} } }`);
    assert.deepEqual(d.activity, { maxInMemory: 1000, captureBytes: 0, storePath: undefined, retentionMs: 0, maxRows: 0, sessionHeaders: ['x-session-id', 'x-litellm-session-id'] });
    const c = load(`
metricsMaxInMemory: 50
captureBuffer: 5
store: { path: /tmp/x.sqlite }
ui: { activity: { session_id: [" X-Session-ID ", x-session-id, X-Conv] } }
models: { m: { ${M} } }
`);
    assert.deepEqual(c.warnings, []);
    assert.deepEqual(c.activity, { maxInMemory: 50, captureBytes: 5 * 1024 * 1024, storePath: '/tmp/x.sqlite', retentionMs: 30 * 86_400_000, maxRows: 1_000_000, sessionHeaders: ['x-session-id', 'x-conv'] });
    const e = load(`store: { path: a.db, retention: 1d12h, maxRows: 0 }
ui: { activity: { session_id: [] } }
models: { m: { ${M} } }`);
    assert.deepEqual([e.activity.retentionMs, e.activity.maxRows, e.activity.sessionHeaders], [36 * 3_600_000, 0, []]);
    assert.equal(load(`store: { path: a.db, retention: "0" }
models: { m: { ${M} } }`).activity.retentionMs, 0);
  });

  it('reject bad values with the key path', () => {
    oneIssue(`store: { path: a.db, retention: soon }
models: { m: { ${M} } }`, 'store.retention', /expected a duration such as 30d/);
    oneIssue(`captureBuffer: -1
models: { m: { ${M} } }`, 'captureBuffer', /.+/);
    oneIssue(`metricsMaxInMemory: 0
models: { m: { ${M} } }`, 'metricsMaxInMemory', /.+/);
    oneIssue(`store: { retention: 1d }
models: { m: { ${M} } }`, 'store.path', /.+/);
  });
});

describe('accepted keys that are not active yet', () => {
  it('loads them with one warning each, naming what does not happen', () => {
    const c = load(`
performance: { disabled: false, every: 5s }
models:
  m: { ${M} }
`);
    assert.deepEqual(c.warnings.map((w) => [w.path, w.line]), [
      ['performance', 2],
    ]);
    assert.ok(c.warnings.every((w) => w.message.startsWith('accepted but not active yet: ')), JSON.stringify(c.warnings));
  });

  it('validates their llama-swap shape', () => {
    const issues = issuesOf(`
performance: { every: soon }
profiles: { p: { pins: {} } }
selectors: { s: { strategy: fastest, targets: [] } }
peers: { r: { proxy: "http://h", models: [] } }
models: { m: { ${M} } }
`);
    assert.deepEqual(issues.map((i) => i.path), ['performance.every', 'profiles.p.pins', 'selectors.s.strategy', 'selectors.s.targets', 'peers.r.models']);
    assert.match(issues[0]?.message ?? '', /expected a duration such as 5s/);
    assert.match(issues[1]?.message ?? '', /expected a non-empty map/);
  });

  it('routing.router.use: matrix (or the legacy top-level matrix) is active; groups are then not used, and serial warns that it keeps one model', () => {
    const matrix = 'matrix: { vars: { a: m }, sets: { all: "a" } }';
    const c = load(`routing: { router: { use: matrix, settings: { ${matrix}, groups: { g: { members: [m] } } } }, scheduler: { use: fifo } }\nmodels: { m: { ${M} } }`);
    assert.deepEqual(c.warnings, []);
    assert.equal(c.router.use, 'matrix');
    assert.deepEqual(c.groups.map((g) => g.id), ['(default)']);
    const serial = load(`routing: { router: { use: matrix, settings: { ${matrix} } } }\nmodels: { m: { ${M} } }`);
    assert.deepEqual(serial.warnings.map((w) => w.path), ['routing.router.use']);
    assert.match(serial.warnings[0]?.message ?? '', /serial scheduler.*the matrix has no effect.*fifo/);
    oneIssue(`routing: { router: { use: matrix } }\nmodels: { m: { ${M} } }`, 'routing.router.use', /settings\.matrix is not set/);
    const legacy = load(`${matrix}\nmodels: { m: { ${M} } }`);
    assert.deepEqual(legacy.warnings.map((w) => w.message.split(':')[0]), ['top-level matrix is the legacy spelling', 'the serial scheduler (the default) keeps one model loaded at a time, so the matrix has no effect']);
    assert.equal(legacy.router.use, 'matrix');
  });
});

describe('llama-swap\'s deprecated forms', () => {
  it('rejects the old list form of a profile, saying what to write instead', () => {
    oneIssue(`profiles: { coding: [m] }\nmodels: { m: { ${M} } }`, 'profiles.coding', /old list form of a profile.*group with swap: false.*pins/);
  });

  it('accepts top-level groups and logRequests with a warning saying what to do', () => {
    const c = load(`logRequests: true\ngroups: { g: { members: [m] } }\nmodels: { m: { ${M} } }`);
    assert.deepEqual(c.warnings.map((w) => w.path), ['logRequests', 'groups']);
    assert.match(c.warnings[0]?.message ?? '', /deprecated and ignored.*remove it/);
    assert.match(c.warnings[1]?.message ?? '', /move it to routing\.router\.settings\.groups/);
  });

  it('rejects top-level groups with matrix', () => {
    oneIssue(`groups: { g: { members: [m] } }\nmatrix: { sets: { s: m } }\nmodels: { m: { ${M} } }`, 'matrix', /groups and matrix cannot be used together/);
  });
});

describe('hooks.on_startup.preload', () => {
  it('skips a selector id with a warning (it picks a model per request); an unknown name stays an error', () => {
    const c = load(`selectors: { pick: { strategy: pin, targets: [m] } }\nhooks: { on_startup: { preload: [pick, m] } }\nmodels: { m: { ${M} } }`);
    assert.deepEqual(c.preload, ['m']);
    assert.deepEqual(c.warnings.map((w) => w.path), ['hooks.on_startup.preload[0]']);
    assert.match(c.warnings[0]?.message ?? '', /"pick" is a selector.*not preloaded/);
    oneIssue(`hooks: { on_startup: { preload: [nope] } }\nmodels: { m: { ${M} } }`, 'hooks.on_startup.preload[0]', /unknown model or alias "nope"/);
  });
});

describe('logTimeFormat', () => {
  it('takes llama-swap\'s layout names', () => {
    assert.equal(load(`logTimeFormat: rfc3339\nmodels: {}`).logTimeFormat, 'rfc3339');
    assert.equal(load('models: {}').logTimeFormat, '');
    oneIssue('logTimeFormat: iso\nmodels: {}', 'logTimeFormat', /expected one of , ansic/);
  });
});
