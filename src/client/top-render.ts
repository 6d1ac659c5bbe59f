/**
 * One frame of `modelswap top`: a title line, the models table (state, pid,
 * requests in flight and queued, load progress) and the latest events.
 */
import { duration, table } from './table.ts';
import type { LoadView, ModelView, TopState } from './top-state.ts';

const BAR = 10;

/** `3.2s of ~5.0s [######----]`, or `3.2s (first load: no estimate)`; elapsed counted on from when it was reported. */
export function loadProgress(load: LoadView, now: number): string {
  const elapsed = load.elapsedMs + Math.max(0, now - load.seenAt);
  const evicting = load.evicting.length > 0 ? `, evicting ${load.evicting.join(', ')}` : '';
  if (load.estimateMs === undefined || load.estimateMs <= 0) return `${duration(elapsed)} (first load: no estimate)${evicting}`;
  const done = Math.min(1, elapsed / load.estimateMs);
  const filled = Math.round(done * BAR);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}]`;
  return `${duration(elapsed)} of ~${duration(load.estimateMs)} ${bar}${evicting}`;
}

function row(m: ModelView, now: number): string[] {
  const load = m.load !== undefined ? loadProgress(m.load, now) : (m.lastLoad ?? '');
  const pid = m.pid === undefined || m.state === 'stopped' || m.state === 'shutdown' ? '-' : String(m.pid); // a stopped model's event names the pid that exited
  return [m.model, m.state, pid, String(m.inFlight), String(m.waiting), load];
}

export function renderFrame(state: TopState, url: string, now: number): string {
  const models = [...state.models.values()].sort((a, b) => a.model.localeCompare(b.model));
  const title = `modelswap top — ${url} — ${new Date(now).toTimeString().slice(0, 8)}`;
  const body = models.length === 0 ? '(no models configured)\n' : table(['MODEL', 'STATE', 'PID', 'IN-FLIGHT', 'QUEUED', 'LOAD'], models.map((m) => row(m, now)));
  const recent = state.recent.length === 0 ? '' : `\nRecent:\n${state.recent.map((l) => `  ${l}\n`).join('')}`;
  return `${title}\n\n${body}${recent}`;
}
