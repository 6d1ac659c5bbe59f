/**
 * Shape validation against schema/config.schema.json, the single source of
 * truth for keys, types, enums and defaults. Ajv runs with `allErrors`, and its
 * errors are translated into issues that name the key path, the expected shape
 * and the received value.
 *
 * Two passes use the same schema file:
 * - `raw`: before macro expansion. A typed value (number, boolean, enum) may be
 *   a whole `${macro}` reference. Defaults from the schema are filled in (the
 *   data is mutated: pass a tree you own).
 * - `expanded`: after macro expansion. `${macro}` references are no longer
 *   accepted anywhere a typed value is expected, so `ttl: ${t}` with `t: abc`
 *   is reported here.
 *
 * The loader runs both passes even when the first one found problems, so one
 * run lists every problem; `skip` lets it drop an error that only repeats one
 * already reported (the same path in the other pass, a missing `${env.NAME}`).
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { didYouMean, showValue } from './issues.ts';
import type { IssueList, KeyPath } from './issues.ts';

export type SchemaPass = 'raw' | 'expanded';

type Schema = { readonly [key: string]: unknown };

const SCHEMA_URL = new URL('../../schema/config.schema.json', import.meta.url);
const MACRO_REF = '#/definitions/macroRef';
/** Annotations of our own: `x-expected` words the accepted shape, `x-legacyList` is the message for a removed list form, `x-inactive*` feed warnings.ts. */
export const ANNOTATIONS = ['x-expected', 'x-legacyList', 'x-inactive', 'x-inactive-when-true'];

let schemaCache: Schema | undefined;
const validators = new Map<SchemaPass, ValidateFunction>();

/** The parsed schema/config.schema.json (read once). */
export function configSchema(): Schema {
  schemaCache ??= JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Schema;
  return schemaCache;
}

function validator(pass: SchemaPass): ValidateFunction {
  let fn = validators.get(pass);
  if (fn !== undefined) return fn;
  let schema = configSchema();
  if (pass === 'expanded') {
    const defs = schema['definitions'] as Schema;
    schema = { ...schema, definitions: { ...defs, macroRef: { not: {} } } };
  }
  const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: pass === 'raw', allowUnionTypes: true });
  for (const keyword of ANNOTATIONS) ajv.addKeyword(keyword);
  fn = ajv.compile(schema);
  validators.set(pass, fn);
  return fn;
}

/** Tells the validator to leave out an error at `path` about `value` (it repeats one already reported). */
export type SkipError = (path: KeyPath, value: unknown) => boolean;

/** Validates `data`; adds one issue per problem (minus the skipped ones) and returns whether it was valid. */
export function validateShape(data: unknown, pass: SchemaPass, issues: IssueList, skip: SkipError = () => false): boolean {
  const validate = validator(pass);
  if (validate(data)) return true;
  translate(validate.errors ?? [], data, pass, issues, skip);
  return false;
}

function bounds(s: Schema): string {
  const parts: string[] = [];
  if (typeof s['minimum'] === 'number') parts.push(`>= ${s['minimum']}`);
  if (typeof s['exclusiveMinimum'] === 'number') parts.push(`> ${s['exclusiveMinimum']}`);
  if (typeof s['maximum'] === 'number') parts.push(`<= ${s['maximum']}`);
  return parts.length === 0 ? '' : ` ${parts.join(' and ')}`;
}

/** Human wording of what a (sub)schema accepts, e.g. "a number > 0 or a ${macro} reference". */
export function describe(s: Schema | undefined, pass: SchemaPass = 'raw'): string {
  if (s === undefined) return 'a value';
  if (s['$ref'] === MACRO_REF) return pass === 'raw' ? 'a ${macro} reference' : '';
  if (typeof s['x-expected'] === 'string') return s['x-expected'];
  if (Array.isArray(s['anyOf'])) {
    return (s['anyOf'] as Schema[])
      .map((b) => describe(b, pass))
      .filter((t) => t !== '')
      .join(' or ');
  }
  if ('const' in s) return JSON.stringify(s['const']);
  if (Array.isArray(s['enum'])) return `one of ${(s['enum'] as unknown[]).join(', ')}`;
  switch (s['type']) {
    case 'number':
      return `a number${bounds(s)}`;
    case 'integer':
      return `an integer${bounds(s)}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      return s['minLength'] === 1 ? 'a non-empty string' : 'a string';
    case 'array': {
      const items = s['items'] as Schema | undefined;
      const list = s['minItems'] === 1 ? 'a non-empty list' : 'a list';
      return items === undefined ? list : `${list} (each ${describe(items, pass)})`;
    }
    case 'object':
      return s['minProperties'] === 1 ? 'a non-empty map' : 'a map';
    default:
      return 'a value';
  }
}

/** JSON pointer -> key path; numeric segments become indexes only where the data is an array. */
function toPath(pointer: string, data: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let node: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const key = Array.isArray(node) ? Number(seg) : seg;
    path.push(key);
    node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  return path;
}

function translate(errors: readonly ErrorObject[], data: unknown, pass: SchemaPass, issues: IssueList, skip: SkipError): void {
  // An anyOf error summarises its branches' errors at the same path: report it alone.
  const summarised = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const after = pass === 'expanded' ? ' (after macro expansion)' : '';
  for (const e of errors) {
    if (e.schemaPath.includes('/propertyNames/')) continue; // reported by its propertyNames error
    if (summarised.has(e.instancePath) && e.keyword !== 'anyOf') continue;
    const path = toPath(e.instancePath, data);
    if (skip(path, e.data)) continue;
    const parent = (e.parentSchema ?? {}) as Schema;
    const params = e.params as Record<string, unknown>;
    if (typeof parent['x-legacyList'] === 'string' && Array.isArray(e.data)) {
      issues.add(path, parent['x-legacyList'], e.data);
      continue;
    }
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(params['additionalProperty']);
        const known = Object.keys((parent['properties'] ?? {}) as Record<string, Schema>);
        const value = (e.data as Record<string, unknown>)[key];
        issues.add([...path, key], `unknown key "${key}"${didYouMean(key, known)}`, value);
        break;
      }
      case 'required': {
        const key = String(params['missingProperty']);
        const sub = ((parent['properties'] ?? {}) as Record<string, Schema>)[key];
        issues.add([...path, key], `required key is missing: expected ${describe(sub, pass)}`);
        break;
      }
      case 'propertyNames': {
        const key = String(params['propertyName']);
        const names = e.schema as Schema;
        const not = (names['not'] ?? {}) as Schema;
        const reserved = not['const'] === key || (Array.isArray(not['enum']) && not['enum'].includes(key));
        const why = reserved ? `"${key}" is a reserved name` : `invalid key "${key}"`;
        issues.add([...path, key], `${why}: expected ${describe(names, pass)}`);
        break;
      }
      default:
        issues.add(path, `expected ${describe(parent, pass)}, got ${showValue(e.data)}${after}`, e.data);
    }
  }
}
