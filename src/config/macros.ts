/**
 * Macro engine (llama-swap §6.1): ordered macro lists, reference checks,
 * resolution, and substitution into values.
 *
 * Rules:
 * 1. A macro value may use `${MODEL_ID}`, `${PORT}`, `${PID}`, `${DEVICE}`
 *    (resolved later, where they are allowed) and the macros declared BEFORE
 *    it in its list.
 *    A self reference, a forward reference or an unknown name is an issue.
 * 2. A model's list is the global list with the model's macros overriding in
 *    place and new ones appended (llama-swap's merge), so a global macro that
 *    uses an overridden one sees the model's value.
 * 3. A string that is exactly `${m}` becomes m's value with its type when the
 *    slot keeps types (metadata, typed keys); otherwise it becomes text.
 *    Substitution is one pass: text inserted by a macro is not rescanned.
 */
import { didYouMean } from './issues.ts';
import type { IssueList, KeyPath } from './issues.ts';
import type { MacroValue } from './raw.ts';

/** Resolved name -> value. */
export type Scope = ReadonlyMap<string, MacroValue>;

/** One declared macro and where it was declared (for issues). */
export interface MacroEntry {
  readonly name: string;
  readonly value: MacroValue;
  readonly path: KeyPath;
}

/**
 * Names that are always available to macro values and resolved later: by the
 * loader (MODEL_ID, PORT) or by the process layer (PID, DEVICE). DEVICE is not
 * reserved: a config's own macro of that name (llama-swap has none) wins.
 */
export const BUILTIN = new Set(['MODEL_ID', 'PORT', 'PID', 'DEVICE']);

/** `${name}` or `${env.NAME}`, as llama-swap matches them. */
export const REF = /\$\{((?:env\.)?[A-Za-z0-9_-]+)\}/g;
const WHOLE_REF = /^\$\{([A-Za-z0-9_-]+)\}$/;

/** Names referenced by `text`, in order (with repeats). */
export function refsIn(text: string): string[] {
  return Array.from(text.matchAll(REF), (m) => m[1] as string);
}

/** The macros of `obj` (a `macros` map) as entries, in the given key order. */
export function entriesOf(obj: unknown, order: readonly string[] | undefined, path: KeyPath): MacroEntry[] {
  if (obj === null || typeof obj !== 'object') return [];
  const rec = obj as Record<string, MacroValue>;
  return (order ?? Object.keys(rec))
    .filter((name) => Object.hasOwn(rec, name))
    .map((name) => ({ name, value: rec[name] as MacroValue, path: [...path, name] }));
}

/** Rule 2: `globals` with `own` overriding in place and new names appended. */
export function mergeEntries(globals: readonly MacroEntry[], own: readonly MacroEntry[]): MacroEntry[] {
  const merged = [...globals];
  for (const entry of own) {
    const at = merged.findIndex((e) => e.name === entry.name);
    if (at >= 0) merged[at] = entry;
    else merged.push(entry);
  }
  return merged;
}

/**
 * Rule 1 for the entries of `list` that satisfy `check` (the others were
 * checked in their own scope). Returns whether no issue was found.
 */
export function checkRefs(list: readonly MacroEntry[], check: (e: MacroEntry) => boolean, issues: IssueList): boolean {
  let ok = true;
  const names = list.map((e) => e.name);
  list.forEach((entry, index) => {
    if (!check(entry) || typeof entry.value !== 'string') return;
    for (const ref of new Set(refsIn(entry.value))) {
      if (BUILTIN.has(ref) || ref.startsWith('env.')) continue;
      const at = names.indexOf(ref);
      if (at >= 0 && at < index) continue;
      ok = false;
      if (ref === entry.name) {
        issues.add(entry.path, `macro "${entry.name}" references itself`, entry.value);
      } else if (at > index) {
        issues.add(
          entry.path,
          `macro "${entry.name}" uses \${${ref}}, which is declared after it: a macro may only use macros declared before it`,
          entry.value,
        );
      } else {
        const hint = didYouMean(ref, names.slice(0, index));
        issues.add(entry.path, `macro "${entry.name}" uses unknown macro \${${ref}}${hint}`, entry.value);
      }
    }
  });
  return ok;
}

/** Resolves `list` in order on top of `base` (e.g. MODEL_ID). Unresolvable references stay as text. */
export function resolveScope(list: readonly MacroEntry[], base: Scope = new Map()): Scope {
  const scope = new Map(base);
  for (const entry of list) {
    scope.set(entry.name, typeof entry.value === 'string' ? substitute(entry.value, scope, true) : entry.value);
  }
  return scope;
}

/** Rule 3 on one string. */
export function substitute(text: string, scope: Scope, keepType: boolean): MacroValue {
  const whole = WHOLE_REF.exec(text)?.[1];
  if (whole !== undefined) {
    const value = scope.get(whole);
    if (value !== undefined) return keepType ? value : String(value);
  }
  return text.replace(REF, (ref: string, name: string) => {
    const value = scope.get(name);
    return value === undefined ? ref : String(value);
  });
}

/** Substitutes in every string inside `value` (maps and lists recursively; keys are not expanded). */
export function expandValue(value: unknown, scope: Scope, keepType: boolean): unknown {
  if (typeof value === 'string') return substitute(value, scope, keepType);
  if (Array.isArray(value)) return value.map((v: unknown) => expandValue(v, scope, keepType));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, expandValue(v, scope, keepType));
    return out;
  }
  return value;
}

/** `obj[key] = value` as an own data property, so a `__proto__` key from YAML stays a plain key. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Calls `visit(text, path)` for every string inside `value`. */
export function eachString(value: unknown, path: KeyPath, visit: (text: string, path: KeyPath) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((v: unknown, i) => eachString(v, [...path, i], visit));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) eachString(v, [...path, k], visit);
  }
}
