/** Small helpers for the Markdown report: numbers, signed differences, tables, failure lines. */
import type { TraceRun } from '../scenarios/traces.ts';

export const n = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
/** A difference with its sign: +2.5, -0.3. */
export const signed = (x: number | null | undefined, digits = 2): string => (x !== null && x !== undefined && Number.isFinite(x) && x >= 0 ? `+${n(x, digits)}` : n(x, digits));
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** One line per trace run that failed requests, with its first failure. */
export function failures(runs: readonly TraceRun[]): string[] {
  const failed = runs.filter((x) => x.failed > 0);
  return failed.length === 0 ? [] : [...failed.map((x) => `- ${x.trace} / ${x.runner}: ${x.failed} failed; first: ${(x.firstFailure ?? '').replace(/\s+/g, ' ')}`), ''];
}
