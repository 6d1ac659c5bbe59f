/**
 * The activity history's settings: llama-swap's `metricsMaxInMemory`,
 * `captureBuffer`, `store.path` and `ui.activity.session_id`, and
 * modelswap's `store.retention` and `store.maxRows`.
 */
import type { RawConfig } from './raw.ts';
import type { ActivityConfig } from './types.ts';

const DEFAULT_SESSION_HEADERS = ['X-Session-ID', 'X-Litellm-Session-Id'];

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration the schema accepted ("30d", "1h30m", "0") in milliseconds. */
export function durationMs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(total);
}

/** Header names trimmed, empty ones dropped, repeats (in any case) kept once. */
function sessionHeaders(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    const lower = name.trim().toLowerCase();
    if (lower !== '' && !out.includes(lower)) out.push(lower);
  }
  return out;
}

export function normalizeActivity(raw: RawConfig): ActivityConfig {
  const store = raw.store;
  const names = raw.ui?.activity?.session_id;
  return {
    maxInMemory: raw.metricsMaxInMemory,
    captureBytes: raw.captureBuffer * 1024 * 1024,
    storePath: store?.path,
    retentionMs: store === undefined ? 0 : durationMs(store.retention),
    maxRows: store?.maxRows ?? 0,
    sessionHeaders: sessionHeaders(Array.isArray(names) ? names : DEFAULT_SESSION_HEADERS),
  };
}
