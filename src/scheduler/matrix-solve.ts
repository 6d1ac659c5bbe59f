/**
 * The matrix decision: which running models to stop so that `target` may run.
 *
 *   (1) The target is running: nothing is evicted.
 *   (2) Otherwise every combination, of every set, that contains the target is
 *       a candidate. Its cost is the sum of the eviction costs of the running
 *       models it does not contain (a combination only says which models may
 *       coexist; none is preloaded).
 *   (3) The cheapest candidate wins; on a tie the first one, in set order
 *       (see MatrixProgram) and then in the order the expression lists its
 *       alternatives.
 *   (4) A target that is in no set runs alone: everything running is evicted.
 *
 * Combinations are never listed. Only the target and the running models can
 * change the answer, so each expression is projected onto them: a node's
 * value is the list of distinct subsets of those models it can produce (a
 * bitmask each), `|` merges its children's lists, `&` unions one choice of
 * each child, a model not among them projects to nothing. A subset contained
 * in another is dropped: costs are positive, so keeping more running models
 * is never worse. Results are memoised per node for one call.
 */
import { assertNever } from '../errors.ts';
import type { MatrixProgram, MatrixSet } from '../config/matrix-compile.ts';
import type { MatrixNode } from '../config/matrix-dsl.ts';

export interface MatrixDecision {
  /** Running models outside the chosen combination, in `running` order. */
  readonly evict: readonly string[];
  /** The chosen set; undefined when the target is running already or is in no set. */
  readonly set: MatrixSet | undefined;
  /** The chosen combination, in full (models that are not running included), sorted. */
  readonly combination: readonly string[];
  /** Sum of the eviction costs of `evict`. */
  readonly cost: number;
}

/** Which leaves a projected state came from: enough to rebuild the whole combination for a log line. */
type Witness = { readonly model: string } | { readonly both: readonly [Witness | undefined, Witness | undefined] };

interface State {
  readonly mask: bigint;
  readonly witness: Witness | undefined;
}

/** Adds `s` unless a state already holds a superset of it; drops the states it holds. */
function addToFrontier(states: State[], s: State): State[] {
  if (states.some((t) => (s.mask & ~t.mask) === 0n)) return states;
  const kept = states.filter((t) => (t.mask & ~s.mask) !== 0n);
  kept.push(s);
  return kept;
}

function flatten(w: Witness | undefined, out: Set<string>): void {
  if (w === undefined) return;
  if ('model' in w) out.add(w.model);
  else {
    flatten(w.both[0], out);
    flatten(w.both[1], out);
  }
}

class Projection {
  readonly #bit: ReadonlyMap<string, bigint>;
  readonly #sets: ReadonlyMap<string, MatrixSet>;
  readonly #memo = new Map<MatrixNode, readonly State[]>();

  constructor(relevant: readonly string[], program: MatrixProgram) {
    const bit = new Map<string, bigint>();
    for (const m of relevant) if (!bit.has(m)) bit.set(m, 1n << BigInt(bit.size));
    this.#bit = bit;
    this.#sets = new Map(program.sets.map((s) => [s.name, s]));
  }

  bit(model: string): bigint {
    return this.#bit.get(model) ?? 0n;
  }

  states(n: MatrixNode): readonly State[] {
    const known = this.#memo.get(n);
    if (known !== undefined) return known;
    let out: State[];
    switch (n.kind) {
      case 'model':
        out = [{ mask: this.bit(n.name), witness: { model: n.name } }];
        break;
      case 'ref': {
        const target = this.#sets.get(n.set);
        out = target === undefined ? [] : [...this.states(target.root)];
        break;
      }
      case 'or':
        out = [];
        for (const c of n.children) for (const s of this.states(c)) out = addToFrontier(out, s);
        break;
      case 'and':
        out = [{ mask: 0n, witness: undefined }];
        for (const c of n.children) {
          let next: State[] = [];
          for (const left of out) {
            for (const right of this.states(c)) {
              next = addToFrontier(next, { mask: left.mask | right.mask, witness: { both: [left.witness, right.witness] } });
            }
          }
          out = next;
        }
        break;
      default:
        return assertNever(n);
    }
    this.#memo.set(n, out);
    return out;
  }
}

/** Decides (1)–(4). `cost(model)` is a model's eviction cost (positive; 1 unless configured). */
export function solveMatrix(
  program: MatrixProgram,
  target: string,
  running: readonly string[],
  cost: (model: string) => number,
): MatrixDecision {
  const others = [...new Set(running)].filter((m) => m !== target);
  // (1)
  if (running.includes(target)) return { evict: [], set: undefined, combination: [target, ...others].sort(), cost: 0 };
  const p = new Projection([target, ...others], program);
  const targetBit = p.bit(target);
  let best: { set: MatrixSet; state: State; cost: number } | undefined;
  // (2)
  for (const set of program.sets) {
    if (!set.models.includes(target)) continue;
    for (const state of p.states(set.root)) {
      if ((state.mask & targetBit) === 0n) continue;
      let c = 0;
      for (const m of others) if ((state.mask & p.bit(m)) === 0n) c += cost(m);
      // (3) strictly cheaper only: the first of equals stays
      if (best === undefined || c < best.cost) best = { set, state, cost: c };
    }
  }
  // (4)
  if (best === undefined) return { evict: others, set: undefined, combination: [target], cost: others.reduce((sum, m) => sum + cost(m), 0) };
  const combination = new Set<string>();
  flatten(best.state.witness, combination);
  const evict = others.filter((m) => (best.state.mask & p.bit(m)) === 0n);
  return { evict, set: best.set, combination: [...combination].sort(), cost: best.cost };
}

/**
 * The distinct combinations set `name` allows, projected onto `relevant` (each
 * one listed in full, sorted), in the order the solver considers them. For
 * tests and diagnostics: `relevant` should stay small.
 */
export function matrixCombinations(program: MatrixProgram, name: string, relevant: readonly string[]): string[][] {
  const set = program.sets.find((s) => s.name === name);
  if (set === undefined) return [];
  return new Projection(relevant, program).states(set.root).map((s) => {
    const models = new Set<string>();
    flatten(s.witness, models);
    return [...models].sort();
  });
}
