/**
 * `modelswap ps`: the models whose server runs (or that have requests), from
 * `GET /running`, like `ollama ps`. TTL LEFT is the server's own countdown
 * (`ttlLeft`), exact to a tenth of a second when it runs; otherwise the
 * column says why it does not: `never` (no ttl), `busy` (requests in flight
 * or queued; the countdown starts after the last one), `-` (starting or
 * stopping).
 */
import { callJson, type Target } from './http.ts';
import { duration, table } from './table.ts';

/** The fields of a `/running` entry this command reads. */
export interface RunningEntry {
  readonly model: string;
  readonly state: string;
  readonly pid: number | undefined;
  readonly inFlight: number;
  readonly queued: number;
  readonly ttl: number;
  readonly ttlLeft?: number | null;
}

export function ttlLeft(r: RunningEntry): string {
  if (r.ttl <= 0) return 'never';
  if (typeof r.ttlLeft === 'number') return duration(r.ttlLeft * 1000);
  if (r.state === 'ready' && (r.inFlight > 0 || r.queued > 0)) return `busy (ttl ${duration(r.ttl * 1000)})`;
  return '-';
}

export function psTable(running: readonly RunningEntry[]): string {
  if (running.length === 0) return 'no model is loaded\n';
  return table(
    ['MODEL', 'STATE', 'PID', 'IN-FLIGHT', 'QUEUED', 'TTL LEFT'],
    running.map((r) => [r.model, r.state, r.pid === undefined || r.pid === null ? '-' : String(r.pid), String(r.inFlight), String(r.queued), ttlLeft(r)]),
  );
}

export async function ps(target: Target, json: boolean): Promise<number> {
  const body = await callJson<{ running: RunningEntry[] }>(target, 'GET', '/running');
  process.stdout.write(json ? `${JSON.stringify(body, null, 2)}\n` : psTable(body.running));
  return 0;
}
