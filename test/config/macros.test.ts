import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesOf, load, model, oneIssue } from './helpers.ts';

describe('macros', () => {
  it('replaces macros in every string value of a model', () => {
    const m = model(
      `
macros:
  bin: /opt/llama-server
  host: 127.0.0.1
models:
  m:
    cmd: \${bin} --host \${host} --port 9000
    cmdStop: \${bin}-stop \${PID}
    proxy: http://\${host}:9000
    checkEndpoint: /\${MODEL_ID}/health
    env: ["BIN=\${bin}"]
    aliases: ["\${MODEL_ID}-alias"]
    useModelName: \${MODEL_ID}-upstream
    name: \${MODEL_ID} on \${host}
    description: runs \${bin}
`,
      'm',
    );
    assert.deepEqual(m.cmd, ['/opt/llama-server', '--host', '127.0.0.1', '--port', '9000']);
    assert.deepEqual(m.cmdStop, ['/opt/llama-server-stop', '${PID}']);
    assert.equal(m.proxy, 'http://127.0.0.1:9000');
    assert.equal(m.checkEndpoint, '/m/health');
    assert.deepEqual(m.env, { BIN: '/opt/llama-server' });
    assert.deepEqual(m.aliases, ['m-alias']);
    assert.equal(m.useModelName, 'm-upstream');
    assert.equal(m.name, 'm on 127.0.0.1');
    assert.equal(m.description, 'runs /opt/llama-server');
  });

  it('rejects reserved and malformed macro names', () => {
    const issues = issuesOf(`
macros:
  PORT: 1
  MODEL_ID: x
  "has space": 1
  ${'x'.repeat(64)}: 1
  ${'y'.repeat(63)}: ok
models:
  m:
    cmd: a
    proxy: http://h
    macros:
      PID: 2
`);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['macros.PORT', 'macros.MODEL_ID', 'macros["has space"]', `macros.${'x'.repeat(64)}`, 'models.m.macros.PID'],
    );
    assert.match(issues[0]?.message ?? '', /"PORT" is a reserved name/);
    assert.match(issues[2]?.message ?? '', /invalid key "has space"/);
  });

  it('rejects non-scalar macro values', () => {
    oneIssue('macros: { list: [1, 2] }\nmodels: {}', 'macros.list', /a scalar \(string, number or boolean\), got \[1,2\]/);
    oneIssue('macros: { nothing: null }\nmodels: {}', 'macros.nothing', /got null/);
  });

  it('reports an unknown macro with its path and a suggestion', () => {
    const issue = oneIssue(
      'macros: { model_dir: /m }\nmodels: { m: { cmd: "srv ${model_dri}/x.gguf", proxy: "http://h" } }',
      'models.m.cmd',
      /unknown macro \$\{model_dri\} \(did you mean model_dir\?\)/,
    );
    assert.equal(issue.value, 'srv ${model_dri}/x.gguf');
    assert.equal(issue.line, 2);
  });

  it('reports unresolved macros anywhere, including metadata and top-level values', () => {
    const issues = issuesOf(`
apiKeys: ["\${key}"]
models:
  m:
    cmd: a
    proxy: http://h
    metadata: { deep: { list: ["ok", "\${nope}"] } }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.message.split(' (')[0]]),
      [
        ['apiKeys[0]', 'unknown macro ${key}'],
        ['models.m.metadata.deep.list[1]', 'unknown macro ${nope}'],
      ],
    );
    oneIssue('healthCheckTimeout: ${MODEL_ID}\nmodels: {}', 'healthCheckTimeout', /only available inside a model/);
  });

  it('strips cmd comment lines before expansion, so macros in them are never needed', () => {
    const m = model(
      `
models:
  m:
    cmd: |
      srv --port \${PORT}
      # --draft \${draft_model_not_defined}
`,
      'm',
    );
    assert.deepEqual(m.cmd, ['srv', '--port', '5800']);
  });

  it('provides ${MODEL_ID}, also inside macro values', () => {
    const m = model(
      `
macros:
  file: /models/\${MODEL_ID}.gguf
models:
  qwen: { cmd: "srv -m \${file} --alias \${MODEL_ID}", proxy: "http://h" }
`,
      'qwen',
    );
    assert.deepEqual(m.cmd, ['srv', '-m', '/models/qwen.gguf', '--alias', 'qwen']);
  });

  it('keeps macro types in metadata, nested in maps and lists, and makes text inside strings', () => {
    const m = model(
      `
macros:
  ctx: 8192
  temp: 0.7
  vision: true
  label: chat
models:
  m:
    cmd: a
    proxy: http://h
    name: \${ctx}
    metadata:
      ctx: \${ctx}
      temp: \${temp}
      vision: \${vision}
      label: \${label}
      text: ctx=\${ctx}
      nested: { list: ["\${ctx}", ["\${vision}"], { t: "\${temp}" }] }
`,
      'm',
    );
    assert.equal(m.name, '8192');
    assert.deepEqual(m.metadata, {
      ctx: 8192,
      temp: 0.7,
      vision: true,
      label: 'chat',
      text: 'ctx=8192',
      nested: { list: [8192, [true], { t: 0.7 }] },
    });
  });

  it('lets model macros override global ones without leaking into other models', () => {
    const c = load(`
macros:
  quant: Q4
  file: model-\${quant}.gguf
models:
  a: { cmd: "srv \${file} \${quant}", proxy: "http://h", macros: { quant: Q8, own: x } }
  b: { cmd: "srv \${file} \${quant}", proxy: "http://h" }
`);
    // a global macro that uses an overridden one sees the model's value (llama-swap's merge)
    assert.deepEqual(c.models.get('a')?.cmd, ['srv', 'model-Q8.gguf', 'Q8']);
    assert.deepEqual(c.models.get('b')?.cmd, ['srv', 'model-Q4.gguf', 'Q4']);
    oneIssue(
      `
models:
  a: { cmd: "srv", proxy: "http://h", macros: { own: x } }
  b: { cmd: "srv \${own}", proxy: "http://h" }
`,
      'models.b.cmd',
      /unknown macro \$\{own\}/,
    );
  });

  it('expands macro-in-macro in declaration order, even with integer-like names', () => {
    const c = load(`
macros:
  a: A
  "1": \${a}1
  b: \${1}-\${a}
models:
  m: { cmd: "srv \${b}", proxy: "http://h", macros: { c: "\${b}+" }, name: "\${c}" }
`);
    assert.deepEqual(c.models.get('m')?.cmd, ['srv', 'A1-A']);
    assert.equal(c.models.get('m')?.name, 'A1-A+');
  });

  it('rejects forward and self references', () => {
    const issues = issuesOf(`
macros:
  a: \${b}/x
  b: y
  s: \${s}!
models:
  m:
    cmd: srv
    proxy: http://h
    macros:
      early: \${late}
      late: z
`);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['macros.a', 'macros.s', 'models.m.macros.early'],
    );
    assert.match(issues[0]?.message ?? '', /uses \$\{b\}, which is declared after it/);
    assert.match(issues[1]?.message ?? '', /references itself/);
    assert.match(issues[2]?.message ?? '', /uses \$\{late\}, which is declared after it/);
  });

  it('rejects a macro that uses an unknown macro even if unused', () => {
    oneIssue('macros: { a: "${zz}" }\nmodels: {}', 'macros.a', /uses unknown macro \$\{zz\}/);
  });

  it('accepts typed values given by a whole macro, and checks them after expansion', () => {
    const c = load(`
macros: { ttl: 5, hc: 2.5, base: 7000, yes: true, prio: 3 }
startPort: \${base}
healthCheckTimeout: \${hc}
includeAliasesInList: \${yes}
routing:
  scheduler: { use: fifo, settings: { fifo: { priority: { m: "\${prio}" } } } }
models:
  m: { cmd: "srv --port \${PORT}", ttl: "\${ttl}", unlisted: "\${yes}" }
`);
    const m = c.models.get('m');
    assert.equal(m?.proxy, 'http://localhost:7000');
    assert.equal(m?.ttlMs, 5000);
    assert.equal(m?.unlisted, true);
    assert.equal(c.healthCheckTimeoutMs, 2500);
    assert.equal(c.includeAliasesInList, true);
    assert.deepEqual(c.scheduler, { use: 'fifo', priority: new Map([['m', 3]]) });
    oneIssue(
      'macros: { t: soon }\nmodels: { m: { cmd: a, proxy: "http://h", ttl: "${t}" } }',
      'models.m.ttl',
      /expected -1 or a number >= 0 and <= 2147483, got "soon" \(after macro expansion\)/,
    );
    oneIssue('macros: { p: 0 }\nstartPort: ${p}\nmodels: {}', 'startPort', /an integer >= 1 and <= 65535, got 0/);
  });

  it('does not expand map keys', () => {
    const m = model('macros: { k: v }\nmodels: { m: { cmd: a, proxy: "http://h", metadata: { "${k}": 1 } } }', 'm');
    assert.deepEqual(m.metadata, { '${k}': 1 });
  });
});
