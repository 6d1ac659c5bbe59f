/**
 * Where an inference request goes, from the model name it carries:
 * 1. the active profile's pin for the name, if any (null: 404);
 * 2. a selector's choice, if the name (pinned or not) is a selector;
 * 3. a model id, an alias, or a peer model (models.ts `resolveDestination`).
 * Pins and selectors replace the name the request carries: filters then see
 * the new name, and it is what is forwarded (unless useModelName or a peer
 * rename it again).
 */
import type { Config } from '../config/types.ts';
import type { Destination } from './models.ts';
import { resolveDestination } from './models.ts';
import type { ActiveProfile } from './profiles.ts';
import type { SelectorPicker } from './selectors.ts';

export interface Dispatched {
  /** The name after steps 1 and 2. */
  readonly name: string;
  readonly destination: Destination;
  /** Ends a selector's reservation once the answer is over (a no-op otherwise); call exactly once. */
  readonly release: () => void;
}

export interface DispatchDeps {
  readonly config: Config;
  readonly profiles: ActiveProfile;
  readonly selectors: SelectorPicker;
  /** A local model's process state. */
  readonly status: (model: string) => string;
}

export function dispatch(deps: DispatchDeps, requested: string): Dispatched {
  // 1.
  let name = deps.profiles.pin(requested);
  // 2.
  const pick = deps.selectors.pick(name, deps.status);
  if (pick !== undefined) name = pick.target;
  // 3.
  try {
    return { name, destination: resolveDestination(deps.config, name), release: pick?.release ?? (() => undefined) };
  } catch (err) {
    pick?.release();
    throw err;
  }
}

/** `path?query` of `url` with `?model=` set to `name` when the query has one and `name` is given. */
export function withQueryModel(url: URL, name: string | undefined): string {
  if (name === undefined || !url.searchParams.has('model')) return url.pathname + url.search;
  const query = new URLSearchParams(url.search);
  query.set('model', name);
  return `${url.pathname}?${query.toString()}`;
}
