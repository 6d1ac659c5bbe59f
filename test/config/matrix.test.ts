/**
 * The matrix block through the config loader: vars, evict_costs and sets
 * normalized into `Config.router`, the legacy top-level `matrix`, every
 * problem reported with its key path and line, and llama-swap's own example
 * matrix (test/fixtures/llama-swap/config.example.yaml) deciding as there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import type { Config, MatrixConfig } from '../../src/config/types.ts';
import { matrixDecision } from '../../src/scheduler/matrix-swapper.ts';
import { issuesOf, load } from './helpers.ts';

const stub = (ids: string[]): string => ids.map((id) => `  ${id}: { cmd: "srv \${PORT}" }`).join('\n');

function matrixOf(c: Config): MatrixConfig {
  assert.equal(c.router.use, 'matrix');
  if (c.router.use !== 'matrix') assert.fail('not a matrix router');
  return c.router.matrix;
}

describe('the matrix in the config', () => {
  it('resolves vars and evict_costs to model ids and keeps the sets in file order', () => {
    const c = load(`
routing:
  router:
    use: matrix
    settings:
      matrix:
        vars: { g: gemma, v: voxtral }
        evict_costs: { v: 50, llama: 30 }
        sets:
          "2": "(g | qwen) & v"
          "1": llama
  scheduler: { use: fifo }
models:
${stub(['gemma', 'qwen', 'voxtral', 'llama'])}
`);
    const mx = matrixOf(c);
    assert.deepEqual([...mx.evictCosts], [['voxtral', 50], ['llama', 30]]);
    assert.deepEqual(mx.program.sets.map((s) => [s.name, s.models]), [['2', ['gemma', 'qwen', 'voxtral']], ['1', ['llama']]]);
    assert.deepEqual(c.warnings, []);
  });

  it('the legacy top-level matrix becomes the matrix router (groups hold every model in (default))', () => {
    const c = load(`matrix: { vars: { g: gemma, q: qwen }, sets: { combo: "g | q" } }\nmodels:\n${stub(['gemma', 'qwen'])}`);
    assert.deepEqual(matrixOf(c).program.sets.map((s) => s.name), ['combo']);
    assert.deepEqual(c.groups.map((g) => [g.id, g.members]), [['(default)', ['gemma', 'qwen']]]);
  });

  it('reports every problem at once, each with its key path and line', () => {
    const issues = issuesOf(`models:
${stub(['a', 'b'])}
  c: { cmd: "srv \${PORT}", aliases: [see] }
routing:
  router:
    use: matrix
    settings:
      matrix:
        vars:
          x: nobody
          y: see
        evict_costs:
          zz: 2
          a: 3
          aa: 0
        sets:
          bad_name: "a & bb"
          cycle1: "+cycle2"
          cycle2: "a | +cycle1"
          dangling: "+nowhere"
          syntax: "(a | b"
          alias: "see & a"
`);
    const base = 'routing.router.settings.matrix';
    assert.deepEqual(issues.map((i) => [i.path, i.line]), [
      [`${base}.vars.x`, 11],
      [`${base}.vars.y`, 12],
      [`${base}.evict_costs.zz`, 14],
      [`${base}.evict_costs.aa`, 16],
      [`${base}.sets.bad_name`, 18],
      [`${base}.sets.cycle1`, 19],
      [`${base}.sets.dangling`, 21],
      [`${base}.sets.syntax`, 22],
      [`${base}.sets.alias`, 23],
    ]);
    const message = (path: string): string => issues.find((i) => i.path === `${base}.${path}`)?.message ?? '';
    assert.match(message('vars.x'), /var "x" names unknown model "nobody"/);
    assert.match(message('vars.y'), /"see", an alias of model "c": vars name model ids/);
    assert.match(message('evict_costs.zz'), /unknown var or model "zz"/);
    assert.match(message('evict_costs.aa'), /expected/);
    assert.match(message('sets.bad_name'), /unknown var or model "bb" \(did you mean b\?\)/);
    assert.match(message('sets.cycle1'), /circular reference: \+cycle1 -> \+cycle2 -> \+cycle1/);
    assert.match(message('sets.dangling'), /\+nowhere refers to a set that is not defined/);
    assert.match(message('sets.syntax'), /missing "\)"/);
    assert.match(message('sets.alias'), /"see" is an alias of model "c"/);
  });

  it('a model given a cost twice (through a var and its id) is an error', () => {
    const issues = issuesOf(`matrix: { vars: { g: a }, evict_costs: { g: 2, a: 3 }, sets: { s: g } }\nmodels:\n${stub(['a'])}`);
    assert.deepEqual(issues.map((i) => i.path), ['matrix.evict_costs.a']);
    assert.match(issues[0]?.message ?? '', /already has a cost/);
  });

  it('var names follow llama-swap\'s rule (letters, digits, - and ., at most 32)', () => {
    const issues = issuesOf(`matrix: { vars: { a_b: a, ${'x'.repeat(33)}: a, ok.v-1: a }, sets: { s: ok.v-1 } }\nmodels:\n${stub(['a'])}`);
    assert.deepEqual(issues.map((i) => i.path), ['matrix.vars.a_b', `matrix.vars.${'x'.repeat(33)}`]);
  });

  it('an empty sets map is one schema problem, not two', () => {
    const issues = issuesOf(`matrix: { sets: {} }\nmodels:\n${stub(['a'])}`);
    assert.deepEqual(issues.map((i) => i.path), ['matrix.sets']);
  });
});

describe("llama-swap's config.example.yaml matrix", () => {
  const fixture = readFileSync(new URL('../fixtures/llama-swap/config.example.yaml', import.meta.url), 'utf8');
  /** The example with use: matrix, and stubs for the models its matrix and priorities name but never define. */
  function matrixExample(): Config {
    const doc = parseDocument(fixture);
    doc.setIn(['routing', 'router', 'use'], 'matrix');
    // and for the names its profiles and selectors target (llama-swap checks those at load too)
    for (const name of ['gemma-model', 'qwen-model', 'mistral-model', 'voxtral-model', 'reranker-model', 'stable-diffusion', 'llama-70B', 'A', 'B', 'C', 'D', 'qwen-unlisted', 'modelA', 'modelB']) {
      doc.setIn(['models', name], doc.createNode({ cmd: 'stub --port ${PORT}' }));
    }
    return parseConfig(doc.toString(), { env: { HOME: '/home/u', API_KEY_1: 'k1', API_KEY_2: 'k2', OPENROUTER_API_KEY: 'sk-or' } });
  }

  it('loads with use: matrix (its groups, naming undefined models, are then not read)', () => {
    const mx = matrixOf(matrixExample());
    assert.deepEqual(mx.program.sets.map((s) => s.name), ['standard', 'with_rerank', 'creative', 'full']);
    assert.deepEqual([...mx.evictCosts], [['voxtral-model', 50], ['llama-70B', 30]]);
  });

  const rows: ReadonlyArray<readonly [string, string, string[], string | undefined, string[]]> = [
    ['an LLM joins the running TTS', 'gemma-model', ['voxtral-model'], 'standard', []],
    ['the reranker joins an LLM and TTS', 'reranker-model', ['qwen-model', 'voxtral-model'], 'with_rerank', []],
    ['mistral has no reranker set: the reranker goes, TTS stays', 'mistral-model', ['gemma-model', 'voxtral-model', 'reranker-model'], 'standard', ['gemma-model', 'reranker-model']],
    ['image generation keeps the LLM, drops the costly TTS only because it must', 'stable-diffusion', ['gemma-model', 'voxtral-model'], 'creative', ['voxtral-model']],
    ['the 70B model runs alone', 'llama-70B', ['gemma-model', 'voxtral-model'], 'full', ['gemma-model', 'voxtral-model']],
    ['after the 70B model, an LLM evicts it', 'qwen-model', ['llama-70B'], 'standard', ['llama-70B']],
    ['a model in no set runs alone', 'llama', ['gemma-model', 'voxtral-model'], undefined, ['gemma-model', 'voxtral-model']],
  ];
  for (const [scenario, target, running, set, evict] of rows) {
    it(scenario, () => {
      const d = matrixDecision(matrixOf(matrixExample()), target, running);
      assert.deepEqual([d.set?.name, d.evict], [set, evict]);
    });
  }
});
