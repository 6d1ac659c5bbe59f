/** Small formatting helpers shared by the pages. */
import { useEffect, useState } from 'preact/hooks';

/** @param {number | undefined} ms */
export function duration(ms) {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

/** @param {number} at ms since the epoch */
export function clock(at) {
  return new Date(at).toLocaleTimeString(undefined, { hour12: false });
}

/** @param {string} id */
export const modelHref = (id) => `#/model/${encodeURIComponent(id)}`;

/**
 * A re-render every `ms` while mounted (countdowns, progress bars between events).
 * @param {number} ms
 */
export function useTicker(ms) {
  const [, set] = useState(0);
  useEffect(() => {
    const t = setInterval(() => set((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
}
