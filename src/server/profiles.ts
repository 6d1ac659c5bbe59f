/**
 * The active profile and its pins. At most one profile is active; it lives in
 * memory only, so none is active at start-up or after a config reload (the
 * reloaded profiles may not be the ones that were switched on).
 *
 * A pin rewrites the requested id before anything else looks at it (aliases,
 * selectors, filters, routing): the request then carries the target as its
 * model. A pin to null disables the id: the request gets 404, as if the id
 * did not exist. Pins do not chain: the target is not pinned again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config, ProfileConfig } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import { readBody } from './body.ts';
import { sendJson } from './openai-error.ts';
import { quote } from './quote.ts';

export class ActiveProfile {
  #config: Config;
  #active: ProfileConfig | undefined;

  constructor(config: Config) {
    this.#config = config;
  }

  /**
   * A reloaded config: no profile is active any more. Each holder of the
   * shared instance (the HTTP app, the upgrade handler) calls this when it
   * first sees a config; the same config again changes nothing, so a profile
   * switched on after a reload stays on.
   */
  reset(config: Config): void {
    if (config === this.#config) return;
    this.#config = config;
    this.#active = undefined;
  }

  get active(): ProfileConfig | undefined {
    return this.#active;
  }

  /** Switch to the profile `name` (null: none); NOT_FOUND for a name the config does not define. */
  set(name: string | null): void {
    if (name === null) {
      this.#active = undefined;
      return;
    }
    const profile = this.#config.profiles.get(name);
    if (profile === undefined) {
      const known = [...this.#config.profiles.keys()];
      throw new ProxyError('NOT_FOUND', `unknown profile ${quote(name)}; profiles: ${known.length > 0 ? known.join(', ') : '(none configured)'}`);
    }
    this.#active = profile;
  }

  /** The id to use for a request that names `requested`; MODEL_NOT_FOUND when the active profile disables it. */
  pin(requested: string): string {
    const pins = this.#active?.pins;
    if (pins === undefined || !pins.has(requested)) return requested;
    const target = pins.get(requested) ?? null;
    if (target === null) throw disabled(requested, this.#active!);
    return target;
  }

  /**
   * `/upstream/<name>/<rest>`: the longest pin that is the first `n` path
   * segments, `nameOf(n)` being those segments decoded and joined with `/`
   * (undefined when they do not decode). Returns `n` and the pin's target;
   * MODEL_NOT_FOUND when that pin disables the name; undefined for no pin.
   */
  pinPrefix(count: number, nameOf: (n: number) => string | undefined): { readonly n: number; readonly target: string } | undefined {
    const pins = this.#active?.pins;
    if (pins === undefined) return undefined;
    for (let n = count; n >= 1; n--) {
      const name = nameOf(n);
      if (name === undefined || !pins.has(name)) continue;
      const target = pins.get(name) ?? null;
      if (target === null) throw disabled(name, this.#active!);
      return { n, target };
    }
    return undefined;
  }
}

function disabled(name: string, profile: ProfileConfig): ProxyError {
  return new ProxyError('MODEL_NOT_FOUND', `model ${quote(name)} is disabled by the active profile ${quote(profile.id)}`);
}

/** `GET /api/profiles`: every profile, sorted by name, and the active one's name (or null). */
export function listProfiles(config: Config, profiles: ActiveProfile): unknown {
  return {
    active: profiles.active?.id ?? null,
    profiles: [...config.profiles.values()].map((p) => ({ id: p.id, description: p.description, pins: Object.fromEntries(p.pins) })),
  };
}

/** `PUT /api/profiles/active` with `{"name": "<profile>" | null}`: 400 for any other body, 404 for an unknown name. */
export async function switchProfile(req: IncomingMessage, res: ServerResponse, profiles: ActiveProfile, maxBytes: number): Promise<void> {
  const body = await readBody(req, maxBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProxyError('BAD_REQUEST', 'expected a JSON body such as {"name": "coding"} or {"name": null}');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.hasOwn(parsed, 'name')) {
    throw new ProxyError('BAD_REQUEST', 'profile name is required: send {"name": "<profile>"}, or {"name": null} for none');
  }
  const name = (parsed as { name: unknown }).name;
  if (name !== null && typeof name !== 'string') throw new ProxyError('BAD_REQUEST', `profile name must be a string or null, got ${JSON.stringify(name)}`);
  profiles.set(name === '' ? null : name);
  sendJson(res, 200, { active: profiles.active?.id ?? null });
}
