/**
 * The matrix sets language and its compiler: parse trees, precedence, and
 * every error (syntax with its column, unknown names, undefined sets, cycles).
 * The cases follow llama-swap's own DSL and compile tests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMatrixExpr } from '../../src/config/matrix-dsl.ts';
import type { MatrixNode } from '../../src/config/matrix-dsl.ts';
import { compileMatrix } from '../../src/config/matrix-compile.ts';
import type { Resolution } from '../../src/config/matrix-compile.ts';

const m = (name: string): MatrixNode => ({ kind: 'model', name });
const ref = (set: string): MatrixNode => ({ kind: 'ref', set });
const and = (...children: MatrixNode[]): MatrixNode => ({ kind: 'and', children });
const or = (...children: MatrixNode[]): MatrixNode => ({ kind: 'or', children });

describe('parseMatrixExpr', () => {
  const trees: ReadonlyArray<readonly [string, string, MatrixNode]> = [
    ['a single name', 'abc', m('abc')],
    ['names with -, . and _', 'model-name.v2_q4', m('model-name.v2_q4')],
    ['& joins models', 'a & b & c', and(m('a'), m('b'), m('c'))],
    ['| lists alternatives', 'a | b | c', or(m('a'), m('b'), m('c'))],
    ['& binds tighter than |', 'a | b & c', or(m('a'), and(m('b'), m('c')))],
    ['parentheses group', '(a | b) & c', and(or(m('a'), m('b')), m('c'))],
    ['+set references another set', '(a | +base) & b', and(or(m('a'), ref('base')), m('b'))],
    ['whitespace is ignored, even none', '(a|b)&(c|d)', and(or(m('a'), m('b')), or(m('c'), m('d')))],
    ['nested parentheses collapse', '((a))', m('a')],
    ['unicode letters are names', 'modèle & 模型', and(m('modèle'), m('模型'))],
  ];
  for (const [scenario, text, want] of trees) {
    it(scenario, () => assert.deepEqual(parseMatrixExpr(text), { ok: true, root: want }));
  }

  const errors: ReadonlyArray<readonly [string, string, RegExp]> = [
    ['empty', '', /empty expression/],
    ['blank', '   ', /empty expression/],
    ['+ without a name', '+', /set name after "\+" at column 1/],
    ['an unknown character', 'a @ b', /unexpected character "@" at column 3/],
    ['an unclosed parenthesis', '(a', /missing "\)" for the "\(" at column 1/],
    ['a stray closing parenthesis', 'a)', /unexpected "\)" at column 2/],
    ['empty parentheses', '()', /expected a model name.*column 2, found "\)"/],
    ['a dangling operator', 'a &', /expected a model name.*column 4, found the end/],
    ['two operators', 'a | & b', /column 5, found "&"/],
    ['two names without an operator', 'a b', /unexpected "b" at column 3/],
  ];
  for (const [scenario, text, want] of errors) {
    it(`error: ${scenario}`, () => {
      const r = parseMatrixExpr(text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, want);
    });
  }
});

/** Resolves the names in `known` to themselves, `x` (a var) to `a`. */
function resolver(...known: string[]): (name: string) => Resolution {
  return (name) => (name === 'x' ? { ok: true, id: 'a' } : known.includes(name) ? { ok: true, id: name } : { ok: false, error: `unknown var or model "${name}"` });
}

describe('compileMatrix', () => {
  it('resolves names (vars to model ids) and lists each set\'s models', () => {
    const r = compileMatrix([{ name: 's', dsl: 'x & b' }, { name: 't', dsl: '+s | c' }], resolver('a', 'b', 'c'));
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.program.sets.map((s) => [s.name, s.models]), [['s', ['a', 'b']], ['t', ['a', 'b', 'c']]]);
    assert.deepEqual(r.program.sets[0]?.root, and(m('a'), m('b')));
    assert.equal(r.program.sets[0]?.dsl, 'x & b');
  });

  it('orders sets after the sets they reference, otherwise as defined', () => {
    const r = compileMatrix(
      [{ name: 'mega', dsl: '+with_tts & e' }, { name: 'first', dsl: 'a' }, { name: 'with_tts', dsl: '+llms & v' }, { name: 'llms', dsl: 'g | q' }],
      resolver('a', 'e', 'v', 'g', 'q'),
    );
    assert.deepEqual(r.program.sets.map((s) => s.name), ['llms', 'with_tts', 'mega', 'first']);
  });

  const errors: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string]>, ReadonlyArray<readonly [string, RegExp]>]> = [
    ['no sets', [], [['', /at least one set/]]],
    ['a syntax error names its set', [['s', '(a']], [['s', /missing "\)"/]]],
    ['an unknown model', [['s', 'a & missing']], [['s', /unknown var or model "missing"/]]],
    ['an undefined set', [['s', '+missing']], [['s', /\+missing refers to a set that is not defined/]]],
    ['a cycle of two', [['a', '+b'], ['b', '+a']], [['a', /circular reference: \+a -> \+b -> \+a/]]],
    ['a set referencing itself', [['a', 'a | +a']], [['a', /circular reference: \+a -> \+a/]]],
    [
      'every problem at once',
      [['one', 'zz'], ['two', '+nope'], ['three', 'a &']],
      [['one', /unknown var or model "zz"/], ['two', /\+nope/], ['three', /expected a model name/]],
    ],
  ];
  for (const [scenario, defs, want] of errors) {
    it(`error: ${scenario}`, () => {
      const r = compileMatrix(defs.map(([name, dsl]) => ({ name, dsl })), resolver('a'));
      assert.equal(r.issues.length, want.length, JSON.stringify(r.issues));
      want.forEach(([set, message], i) => {
        assert.equal(r.issues[i]?.set, set);
        assert.match(r.issues[i]?.message ?? '', message);
      });
    });
  }
});
