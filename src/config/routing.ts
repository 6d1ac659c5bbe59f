/**
 * Normalization of the cross-model parts of the config: the router (groups,
 * matrix or memory), scheduler and start-up preload. Each takes the set of model ids and the alias map built by
 * normalize.ts and reports every problem it finds.
 */
import { didYouMean } from './issues.ts';
import type { IssueList, KeyPath } from './issues.ts';
import { assertNever } from '../errors.ts';
import { normalizeMatrix } from './matrix.ts';
import { normalizeMemory } from './memory.ts';
import type { RawConfig, RawGroups } from './raw.ts';
import type { GroupConfig, RouterConfig, SchedulerConfig } from './types.ts';

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

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

type RouterUse = 'group' | 'matrix' | 'memory';

/** Which router the config chooses, and where its settings come from (the legacy top-level keys or routing.router). */
function routerChoice(raw: RawConfig): { legacy: boolean; use: RouterUse } {
  const legacy = (isMap(raw.groups) && Object.keys(raw.groups).length > 0) || raw.matrix !== undefined;
  const use = legacy ? (raw.matrix !== undefined ? 'matrix' : 'group') : (raw.routing?.router?.use ?? 'group');
  return { legacy, use };
}

/** Whether the config's router is the group router (the matrix and memory routers do not use groups). */
export function usesGroups(raw: RawConfig): boolean {
  return routerChoice(raw).use === 'group';
}

/**
 * Warnings about the router: the legacy top-level `groups`/`matrix` (accepted,
 * with where to move them), a matrix or memory router under the serial
 * scheduler (which keeps one model loaded at a time), and `resources` that no
 * router reads.
 */
export function routerWarnings(raw: RawConfig, warnings: IssueList): void {
  const { legacy, use } = routerChoice(raw);
  if (legacy && isMap(raw.groups) && Object.keys(raw.groups).length > 0) {
    warnings.add(['groups'], 'top-level groups is the legacy spelling: move it to routing.router.settings.groups');
  }
  if (legacy && raw.matrix !== undefined) {
    warnings.add(['matrix'], 'top-level matrix is the legacy spelling: move it to routing.router.settings.matrix (with routing.router.use: matrix)');
  }
  if (use !== 'group' && (raw.routing?.scheduler?.use ?? 'serial') === 'serial') {
    warnings.add(
      legacy ? ['matrix'] : ['routing', 'router', 'use'],
      use === 'matrix'
        ? 'the serial scheduler (the default) keeps one model loaded at a time, so the matrix has no effect: set routing.scheduler.use: fifo to let its sets run together'
        : 'the serial scheduler (the default) keeps one model loaded at a time, so the budgets only refuse models that can never fit: set routing.scheduler.use: fifo to let models share memory',
    );
  }
  if (use !== 'memory') {
    const models = isMap(raw.models) ? raw.models : {};
    for (const id of Object.keys(models).sort()) {
      if (models[id]?.resources !== undefined) {
        warnings.add(['models', id, 'resources'], 'only the memory router reads resources: set routing.router.use: memory with routing.router.settings.memory');
      }
    }
  }
}

/** `routing.router` as the scheduler's eviction policy reads it. */
export function normalizeRouter(
  raw: RawConfig,
  names: Names,
  issues: IssueList,
  warnings: IssueList,
  orderOf: (path: KeyPath) => readonly string[] | undefined,
): RouterConfig {
  const { legacy, use } = routerChoice(raw);
  switch (use) {
    case 'group':
      return { use };
    case 'matrix': {
      const base: KeyPath = legacy ? ['matrix'] : ['routing', 'router', 'settings', 'matrix'];
      const block = legacy ? raw.matrix : raw.routing?.router?.settings?.matrix;
      if (block === undefined) return { use, matrix: { program: { sets: [] }, evictCosts: new Map() } }; // reported by normalizeGroups
      return { use, matrix: normalizeMatrix(block, base, names, issues, orderOf([...base, 'sets'])) };
    }
    case 'memory':
      return { use, memory: normalizeMemory(raw, names, issues, warnings) };
    default:
      return assertNever(use);
  }
}

/**
 * Groups from `routing.router.settings.groups` or the legacy top-level
 * `groups` (both at once is an issue, and so are legacy keys together with
 * routing.router), followed by `(default)` with the ungrouped models in
 * sorted order. `(default)` is omitted when it would be empty, so with no
 * models there are no groups. With the matrix or memory router no group is
 * used: every model is in `(default)`, which they do not read.
 */
export function normalizeGroups(raw: RawConfig, names: Names, issues: IssueList): GroupConfig[] {
  const { legacy, use } = routerChoice(raw);
  const matrix = use === 'matrix';
  const legacyGroups = isMap(raw.groups) && Object.keys(raw.groups).length > 0;
  if (legacy && raw.routing?.router !== undefined) {
    const key = legacyGroups ? 'groups' : 'matrix';
    issues.add([key], `the legacy top-level ${key} and routing.router cannot be used together: move ${key} to routing.router.settings.${key}`);
  }
  if (legacyGroups && raw.matrix !== undefined) {
    issues.add(['matrix'], 'groups and matrix cannot be used together: choose one router (routing.router.use: group or matrix)');
  }
  if (!legacy && matrix && raw.routing?.router?.settings?.matrix === undefined) {
    issues.add(['routing', 'router', 'use'], 'use is matrix but routing.router.settings.matrix is not set');
  }
  const given = use !== 'group' ? {} : legacy ? raw.groups : raw.routing?.router?.settings?.groups;
  const source: RawGroups = isMap(given) ? (given as RawGroups) : {};
  const base: KeyPath = legacy ? ['groups'] : ['routing', 'router', 'settings', 'groups'];
  const groupOf = new Map<string, string>();
  const groups: GroupConfig[] = [];
  for (const [id, group] of Object.entries(source)) {
    if (!isMap(group)) continue; // reported by the schema
    const members: string[] = [];
    (Array.isArray(group.members) ? group.members : []).forEach((member, i) => {
      const path = [...base, id, 'members', i];
      if (typeof member !== 'string') return;
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
    groups.push({ id, members, swap: group.swap !== false, exclusive: group.exclusive !== false, persistent: group.persistent === true });
  }
  const ungrouped = [...names.ids].filter((m) => !groupOf.has(m)).sort();
  if (ungrouped.length > 0) {
    groups.push({ id: DEFAULT_GROUP_ID, members: ungrouped, swap: true, exclusive: true, persistent: false });
  }
  return groups;
}

/**
 * `routing.scheduler`: serial unless `use: fifo` or `use: batch`. Priority
 * keys (ids or aliases) are resolved to model ids; unknown or repeated models
 * are issues, and so are settings for a scheduler that is not in use (they
 * would be ignored). `batch.maxWait` is in seconds.
 */
export function normalizeScheduler(raw: RawConfig, names: Names, issues: IssueList): SchedulerConfig {
  const scheduler = raw.routing?.scheduler;
  const use = scheduler?.use ?? 'serial';
  const settings = ['routing', 'scheduler', 'settings'];
  const fifo = priorities(scheduler?.settings?.fifo?.priority, [...settings, 'fifo', 'priority'], names, issues);
  const batch = scheduler?.settings?.batch;
  const batchPriority = priorities(batch?.priority, [...settings, 'batch', 'priority'], names, issues);
  if (use !== 'fifo' && fifo.size > 0) {
    issues.add([...settings, 'fifo', 'priority'], 'priorities only apply to the fifo scheduler: set routing.scheduler.use: fifo (modelswap defaults to serial) or remove them');
  }
  if (use !== 'batch' && batch !== undefined) {
    issues.add([...settings, 'batch'], 'these settings only apply to the batch scheduler: set routing.scheduler.use: batch or remove them');
  }
  if (use === 'fifo') return { use, priority: fifo };
  if (use === 'batch') {
    const maxWait = batch?.maxWait;
    return { use, priority: batchPriority, maxWaitMs: typeof maxWait === 'number' ? maxWait * 1000 : undefined };
  }
  return { use: 'serial' };
}

/** A priority map (model id or alias -> integer) resolved to model ids. */
function priorities(given: unknown, base: KeyPath, names: Names, issues: IssueList): Map<string, number> {
  const priority = new Map<string, number>();
  for (const [name, value] of Object.entries(isMap(given) ? given : {})) {
    const id = resolve(name, names);
    if (id === undefined) issues.add([...base, name], unknownName(name, names), name);
    else if (priority.has(id)) issues.add([...base, name], `model "${id}" already has a priority (via its id or another alias)`, name);
    else if (typeof value === 'number') priority.set(id, value);
  }
  return priority;
}

/**
 * `hooks.on_startup.preload` resolved to model ids, trimmed, in order, without
 * repeats. A selector id is skipped with a warning (a selector picks its
 * target per request, so there is no one model to load); any other unknown
 * name is an issue.
 */
export function normalizePreload(raw: RawConfig, names: Names, issues: IssueList, warnings: IssueList): string[] {
  const out: string[] = [];
  const preload = raw.hooks?.on_startup?.preload;
  (Array.isArray(preload) ? preload : []).forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') return;
    const name = entry.trim();
    const id = resolve(name, names);
    const path = ['hooks', 'on_startup', 'preload', i];
    if (id === undefined && isMap(raw.selectors) && Object.hasOwn(raw.selectors, name)) {
      warnings.add(path, `"${name}" is a selector, which picks a model per request: it is not preloaded (name one of its targets instead)`);
    } else if (id === undefined) issues.add(path, unknownName(name, names), entry);
    else if (!out.includes(id)) out.push(id);
  });
  return out;
}
