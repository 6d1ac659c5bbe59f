/**
 * Keys that are accepted but do nothing yet. The schema marks them, so the
 * list of such keys lives in one place (schema/config.schema.json):
 * - `x-inactive: "<why>"`: present at all -> one warning;
 * - `x-inactive-when-true: "<why>"`: set to `true` -> one warning.
 *
 * A warning never stops loading: the config runs, and the start-up log says
 * which of its settings have no effect, so nothing is silently ignored.
 */
import type { IssueList, KeyPath } from './issues.ts';
import { configSchema } from './schema.ts';
import { isMap } from './is-map.ts';

type Schema = { readonly [key: string]: unknown };

const DEFINITION = '#/definitions/';

function deref(s: Schema): Schema {
  const ref = s['$ref'];
  if (typeof ref !== 'string' || !ref.startsWith(DEFINITION)) return s;
  const defs = configSchema()['definitions'] as Record<string, Schema>;
  return deref(defs[ref.slice(DEFINITION.length)] ?? {});
}

/** The schema of member `key` of a map whose schema is `s`, if it names one. */
function member(s: Schema, key: string): Schema | undefined {
  const props = s['properties'] as Record<string, Schema> | undefined;
  const own = props?.[key];
  if (own !== undefined) return own;
  const extra = s['additionalProperties'];
  return isMap(extra) ? extra : undefined;
}

function walk(data: unknown, schema: Schema, path: KeyPath, warnings: IssueList): void {
  if (!isMap(data)) return;
  for (const [key, value] of Object.entries(data)) {
    const sub = member(schema, key);
    if (sub === undefined) continue;
    const at = [...path, key];
    const inactive = sub['x-inactive'];
    const whenTrue = sub['x-inactive-when-true'];
    if (typeof inactive === 'string') warnings.add(at, `accepted but not active yet: ${inactive}`);
    else if (typeof whenTrue === 'string' && value === true) warnings.add(at, `accepted but not active yet: ${whenTrue}`);
    walk(value, deref(sub), at, warnings);
  }
}

/** Adds a warning for every inactive key present in `data` (the macro-expanded tree). */
export function inactiveKeyWarnings(data: unknown, warnings: IssueList): void {
  walk(data, configSchema(), [], warnings);
}
