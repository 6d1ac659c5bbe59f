/**
 * Normalization of the memory router: the budgets
 * (`routing.router.settings.memory`) and each model's declaration
 * (`models.<id>.resources`), sizes turned into bytes.
 *
 * Checked here, each at its key path:
 *   - a model's `device` must be a device of the budget (when the budget is
 *     written out; with `devices: auto` the devices are known only at start-up);
 *   - `persistent` names models (ids or aliases);
 *   - a model whose declaration exceeds every device it may use, or the RAM
 *     budget, can never start: a warning (its requests are refused at once),
 *     not an error, so a config written for a bigger machine still loads.
 */
import { didYouMean } from './issues.ts';
import type { IssueList, KeyPath } from './issues.ts';
import type { RawConfig } from './raw.ts';
import type { Names } from './routing.ts';
import type { MemoryConfig, ResourceNeed } from './types.ts';
import { isMap } from './is-map.ts';

const UNITS: Readonly<Record<string, number>> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/** Bytes of a size such as `7.5GiB`, `512MiB`, `24GB` or a plain number of bytes; undefined if it is none. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = SIZE.exec(value);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
  return m === null || unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** `7.5 GiB`: a byte count for messages and logs. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}

function deviceList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return [...new Set(list.filter((d) => typeof d === 'string' || typeof d === 'number').map(String))];
}

function need(raw: Record<string, unknown>): ResourceNeed {
  return { vram: parseSize(raw['vram']) ?? 0, devices: deviceList(raw['device']), ram: parseSize(raw['ram']) ?? 0 };
}

/** Budgets and declarations; `warnings` gets the models that can never start under written-out budgets. */
export function normalizeMemory(raw: RawConfig, names: Names, issues: IssueList, warnings: IssueList): MemoryConfig {
  const settings = raw.routing?.router?.settings?.memory;
  const base: KeyPath = ['routing', 'router', 'settings', 'memory'];
  const given = settings?.devices ?? 'auto';
  const devices = given === 'auto' || !isMap(given)
    ? 'auto' as const
    : new Map(Object.entries(given).map(([id, size]) => [id, parseSize(size) ?? 0]));
  const ram = settings?.ram === undefined || settings.ram === 'auto' ? 'auto' as const : parseSize(settings.ram) ?? 0;

  const persistent: string[] = [];
  (settings?.persistent ?? []).forEach((name, i) => {
    const id = names.ids.has(name) ? name : names.aliases.get(name);
    if (id === undefined) issues.add([...base, 'persistent', i], `unknown model or alias "${name}"${didYouMean(name, [...names.ids, ...names.aliases.keys()])}`, name);
    else if (!persistent.includes(id)) persistent.push(id);
  });

  const needs = new Map<string, ResourceNeed>();
  const models = isMap(raw.models) ? raw.models : {};
  for (const id of Object.keys(models).sort()) {
    const declared = models[id]?.resources;
    if (!isMap(declared)) continue;
    const n = need(declared);
    const path: KeyPath = ['models', id, 'resources'];
    if (devices !== 'auto') {
      const unknown = (n.devices ?? []).filter((d) => !devices.has(d));
      for (const d of unknown) issues.add([...path, 'device'], `device "${d}" has no budget in routing.router.settings.memory.devices (${[...devices.keys()].join(', ') || 'none'})`, d);
      if (n.vram > 0 && devices.size === 0) issues.add([...path, 'vram'], 'needs GPU memory, but routing.router.settings.memory.devices lists no device');
      const usable = (n.devices ?? [...devices.keys()]).map((d) => devices.get(d) ?? 0);
      if (unknown.length === 0 && n.vram > 0 && usable.length > 0 && n.vram > Math.max(...usable)) {
        warnings.add([...path, 'vram'], `needs ${formatSize(n.vram)}, more than any device it may use has (${formatSize(Math.max(...usable))}): it can never start, and its requests are refused`);
      }
    }
    if (ram !== 'auto' && n.ram > ram) {
      warnings.add([...path, 'ram'], `needs ${formatSize(n.ram)}, more than the RAM budget (${formatSize(ram)}): it can never start, and its requests are refused`);
    }
    needs.set(id, n);
  }
  return { devices, ram, needs, persistent };
}
