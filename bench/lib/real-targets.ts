/**
 * Scenario 6's targets (issue 12): modelswap fifo against llama.cpp's router,
 * both in front of the same real llama-server, in one run, each figure the
 * median of per-round values (./../scenarios/side-by-side.ts). Also the A/B
 * trace makespans: serial against the router retired (the row is kept),
 * fifo against the router judged as parity within noise. Then the batch
 * scheduler's targets on the traces (./batch-targets.ts).
 */
import type { RealResult } from '../scenarios/real.ts';
import { realBatchTargets } from './batch-targets.ts';
import type { RunnerSummary, SideRunner } from '../scenarios/side-by-side.ts';
import { median } from './stats.ts';
import { fmt, notAbove, type Target } from './results.ts';

const S = '6 real upstream';
/** Makespan parity: the rounds of one runner move by a few percent on this host (bench/findings.md). */
export const MAKESPAN_NOISE = 1.05;

interface Def {
  readonly id: string;
  readonly label: string;
  readonly goal: string;
}

const DEFS: readonly Def[] = [
  { id: 'real-c8-throughput', label: 'throughput at concurrency 8, ÷ direct (median of per-round ratios)', goal: '≥ the router\'s' },
  { id: 'real-c32-throughput', label: 'throughput at concurrency 32, ÷ direct (median of per-round ratios)', goal: '≥ the router\'s' },
  { id: 'real-ttfb', label: 'streaming: added time to first byte', goal: '≤ the router\'s' },
  { id: 'real-per-token', label: 'streaming: added time per token', goal: '≤ the router\'s' },
  { id: 'real-swap-p50', label: 'A/B swap request latency p50', goal: '≤ the router\'s' },
  { id: 'real-cold', label: 'cold start to first byte (median)', goal: '≤ the router\'s' },
  { id: 'real-c1-vs-bare', label: 'added latency p50 at concurrency 1, vs the bare forwarder', goal: '≤ bare forwarder + 0.05 ms' },
  { id: 'real-c1-vs-router', label: 'added latency p50 at concurrency 1, vs the router', goal: '≤ 0.5× the router\'s' },
  { id: 'real-cpu-c1', label: 'proxy CPU per request at concurrency 1 (router: its own process)', goal: '≤ the router\'s (aim)' },
  { id: 'real-cpu-c8', label: 'proxy CPU per request at concurrency 8 (router: its own process)', goal: '≤ the router\'s (aim)' },
  { id: 'router-makespan-serial', label: 'A/B trace makespan (median), modelswap serial ÷ llama.cpp router', goal: 'retired (issue 12)' },
  { id: 'router-makespan-fifo', label: 'A/B trace makespan (median), modelswap fifo ÷ llama.cpp router', goal: `≤ 1.0×; parity within noise (≤ ${MAKESPAN_NOISE}×) accepted` },
];

const blank = (why: string): Target[] => DEFS.map((d) => ({ ...d, scenario: S, measured: why, met: null, budgetUsed: null }));

const ms = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${fmt(x, digits)} ms`);

/** "fifo a; router b (serial c)": the judged pair first, serial for the record. */
function pair(fifo: string, router: string, serial: string | undefined): string {
  return `fifo ${fifo}; router ${router}${serial === undefined ? '' : ` (serial ${serial})`}`;
}

export function realTargets(real: RealResult | undefined): Target[] {
  if (real === undefined) return [...blank('not run'), ...realBatchTargets(real)];
  if (real.skipped !== null) return [...blank(`skipped: ${real.skipped}`), ...realBatchTargets(real)];
  const def = (id: string): Def => DEFS.find((d) => d.id === id)!;
  const t: Target[] = [];
  const side = real.side;
  if (side === undefined) t.push(...blank('not measured in this run (no side-by-side rows)').slice(0, -2));
  else {
    const by = (r: SideRunner): RunnerSummary | undefined => side.summary.find((x) => x.runner === r);
    const [fifo, router, serial, bare] = [by('fifo'), by('router'), by('serial'), by('bare')];
    const atLeast = (id: string, c: string): void => {
      const d = def(id);
      const [f, r] = [fifo?.ratioToDirect[c], router?.ratioToDirect[c]];
      const measured = pair(`${fmt(f ?? Number.NaN)}×`, `${fmt(r ?? Number.NaN)}×`, serial === undefined ? undefined : `${fmt(serial.ratioToDirect[c] ?? Number.NaN)}×`);
      if (f === undefined || r === undefined || !Number.isFinite(f) || !Number.isFinite(r)) t.push({ ...d, scenario: S, measured, met: null, budgetUsed: null });
      else t.push({ ...d, scenario: S, measured, met: f >= r, budgetUsed: f > 0 ? r / f : null });
    };
    atLeast('real-c8-throughput', '8');
    atLeast('real-c32-throughput', '32');
    const le = (id: string, f: number | null | undefined, r: number | null | undefined, s: number | null | undefined, show: (x: number | null | undefined) => string, limit = r, spread?: (x: number) => string): void => {
      const d = def(id);
      let measured = pair(show(f), show(r), serial === undefined ? undefined : show(s));
      // Streams one at a time and swaps step by step run the same code under either scheduler: fifo − serial is
      // this run's own noise (an A/A difference), shown beside the gap that is judged.
      if (spread !== undefined && [f, r, s].every((x) => x !== null && x !== undefined && Number.isFinite(x))) {
        measured += `; fifo − router ${spread(f! - r!)}, fifo − serial (the same code here) ${spread(f! - s!)}`;
      }
      t.push(notAbove(d.id, S, d.label, f, limit, d.goal, measured));
    };
    const abs = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${fmt(x, 1)} ms`);
    const us = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${Math.round(x)} µs`);
    le('real-ttfb', fifo?.addedTtfbMs, router?.addedTtfbMs, serial?.addedTtfbMs, (x) => ms(x), undefined, (x) => ms(x));
    le('real-per-token', fifo?.addedPerTokenMs, router?.addedPerTokenMs, serial?.addedPerTokenMs, (x) => ms(x, 3), undefined, (x) => ms(x, 3));
    le('real-swap-p50', fifo?.swapP50Ms, router?.swapP50Ms, serial?.swapP50Ms, abs, undefined, (x) => ms(x, 1));
    le('real-cold', fifo?.coldMs, router?.coldMs, serial?.coldMs, abs, undefined, (x) => ms(x, 1));
    const c1 = (x: RunnerSummary | undefined): number | undefined => x?.addedP50Ms['1'];
    {
      const d = def('real-c1-vs-bare');
      const b = c1(bare);
      t.push(notAbove(d.id, S, d.label, c1(fifo), b === undefined ? undefined : b + 0.05, d.goal, `fifo ${ms(c1(fifo), 3)}; bare forwarder ${ms(b, 3)}`));
    }
    {
      const r = c1(router);
      le('real-c1-vs-router', c1(fifo), r, c1(serial), (x) => ms(x, 3), r === undefined ? undefined : 0.5 * r);
    }
    le('real-cpu-c1', fifo?.cpuUsPerReq['1'], router?.cpuUsPerReq['1'], serial?.cpuUsPerReq['1'], us);
    le('real-cpu-c8', fifo?.cpuUsPerReq['8'], router?.cpuUsPerReq['8'], serial?.cpuUsPerReq['8'], us);
  }
  t.push(...makespans(real), ...realBatchTargets(real));
  return t;
}

function makespans(real: RealResult & { skipped: null }): Target[] {
  const of = (runner: string): { ms: number; failed: number } | undefined => {
    const rs = real.traces.filter((r) => r.trace === 'alternating-ab' && r.runner === runner);
    return rs.length === 0 ? undefined : { ms: median(rs.map((r) => r.makespanMs)), failed: rs.reduce((a, r) => a + r.failed, 0) };
  };
  const router = of('llama.cpp router');
  return (['serial', 'fifo'] as const).map((runner) => {
    const d = DEFS.find((x) => x.id === `router-makespan-${runner}`)!;
    const m = of(runner);
    if (router === undefined || m === undefined) return { ...d, scenario: S, measured: 'not run', met: null, budgetUsed: null };
    const ratio = m.ms / router.ms;
    const measured = `${fmt(m.ms / 1000)} s ÷ ${fmt(router.ms / 1000)} s = ${fmt(ratio, 3)}×${m.failed > 0 ? `, ${m.failed} failed` : ''}`;
    // serial keeps strict arrival order by design: retired as a target, kept as a row.
    if (runner === 'serial') return { ...d, scenario: S, measured, met: null, budgetUsed: null, retired: 'serial keeps strict arrival order by design' };
    const met = ratio <= MAKESPAN_NOISE && m.failed === 0;
    return { ...d, scenario: S, measured: met && ratio > 1 ? `${measured} (parity within noise)` : measured, met, budgetUsed: ratio / MAKESPAN_NOISE };
  });
}
