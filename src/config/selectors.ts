/**
 * `selectors`: virtual model ids that pick one of their targets per request
 * (the picking itself is src/server/selectors.ts). Checked here:
 * 1. a selector id is not a model id or an alias (nor a peer model's full name);
 * 2. each target is a model id, an alias or a peer model name, never a selector;
 * 3. `warm` targets are local (it reads their process state);
 * 4. `spillover` targets differ once resolved, and the local ones can run
 *    together: members of one group with swap: false.
 */
import { didYouMean } from './issues.ts';
import type { IssueList } from './issues.ts';
import { checkNotPeerName } from './peers.ts';
import type { RawConfig } from './raw.ts';
import type { GroupConfig, PeerRoute, SchedulerConfig, SelectorConfig } from './types.ts';
import { isMap } from './is-map.ts';

export interface SelectorNames {
  readonly ids: ReadonlySet<string>;
  readonly aliases: ReadonlyMap<string, string>;
  readonly peerModels: ReadonlyMap<string, PeerRoute>;
}

/** A target name -> the local model id or the peer model's full name, or undefined when it names nothing. */
export function resolveTargetName(name: string, names: SelectorNames): { readonly local: boolean; readonly id: string } | undefined {
  if (names.ids.has(name)) return { local: true, id: name };
  const viaAlias = names.aliases.get(name);
  if (viaAlias !== undefined) return { local: true, id: viaAlias };
  const peer = names.peerModels.get(name);
  return peer === undefined ? undefined : { local: false, id: peer.fqn };
}

export function normalizeSelectors(
  raw: RawConfig, names: SelectorNames, routing: { groups: readonly GroupConfig[]; scheduler: SchedulerConfig; groupsUsed: boolean },
  issues: IssueList, warnings: IssueList,
): Map<string, SelectorConfig> {
  const out = new Map<string, SelectorConfig>();
  const given = isMap(raw.selectors) ? raw.selectors : {};
  for (const id of Object.keys(given).sort()) {
    const path = ['selectors', id];
    if (issues.atOrAbove(path) || issues.under(path)) continue;
    const s = given[id]!;
    // 1.
    if (names.ids.has(id)) issues.add(path, `selector id "${id}" is also a model id`);
    else if (names.aliases.has(id)) issues.add(path, `selector id "${id}" is also an alias of model "${names.aliases.get(id)}"`);
    else checkNotPeerName(id, path, names.peerModels, 'selector id', issues);
    const local: string[] = [];
    const resolved = new Map<string, number>();
    s.targets.forEach((target, i) => {
      const at = [...path, 'targets', i];
      const r = resolveTargetName(target, names);
      // 2.
      if (r === undefined && Object.hasOwn(given, target)) return issues.add(at, `"${target}" is a selector: a selector's targets must be models (selectors do not chain)`, target);
      if (r === undefined) {
        return issues.add(at, `unknown model, alias or peer model "${target}"${didYouMean(target, [...names.ids, ...names.aliases.keys(), ...names.peerModels.keys()])}`, target);
      }
      // 3.
      if (s.strategy === 'warm' && !r.local) return issues.add(at, `"${target}" is a peer model: a warm selector reads its targets' process state, so they must be local models`, target);
      if (s.strategy !== 'spillover') return;
      // 4.
      const first = resolved.get(r.id);
      if (first !== undefined) return issues.add(at, `"${target}" is the same model as targets[${first}] ("${r.id}")`, target);
      resolved.set(r.id, i);
      if (r.local) local.push(r.id);
    });
    if (s.strategy === 'spillover' && local.length > 1 && routing.groupsUsed) {
      const group = routing.groups.find((g) => g.members.includes(local[0]!));
      const together = group !== undefined && !group.swap && local.every((m) => group.members.includes(m));
      if (!together) issues.add([...path, 'targets'], `the local targets of a spillover selector must run together: put ${local.join(', ')} in one group with swap: false`);
      else if (routing.scheduler.use === 'serial') {
        warnings.add([...path, 'targets'], 'the serial scheduler runs one model at a time, so spillover targets never run together: set routing.scheduler.use: fifo');
      }
    }
    out.set(id, {
      id,
      strategy: s.strategy,
      targets: [...s.targets],
      spillover: s.settings?.spillover ?? 1,
      name: s.name === '' ? undefined : s.name,
      description: s.description === '' ? undefined : s.description,
      unlisted: s.unlisted === true,
      metadata: s.metadata === undefined ? undefined : { ...s.metadata },
    });
  }
  return out;
}
