/**
 * The matrix solver as plain tables: sets, costs, target, running -> the set
 * chosen, what it evicts and the full combination. The scenarios are those of
 * llama-swap's matrix tests (its DSL program tests, its config validation
 * tests, and its solver tests), so the same configs decide the same way here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileMatrix } from '../../src/config/matrix-compile.ts';
import type { MatrixProgram } from '../../src/config/matrix-compile.ts';
import { matrixCombinations, solveMatrix } from '../../src/scheduler/matrix-solve.ts';

/** Compiles `sets` (in order) over the given model ids and vars. */
function program(sets: ReadonlyArray<readonly [string, string]>, vars: Readonly<Record<string, string>> = {}): MatrixProgram {
  const r = compileMatrix(sets.map(([name, dsl]) => ({ name, dsl })), (name) => ({ ok: true, id: vars[name] ?? name }));
  assert.deepEqual(r.issues, []);
  return r.program;
}

function solve(p: MatrixProgram, target: string, running: string[], costs: Readonly<Record<string, number>> = {}) {
  const d = solveMatrix(p, target, running, (m) => costs[m] ?? 1);
  return { set: d.set?.name, evict: d.evict, combination: d.combination, cost: d.cost };
}

describe('projection of one set onto the relevant models', () => {
  const rows: ReadonlyArray<readonly [string, string, string[], string[][]]> = [
    ['single model', 'a', ['a'], [['a']]],
    ['and', 'a & b', ['a', 'b'], [['a', 'b']]],
    ['or', 'a | b | c', ['a', 'b', 'c'], [['a'], ['b'], ['c']]],
    ['cartesian product', '(a | b) & (c | d)', ['a', 'b', 'c', 'd'], [['a', 'c'], ['a', 'd'], ['b', 'c'], ['b', 'd']]],
    ['precedence', 'a | b & c', ['a', 'b', 'c'], [['a'], ['b', 'c']]],
    ['deduplicates models', 'a & a', ['a'], [['a']]],
    ['alternatives that differ only in irrelevant models collapse to the first', '(a | b) & c', ['c'], [['a', 'c']]],
    ['a subset of another alternative is dropped', 'a | (a & b)', ['a', 'b'], [['a', 'b']]],
  ];
  for (const [scenario, dsl, relevant, want] of rows) {
    it(scenario, () => assert.deepEqual(matrixCombinations(program([['test', dsl]]), 'test', relevant), want));
  }

  it('follows references', () => {
    const p = program([['llms', 'g | q | m'], ['with_tts', '+llms & v'], ['mega', '+with_tts & e']]);
    assert.deepEqual(matrixCombinations(p, 'mega', ['g', 'q', 'm', 'v', 'e']), [['e', 'g', 'v'], ['e', 'q', 'v'], ['e', 'm', 'v']]);
  });
});

describe('solveMatrix', () => {
  const gemma = program(
    [['standard', '(g | q | m) & v'], ['full', 'L']],
    { g: 'gemma', q: 'qwen', m: 'mistral', v: 'voxtral', L: 'llama70B' },
  );
  const gemmaCosts = { llama70B: 30, voxtral: 50 };
  const withRef = program(
    [['llms', 'g | q | m'], ['with_tts', '+llms & v'], ['mega', '+with_tts & e']],
    { g: 'gemma', q: 'qwen', m: 'mistral', v: 'voxtral', e: 'reranker' },
  );
  type Row = readonly [string, MatrixProgram, string, string[], Record<string, number>, ReturnType<typeof solve>];
  const rows: readonly Row[] = [
    ['a model joins the set it shares with a running one', gemma, 'gemma', ['voxtral'], gemmaCosts,
      { set: 'standard', evict: [], combination: ['gemma', 'voxtral'], cost: 0 }],
    ['a model that runs alone evicts the rest', gemma, 'llama70B', ['voxtral'], gemmaCosts,
      { set: 'full', evict: ['voxtral'], combination: ['llama70B'], cost: 50 }],
    ['swapping within an alternative keeps the costly model', gemma, 'qwen', ['gemma', 'voxtral'], gemmaCosts,
      { set: 'standard', evict: ['gemma'], combination: ['qwen', 'voxtral'], cost: 1 }],
    ['references: the widest set keeps everything', withRef, 'reranker', ['gemma', 'voxtral'], {},
      { set: 'mega', evict: [], combination: ['gemma', 'reranker', 'voxtral'], cost: 0 }],
    ['a running target evicts nothing', gemma, 'voxtral', ['llama70B', 'voxtral'], gemmaCosts,
      { set: undefined, evict: [], combination: ['llama70B', 'voxtral'], cost: 0 }],
    ['a target in no set runs alone', program([['known', 'a & b']]), 'missing', ['a', 'b'], {},
      { set: undefined, evict: ['a', 'b'], combination: ['missing'], cost: 2 }],
    ['a tie goes to the set defined first', program([['first', 'a & b'], ['second', 'a & c']]), 'a', [], {},
      { set: 'first', evict: [], combination: ['a', 'b'], cost: 0 }],
    ['higher evict costs steer to the cheaper set', program([['a_with_c', 'a & c'], ['a_with_b', 'a & b']]), 'a', ['b', 'c'], { b: 10, c: 1 },
      { set: 'a_with_b', evict: ['c'], combination: ['a', 'b'], cost: 1 }],
    ['overlapping references keep every running model', program([['base', 'a & b'], ['extended', 'target & +base & b']]), 'target', ['a', 'b'], {},
      { set: 'extended', evict: [], combination: ['a', 'b', 'target'], cost: 0 }],
    ['a dominated alternative loses to its superset', program([['preferred', 'target & (a | (a & b))']]), 'target', ['a', 'b'], {},
      { set: 'preferred', evict: [], combination: ['a', 'b', 'target'], cost: 0 }],
    ['two single-model sets never coexist', program([['s_a', 'a'], ['s_b', 'b']]), 'b', ['a'], {},
      { set: 's_b', evict: ['a'], combination: ['b'], cost: 1 }],
    ['vars and ids resolve to one model', program([['combo', 'g & gemma']], { g: 'gemma' }), 'gemma', [], {},
      { set: 'combo', evict: [], combination: ['gemma'], cost: 0 }],
    ['a var wins over a model id of the same name', program([['combo', 'qwen']], { qwen: 'gemma' }), 'gemma', [], {},
      { set: 'combo', evict: [], combination: ['gemma'], cost: 0 }],
  ];
  for (const [scenario, p, target, running, costs, want] of rows) {
    it(scenario, () => assert.deepEqual(solve(p, target, running, costs), want));
  }

  it('solves a product of a million combinations without listing them', () => {
    const dims = Array.from({ length: 6 }, (_, d) => `(${Array.from({ length: 10 }, (_, c) => `model-${d}-${c}`).join(' | ')})`);
    const p = program([['large', `target & ${dims.join(' & ')}`]]);
    const running = [...Array.from({ length: 6 }, (_, d) => `model-${d}-9`), 'outside'];
    const started = performance.now();
    const got = solve(p, 'target', running);
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(got.evict, ['outside']);
    assert.equal(got.set, 'large');
    assert.equal(got.combination.length, 7);
  });

  it('handles more than 64 relevant models', () => {
    const models = ['target', ...Array.from({ length: 70 }, (_, i) => `model-${i}`)];
    const got = solve(program([['wide', models.join(' & ')]]), 'target', [...models.slice(1), 'outside']);
    assert.deepEqual(got.evict, ['outside']);
    assert.equal(got.combination.length, 71);
  });
});
