/**
 * Compiles the matrix `sets` (name -> expression, in definition order) into a
 * program the solver reads: names resolved to model ids, `+set` references
 * checked, cycles rejected, and the sets put in the order ties are broken in.
 *
 * That order is a depth-first topological order over references, starting
 * from each set in definition order: a set comes after the sets it inlines.
 * Without references it is simply the definition order. (llama-swap orders
 * its sets the same way, so a tie picks the same set in both.)
 *
 * Every problem is reported, not only the first, each tied to its set.
 */
import { assertNever } from '../errors.ts';
import { matrixNodes, parseMatrixExpr } from './matrix-dsl.ts';
import type { MatrixNode } from './matrix-dsl.ts';

/** One compiled set. */
export interface MatrixSet {
  readonly name: string;
  /** The expression as written, for logs. */
  readonly dsl: string;
  /** Model leaves hold model ids; `ref` leaves name another set of the same program. */
  readonly root: MatrixNode;
  /** Every model the expression can mention (through references too), sorted. */
  readonly models: readonly string[];
}

/** The compiled sets, in tie-break order. */
export interface MatrixProgram {
  readonly sets: readonly MatrixSet[];
}

export interface MatrixDefinition {
  readonly name: string;
  readonly dsl: string;
}

/** A name in an expression resolved to a model id, or why it cannot be. */
export type Resolution = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly error: string };

export interface MatrixCompileIssue {
  /** The set the problem is in. */
  readonly set: string;
  readonly message: string;
}

export interface MatrixCompileResult {
  /** Meaningful only when `issues` is empty. */
  readonly program: MatrixProgram;
  readonly issues: readonly MatrixCompileIssue[];
}

function resolveLeaves(n: MatrixNode, resolve: (name: string) => string): MatrixNode {
  switch (n.kind) {
    case 'model': return { kind: 'model', name: resolve(n.name) };
    case 'ref': return n;
    case 'and': case 'or': return { kind: n.kind, children: n.children.map((c) => resolveLeaves(c, resolve)) };
    default: return assertNever(n);
  }
}

export function compileMatrix(definitions: readonly MatrixDefinition[], resolve: (name: string) => Resolution): MatrixCompileResult {
  const issues: MatrixCompileIssue[] = [];
  const roots = new Map<string, MatrixNode>();
  const refs = new Map<string, string[]>();
  const dsl = new Map(definitions.map((d) => [d.name, d.dsl]));
  if (definitions.length === 0) issues.push({ set: '', message: 'the matrix must define at least one set' });

  for (const def of definitions) {
    const parsed = parseMatrixExpr(def.dsl);
    if (!parsed.ok) {
      issues.push({ set: def.name, message: parsed.error });
      continue;
    }
    const own: string[] = [];
    for (const n of matrixNodes(parsed.root)) {
      if (n.kind === 'ref' && !dsl.has(n.set)) issues.push({ set: def.name, message: `+${n.set} refers to a set that is not defined` });
      else if (n.kind === 'ref' && !own.includes(n.set)) own.push(n.set);
    }
    roots.set(def.name, resolveLeaves(parsed.root, (name) => {
      const r = resolve(name);
      if (r.ok) return r.id;
      issues.push({ set: def.name, message: r.error });
      return name;
    }));
    refs.set(def.name, own);
  }

  // Depth-first: a set is placed after the sets it references. A reference back
  // to a set still being visited is a cycle.
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: readonly string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      issues.push({ set: name, message: `circular reference: ${cycle.map((c) => `+${c}`).join(' -> ')}` });
      return;
    }
    state.set(name, 'visiting');
    for (const dep of refs.get(name) ?? []) if (roots.has(dep)) visit(dep, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const def of definitions) if (roots.has(def.name)) visit(def.name, []);

  const models = new Map<string, readonly string[]>();
  const modelsOf = (name: string): readonly string[] => {
    const known = models.get(name);
    if (known !== undefined) return known;
    models.set(name, []); // a cycle (already reported) ends here
    const out = new Set<string>();
    const root = roots.get(name);
    for (const n of root === undefined ? [] : matrixNodes(root)) {
      if (n.kind === 'model') out.add(n.name);
      else if (n.kind === 'ref') for (const m of modelsOf(n.set)) out.add(m);
    }
    const sorted = [...out].sort();
    models.set(name, sorted);
    return sorted;
  };
  const sets = order.map((name): MatrixSet => ({ name, dsl: dsl.get(name) ?? '', root: roots.get(name)!, models: modelsOf(name) }));
  return { program: { sets }, issues };
}
