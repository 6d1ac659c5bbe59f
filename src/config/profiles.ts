/**
 * `profiles`: named sets of pins (requested id -> target) that can be
 * switched on at run time (src/server/profiles.ts). Each target is a model
 * id, an alias, a peer model name or a selector; "" or ~ disables the id
 * (stored as null). A pin name must not be a peer model's full name.
 */
import { didYouMean } from './issues.ts';
import type { IssueList } from './issues.ts';
import { checkNotPeerName } from './peers.ts';
import type { RawConfig } from './raw.ts';
import { resolveTargetName, type SelectorNames } from './selectors.ts';
import type { ProfileConfig } from './types.ts';
import { isMap } from './is-map.ts';

export function normalizeProfiles(raw: RawConfig, names: SelectorNames, selectorIds: ReadonlySet<string>, issues: IssueList): Map<string, ProfileConfig> {
  const out = new Map<string, ProfileConfig>();
  const given = isMap(raw.profiles) ? raw.profiles : {};
  for (const id of Object.keys(given).sort()) {
    const path = ['profiles', id];
    if (issues.atOrAbove(path) || issues.under(path)) continue;
    const p = given[id]!;
    const pins = new Map<string, string | null>();
    for (const [from, to] of Object.entries(p.pins)) {
      const at = [...path, 'pins', from];
      checkNotPeerName(from, at, names.peerModels, 'pin', issues);
      const target = to === null || to === '' ? null : to;
      if (target !== null && resolveTargetName(target, names) === undefined && !selectorIds.has(target)) {
        const known = [...names.ids, ...names.aliases.keys(), ...names.peerModels.keys(), ...selectorIds];
        issues.add(at, `unknown model, alias, peer model or selector "${target}"${didYouMean(target, known)}`, to);
      }
      pins.set(from, target);
    }
    out.set(id, { id, description: p.description ?? '', pins });
  }
  return out;
}
