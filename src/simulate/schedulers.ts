/**
 * Which schedulers `modelswap simulate` can compare, and the config each one
 * runs under.
 *
 * The names are the schema's values of `routing.scheduler.use`, so a
 * scheduler added there is simulated without a change here. A run under a
 * scheduler other than the config's own uses the same config text with
 * `routing.scheduler.use` set to that name and only that scheduler's
 * `routing.scheduler.settings` kept (another scheduler's settings, such as
 * fifo's priorities, would be refused), loaded by the real config loader.
 */
import { isMap, parseDocument } from 'yaml';
import { parseConfig, type ConfigEnv } from '../config/load.ts';
import { configSchema } from '../config/schema.ts';
import type { Config } from '../config/types.ts';

type Schema = { readonly [key: string]: unknown };

const child = (s: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((node, k) => (node !== null && typeof node === 'object' ? (node as Schema)[k] : undefined), s);

/** The values of an `enum`, directly or inside `anyOf`/`oneOf`. */
function enumValues(s: unknown): string[] {
  const direct = child(s, 'enum');
  if (Array.isArray(direct)) return direct.filter((v): v is string => typeof v === 'string');
  const alts = [child(s, 'anyOf'), child(s, 'oneOf')].flatMap((a) => (Array.isArray(a) ? a : []));
  return alts.flatMap(enumValues);
}

/** Every scheduler name the config accepts, in the schema's order. */
export function schedulerNames(): readonly string[] {
  return enumValues(child(configSchema(), 'properties', 'routing', 'properties', 'scheduler', 'properties', 'use'));
}

/**
 * `--scheduler a,b`: the names, in order, without repeats; undefined (the
 * flag absent) means every scheduler. Throws an Error naming the valid ones
 * for an unknown or empty name.
 */
export function parseSchedulerList(text: string | undefined): readonly string[] {
  const valid = schedulerNames();
  if (text === undefined) return valid;
  const names = text.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !valid.includes(n));
  if (bad.length > 0) {
    const what = bad.map((b) => (b === '' ? 'an empty name' : `"${b}"`)).join(', ');
    throw new Error(`--scheduler: unknown scheduler ${what}; valid: ${valid.join(', ')}`);
  }
  return [...new Set(names)];
}

/**
 * The config `text` as it runs under `scheduler`. `base` is the text loaded
 * as is (its problems were already reported); it is returned unchanged when it
 * already uses that scheduler. Throws ConfigError if the variant is not valid.
 */
export function configFor(text: string, base: Config, scheduler: string, opts: { source?: string; env?: ConfigEnv } = {}): Config {
  if (base.scheduler.use === scheduler) return base;
  const doc = parseDocument(text, { merge: true });
  doc.setIn(['routing', 'scheduler', 'use'], scheduler);
  const settings = doc.getIn(['routing', 'scheduler', 'settings']);
  if (isMap(settings)) {
    for (const item of [...settings.items]) {
      const key: unknown = (item.key as { value?: unknown } | null)?.value ?? item.key;
      if (key !== scheduler) settings.delete(key);
    }
  }
  return parseConfig(doc.toString(), { ...opts, source: `${opts.source ?? 'config'} (with routing.scheduler.use: ${scheduler})` });
}
