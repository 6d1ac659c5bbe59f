/**
 * `GET /api/ui/config`: what the web UI needs of the config and nothing
 * more: each listed model's names, group, TTL and command (as argv and as a
 * line a POSIX shell runs unchanged), the groups and the scheduler. Behind
 * the API key like every other API route: a command line may carry secrets.
 */
import type { Config } from '../config/types.ts';

export interface UiModel {
  readonly id: string;
  readonly name: string | undefined;
  readonly description: string | undefined;
  readonly aliases: readonly string[];
  readonly group: string | undefined;
  /** Idle seconds before unload; 0 = never. */
  readonly ttl: number;
  readonly cmd: readonly string[];
  /** `cmd` quoted for a POSIX shell: paste it and the same argv runs. */
  readonly shell: string;
  readonly sendLoadingState: boolean;
}

export interface UiConfig {
  readonly models: readonly UiModel[];
  readonly groups: readonly { readonly id: string; readonly members: readonly string[]; readonly swap: boolean; readonly exclusive: boolean; readonly persistent: boolean }[];
  readonly scheduler: Config['scheduler']['use'];
  /** Whether API calls need a key (the UI asks for one on a 401 either way). */
  readonly apiKeys: boolean;
}

/** Characters no POSIX shell treats specially in an unquoted word. */
const PLAIN = /^[A-Za-z0-9@%+=:,./_-]+$/;

/**
 * One argument as a POSIX shell word: as-is when nothing in it is special,
 * otherwise in single quotes, where only `'` needs care (close, escape, reopen).
 */
export function shellQuote(arg: string): string {
  if (PLAIN.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

export function uiConfig(config: Config): UiConfig {
  const groupOf = new Map<string, string>();
  for (const g of config.groups) for (const m of g.members) groupOf.set(m, g.id);
  const models: UiModel[] = [];
  for (const m of config.models.values()) {
    if (m.unlisted) continue;
    models.push({
      id: m.id, name: m.name, description: m.description, aliases: m.aliases, group: groupOf.get(m.id),
      ttl: m.ttlMs / 1000, cmd: m.cmd, shell: shellLine(m.cmd), sendLoadingState: m.sendLoadingState,
    });
  }
  const groups = config.groups.map((g) => ({ id: g.id, members: g.members, swap: g.swap, exclusive: g.exclusive, persistent: g.persistent }));
  return { models, groups, scheduler: config.scheduler.use, apiKeys: config.apiKeys.length > 0 };
}
