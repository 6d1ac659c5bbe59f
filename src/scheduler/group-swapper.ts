/**
 * Eviction policies (the `Swapper` seam of ./types.ts).
 *
 * `createGroupSwapper` evicts as llama-swap's groups do:
 * for a target in group G, a running model M (M ≠ target) is evicted when
 *   - M is in G and G.swap, or
 *   - M is in another group H, G.exclusive, and !H.persistent.
 * Consequence kept for parity (tested upstream): loading a member of a
 * non-exclusive group never evicts other groups, even running exclusive ones.
 *
 * Models listed in no group belong to the implicit `(default)` group (swap,
 * exclusive, not persistent), or to the configured group of that id if there
 * is one. The config loader already puts every model in exactly one group, so
 * this only matters for callers that build groups by hand.
 *
 * `createEvictAllSwapper` is the serial scheduler's policy: one model resident
 * at a time, groups ignored.
 */
import { DEFAULT_GROUP_ID } from '../config/routing.ts';
import type { GroupConfig } from '../config/types.ts';
import type { Swapper } from './types.ts';

const IMPLICIT_DEFAULT: GroupConfig = Object.freeze({
  id: DEFAULT_GROUP_ID,
  members: Object.freeze([]),
  swap: true,
  exclusive: true,
  persistent: false,
});

/**
 * Build the group policy. Throws if a model is listed in two groups (or twice
 * in one). `log`, when given, gets one line per real swap from `onSwapStart`.
 */
export function createGroupSwapper(groups: readonly GroupConfig[], log?: (msg: string) => void): Swapper {
  const groupOf = new Map<string, GroupConfig>();
  for (const g of groups) {
    for (const m of g.members) {
      const prev = groupOf.get(m);
      if (prev !== undefined) {
        throw new Error(`model "${m}" is in more than one group: "${prev.id}" and "${g.id}"`);
      }
      groupOf.set(m, g);
    }
  }
  const fallback = groups.find((g) => g.id === DEFAULT_GROUP_ID) ?? IMPLICIT_DEFAULT;
  const group = (model: string): GroupConfig => groupOf.get(model) ?? fallback;

  return {
    evictionFor(target: string, running: readonly string[]): readonly string[] {
      const g = group(target);
      const out: string[] = [];
      for (const m of running) {
        if (m === target || out.includes(m)) continue;
        const h = group(m);
        const sameGroup = h.id === g.id;
        if ((sameGroup && g.swap) || (!sameGroup && g.exclusive && !h.persistent)) out.push(m);
      }
      return out;
    },
    onSwapStart(target: string, _running: readonly string[], evict: readonly string[]): void {
      log?.(`swap: loading ${target} (group ${group(target).id}), evicting [${evict.join(', ')}]`);
    },
  };
}

/** Everything running except the target. Groups are ignored. */
export function createEvictAllSwapper(log?: (msg: string) => void): Swapper {
  return {
    evictionFor(target: string, running: readonly string[]): readonly string[] {
      return [...new Set(running)].filter((m) => m !== target);
    },
    onSwapStart(target: string, _running: readonly string[], evict: readonly string[]): void {
      log?.(`swap: loading ${target}, evicting [${evict.join(', ')}]`);
    },
  };
}
