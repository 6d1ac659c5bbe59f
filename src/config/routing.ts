/**
 * Normalization of the cross-model parts of the config: groups, scheduler and
 * start-up preload. Each takes the set of model ids and the alias map built by
 * normalize.ts and reports every problem it finds.
 */
import { didYouMean } from './issues.ts';
import type { IssueList, KeyPath } from './issues.ts';
import type { RawConfig, RawGroups } from './raw.ts';
import type { GroupConfig, SchedulerConfig } from './types.ts';

/** Id of the implicit group holding every model not listed in a group. */
export const DEFAULT_GROUP_ID = '(default)';

/** Model ids and alias -> id, for resolving names. */
export interface Names {
  readonly ids: ReadonlySet<string>;
  readonly aliases: ReadonlyMap<string, string>;
}

function resolve(name: string, names: Names): string | undefined {
  return names.ids.has(name) ? name : names.aliases.get(name);
}

function unknownName(name: string, names: Names): string {
  return `unknown model or alias "${name}"${didYouMean(name, [...names.ids, ...names.aliases.keys()])}`;
}

/**
 * Groups from `routing.router.settings.groups` or the legacy top-level
 * `groups` (both at once is an issue), followed by `(default)` with the
 * ungrouped models in sorted order. `(default)` is omitted when it would be
 * empty, so with no models there are no groups.
 */
export function normalizeGroups(raw: RawConfig, names: Names, issues: IssueList): GroupConfig[] {
  const legacy = raw.groups ?? {};
  const useLegacy = Object.keys(legacy).length > 0;
  if (useLegacy && raw.routing?.router !== undefined) {
    issues.add(
      ['groups'],
      'the legacy top-level groups and routing.router cannot be used together: move the groups to routing.router.settings.groups',
    );
  }
  const source: RawGroups = useLegacy ? legacy : (raw.routing?.router?.settings?.groups ?? {});
  const base: KeyPath = useLegacy ? ['groups'] : ['routing', 'router', 'settings', 'groups'];
  const groupOf = new Map<string, string>();
  const groups: GroupConfig[] = [];
  for (const [id, group] of Object.entries(source)) {
    const members: string[] = [];
    group.members.forEach((member, i) => {
      const path = [...base, id, 'members', i];
      const aliasOf = names.aliases.get(member);
      if (!names.ids.has(member)) {
        issues.add(
          path,
          aliasOf === undefined
            ? `unknown model "${member}"${didYouMean(member, names.ids)}`
            : `"${member}" is an alias of model "${aliasOf}": groups list model ids`,
          member,
        );
      } else if (members.includes(member)) {
        issues.add(path, `model "${member}" is listed twice in this group`, member);
      } else if (groupOf.has(member)) {
        issues.add(path, `model "${member}" is already in group "${groupOf.get(member)}": a model may be in only one group`, member);
      } else {
        groupOf.set(member, id);
        members.push(member);
      }
    });
    groups.push({ id, members, swap: group.swap, exclusive: group.exclusive, persistent: group.persistent });
  }
  const ungrouped = [...names.ids].filter((m) => !groupOf.has(m)).sort();
  if (ungrouped.length > 0) {
    groups.push({ id: DEFAULT_GROUP_ID, members: ungrouped, swap: true, exclusive: true, persistent: false });
  }
  return groups;
}

/**
 * `routing.scheduler`: serial unless `use: fifo`. Priority keys (ids or
 * aliases) are resolved to model ids; unknown or repeated models are issues,
 * and so are priorities with the serial scheduler (they would be ignored).
 */
export function normalizeScheduler(raw: RawConfig, names: Names, issues: IssueList): SchedulerConfig {
  const scheduler = raw.routing?.scheduler;
  const given = scheduler?.settings?.fifo?.priority ?? {};
  const base: KeyPath = ['routing', 'scheduler', 'settings', 'fifo', 'priority'];
  const priority = new Map<string, number>();
  for (const [name, value] of Object.entries(given)) {
    const id = resolve(name, names);
    if (id === undefined) issues.add([...base, name], unknownName(name, names), name);
    else if (priority.has(id)) issues.add([...base, name], `model "${id}" already has a priority (via its id or another alias)`, name);
    else priority.set(id, value);
  }
  const use = scheduler?.use ?? 'serial';
  if (use === 'fifo') return { use, priority };
  if (priority.size > 0) {
    issues.add(base, 'priorities only apply to the fifo scheduler: set routing.scheduler.use: fifo (modelswap defaults to serial) or remove them');
  }
  return { use };
}

/** `hooks.on_startup.preload` resolved to model ids, trimmed, in order, without repeats. */
export function normalizePreload(raw: RawConfig, names: Names, issues: IssueList): string[] {
  const out: string[] = [];
  (raw.hooks?.on_startup?.preload ?? []).forEach((entry, i) => {
    const name = entry.trim();
    const id = resolve(name, names);
    if (id === undefined) issues.add(['hooks', 'on_startup', 'preload', i], unknownName(name, names), entry);
    else if (!out.includes(id)) out.push(id);
  });
  return out;
}
