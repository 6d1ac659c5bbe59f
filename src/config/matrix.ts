/**
 * Normalization of the matrix block (`routing.router.settings.matrix`, or the
 * legacy top-level `matrix`) once the schema has checked its shape:
 *   - `vars`: short name -> model id (an alias is refused: vars name models);
 *   - names in `sets` and keys of `evict_costs` are vars first, then model ids;
 *   - `sets` compile (matrix-compile.ts) in the order the file lists them.
 * Every problem is reported at its key path (so with its line).
 */
import { didYouMean } from './issues.ts';
import type { IssueList, KeyPath } from './issues.ts';
import { compileMatrix } from './matrix-compile.ts';
import type { Resolution } from './matrix-compile.ts';
import type { Names } from './routing.ts';
import type { MatrixConfig } from './types.ts';
import { isMap } from './is-map.ts';

function modelIdError(name: string, names: Names, what: string): string {
  const aliasOf = names.aliases.get(name);
  if (aliasOf !== undefined) return `"${name}" is an alias of model "${aliasOf}": ${what} name model ids (or vars)`;
  return `unknown var or model "${name}"${didYouMean(name, names.ids)}`;
}

/**
 * `raw` is the matrix block at `base`; `keyOrder` lists a map's keys in file
 * order (the order of `sets` breaks ties).
 */
export function normalizeMatrix(
  raw: unknown,
  base: KeyPath,
  names: Names,
  issues: IssueList,
  keyOrder: readonly string[] | undefined,
): MatrixConfig {
  const block = isMap(raw) ? raw : {};
  const vars = new Map<string, string>();
  for (const [key, id] of Object.entries(isMap(block['vars']) ? block['vars'] : {})) {
    if (typeof id !== 'string') continue; // reported by the schema
    if (names.ids.has(id)) vars.set(key, id);
    else {
      const aliasOf = names.aliases.get(id);
      issues.add(
        [...base, 'vars', key],
        aliasOf === undefined
          ? `var "${key}" names unknown model "${id}"${didYouMean(id, names.ids)}`
          : `var "${key}" names "${id}", an alias of model "${aliasOf}": vars name model ids`,
        id,
      );
      vars.set(key, id); // its uses are not reported again
    }
  }
  const resolve = (name: string, what: string): Resolution => {
    const viaVar = vars.get(name);
    if (viaVar !== undefined) return { ok: true, id: viaVar };
    if (names.ids.has(name)) return { ok: true, id: name };
    return { ok: false, error: modelIdError(name, names, what) };
  };

  const evictCosts = new Map<string, number>();
  for (const [key, cost] of Object.entries(isMap(block['evict_costs']) ? block['evict_costs'] : {})) {
    const path = [...base, 'evict_costs', key];
    if (issues.touches(path)) continue; // its value is already reported
    const r = resolve(key, 'evict_costs');
    if (!r.ok) issues.add(path, r.error, key);
    else if (evictCosts.has(r.id)) issues.add(path, `model "${r.id}" already has a cost (through its id or another var)`, key);
    else if (typeof cost === 'number') evictCosts.set(r.id, cost);
  }

  const sets = isMap(block['sets']) ? block['sets'] : {};
  const order = keyOrder ?? Object.keys(sets);
  const definitions = order.filter((name) => typeof sets[name] === 'string').map((name) => ({ name, dsl: sets[name] as string }));
  const setsPath = [...base, 'sets'];
  const compiled = compileMatrix(definitions, (name) => resolve(name, 'sets'));
  const schemaSaidSo = issues.atOrAbove(setsPath) || issues.under(setsPath);
  for (const issue of compiled.issues) {
    if (issue.set === '' && schemaSaidSo) continue; // no sets: the schema already said so
    issues.add(issue.set === '' ? setsPath : [...setsPath, issue.set], issue.message);
  }
  return { program: compiled.program, evictCosts };
}
