/**
 * Selectors pick one target per request, after profile pins and before
 * everything else (aliases, filters, routing). The request then carries the
 * target as its model. Strategies:
 * - `pin`: always the first target;
 * - `warm`: the first target whose process is ready, else the first that is
 *   starting, else the first (which the request then starts);
 * - `spillover`: see `pickSpillover`.
 *
 * Spillover counts its own reservations (one per request it routed, held
 * until that request's answer is over) rather than reading the router's
 * counts: two requests arriving together must see each other's choice, and
 * the router only counts a request once its event has been handled.
 */
import type { Config, SelectorConfig } from '../config/types.ts';
import { ProxyError } from '../errors.ts';

/** A target as written, and what it names: a local model id or a peer model's full name. */
export interface Target {
  readonly name: string;
  readonly id: string;
  readonly local: boolean;
}

export function resolveTargets(config: Config, selector: SelectorConfig): Target[] {
  return selector.targets.map((name) => {
    if (config.models.has(name)) return { name, id: name, local: true };
    const alias = config.aliases.get(name);
    if (alias !== undefined) return { name, id: alias, local: true };
    return { name, id: config.peerModels.get(name)?.fqn ?? name, local: false };
  });
}

export function pickWarm(targets: readonly Target[], status: (model: string) => string): Target {
  return targets.find((t) => status(t.id) === 'ready') ?? targets.find((t) => status(t.id) === 'starting') ?? targets[0]!;
}

/**
 * Spillover, in steps:
 * 1. sort targets into active (a local one ready or starting, or any with a
 *    reservation), cold (stopped, no reservation) and unusable (stopping or
 *    shutting down);
 * 2. nothing active: the first cold target, or none at all (503);
 * 3. an active target with fewer than `spillover` reservations: the least
 *    reserved active target (round-robin among ties);
 * 4. all active targets full: the first cold target, else the least reserved
 *    active one (overfilling beats refusing).
 * Returns the chosen target, or undefined for step 2's none. `rr` counts the
 * ties broken so far for this selector.
 */
export function pickSpillover(targets: readonly Target[], spillover: number, reserved: (id: string) => number, status: (model: string) => string, rr: number): Target | undefined {
  const active: Target[] = [];
  const cold: Target[] = [];
  // 1.
  for (const t of targets) {
    const state = t.local ? status(t.id) : 'remote';
    if (state === 'stopping' || state === 'shutdown') continue;
    if (state === 'ready' || state === 'starting' || reserved(t.id) > 0) active.push(t);
    else cold.push(t);
  }
  // 2.
  if (active.length === 0) return cold[0];
  const least = Math.min(...active.map((t) => reserved(t.id)));
  const tied = active.filter((t) => reserved(t.id) === least);
  // 3.
  if (least < spillover) return tied[rr % tied.length];
  // 4.
  return cold[0] ?? tied[rr % tied.length];
}

/** A selector's choice for one request; `release` ends its reservation (idempotent). */
export interface Pick {
  readonly target: string;
  readonly release: () => void;
}

const NOTHING_TO_RELEASE = (): void => undefined;

/** Picks targets for one config's selectors; a reloaded config gets a new picker. */
export class SelectorPicker {
  readonly #config: Config;
  readonly #targets = new Map<string, Target[]>();
  /** Selector id -> target id -> reservations. */
  readonly #reserved = new Map<string, Map<string, number>>();
  readonly #ties = new Map<string, number>();

  constructor(config: Config) {
    this.#config = config;
    for (const s of config.selectors.values()) this.#targets.set(s.id, resolveTargets(config, s));
  }

  /** Reservations held now by selector `id` on target `target` (a local id or a peer model's full name). */
  reserved(id: string, target: string): number {
    return this.#reserved.get(id)?.get(target) ?? 0;
  }

  /** Undefined when `name` is not a selector; NO_TARGET (503) when it has no target it can choose now. */
  pick(name: string, status: (model: string) => string): Pick | undefined {
    const selector = this.#config.selectors.get(name);
    if (selector === undefined) return undefined;
    const targets = this.#targets.get(name)!;
    switch (selector.strategy) {
      case 'pin':
        return { target: targets[0]!.name, release: NOTHING_TO_RELEASE };
      case 'warm':
        return { target: pickWarm(targets, status).name, release: NOTHING_TO_RELEASE };
      case 'spillover':
        return this.#spillover(selector, targets, status);
    }
  }

  #spillover(selector: SelectorConfig, targets: readonly Target[], status: (model: string) => string): Pick {
    const counts = this.#reserved.get(selector.id) ?? new Map<string, number>();
    this.#reserved.set(selector.id, counts);
    const rr = this.#ties.get(selector.id) ?? 0;
    const t = pickSpillover(targets, selector.spillover, (id) => counts.get(id) ?? 0, status, rr);
    if (t === undefined) {
      throw new ProxyError('NO_TARGET', `selector "${selector.id}" has no target it can use now (every target is stopping): retry shortly`);
    }
    this.#ties.set(selector.id, rr + 1);
    counts.set(t.id, (counts.get(t.id) ?? 0) + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const n = (counts.get(t.id) ?? 1) - 1;
      if (n === 0) counts.delete(t.id);
      else counts.set(t.id, n);
    };
    return { target: t.name, release };
  }
}
