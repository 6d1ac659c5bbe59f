/**
 * `npm run bench`: every scenario of the benchmark in one run, then
 * BENCHMARKS.md, bench/results/latest.json (+ a dated copy) and
 * bench/results/chart.svg.
 *
 *   node bench/run.ts [--only overhead,streaming,coldstart,traces,scale,real]
 *                     [--smoke | --render] [--quick] [--results DIR] [--report FILE]
 *
 * --smoke: tiny sizes (a few seconds), for the test that checks the
 * benchmark runs and writes well-formed results; scenario 6 is skipped.
 * --quick: scenario 6 with few short rounds and the A/B trace only (about
 * two minutes), to check that its rows render; its figures are not a verdict.
 * --render: run nothing; rewrite the report and chart from the results
 * directory's latest.json (after editing bench/findings.md).
 * --results / --report: where to write (default bench/results, BENCHMARKS.md;
 * a run with --only defaults to bench/results/tmp/, git-ignored, so that a
 * partial run never replaces the full report).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCli, ROOT } from './lib/processes.ts';
import { renderChart, renderMarkdown } from './lib/report.ts';
import { evaluate, RESULTS_SCHEMA, type Machine, type Results } from './lib/results.ts';
import { coldStart } from './scenarios/coldstart.ts';
import { overhead } from './scenarios/overhead.ts';
import { real } from './scenarios/real.ts';
import { scale } from './scenarios/scale.ts';
import { streaming } from './scenarios/streaming.ts';
import { traceFiles, traces } from './scenarios/traces.ts';

const SCENARIOS = ['overhead', 'streaming', 'coldstart', 'traces', 'scale', 'real'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    results: { type: 'string' },
    report: { type: 'string' },
  },
  strict: true,
});
const partial = args.only !== undefined && !args.render;
const resultsDir = args.results ?? join(ROOT, partial ? 'bench/results/tmp' : 'bench/results');
const reportFile = args.report ?? (partial ? join(resultsDir, 'BENCHMARKS.md') : join(ROOT, 'BENCHMARKS.md'));

const only = args.only === undefined ? [...SCENARIOS] : args.only.split(',').map((s) => s.trim());
for (const s of only) {
  if (!(SCENARIOS as readonly string[]).includes(s)) {
    process.stderr.write(`bench: unknown scenario ${JSON.stringify(s)}; known: ${SCENARIOS.join(', ')}\n`);
    process.exit(2);
  }
}
const wanted = (s: Scenario): boolean => only.includes(s);
const smoke = args.smoke;
const quick = args.quick;
const log = (s: string): void => void process.stdout.write(`${s}\n`);

function machine(): Machine {
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    modelswap: pkg.version,
    commit,
  };
}

async function measure(): Promise<Results> {
  log('building dist/ (npm run build): the benchmark runs the modelswap bin users get');
  await buildCli();
  const started = performance.now();
  const scenarios: { -readonly [K in keyof Results['scenarios']]: Results['scenarios'][K] } = {};

  if (wanted('overhead')) {
    log('1. request overhead');
    scenarios.overhead = await overhead(smoke ? { rounds: 1, warmupMs: 100, phaseMs: { c1: 300, c32: 300, c64: 300 }, floor: true, recording: true } : { rounds: 5, warmupMs: 1000, phaseMs: { c1: 3000, c32: 3000, c64: 5000 }, floor: true, recording: true }, log);
  }
  if (wanted('streaming')) {
    log('2. streaming');
    scenarios.streaming = await streaming(smoke ? { rounds: 1, tokens: 20, tokenMs: 2, c1Streams: 1, concurrent: 4, warmup: 4, warmupConcurrency: 2, quiet: true } : { rounds: 3, tokens: 500, tokenMs: 2, c1Streams: 3, concurrent: 32, warmup: 64, warmupConcurrency: 32, quiet: true }, log);
  }
  if (wanted('coldstart')) {
    log('3. cold start and swap');
    scenarios.coldStart = await coldStart(smoke ? { rounds: 1, loadMs: 50 } : { rounds: 9, loadMs: 300 }, log);
  }
  if (wanted('traces')) {
    log('4. scheduling traces');
    scenarios.traces = await traces(smoke ? [join(ROOT, 'test/fixtures/bench-smoke-trace.json')] : traceFiles(), log);
  }
  if (wanted('scale')) {
    log('5. scale');
    scenarios.scale = await scale(smoke ? { streams: 20, tokens: 5, tokenMs: 20 } : { streams: 1000, tokens: 100, tokenMs: 100 }, log);
  }
  if (wanted('real')) {
    log('6. real upstream');
    scenarios.real = smoke
      ? { skipped: 'smoke run' }
      : await real(quick
        ? { side: { rounds: 2, warmupMs: 200, phaseMs: 600, slices: 2, concurrencies: [1, 8, 32], streams: 1, streamTokens: 500, swapRounds: 1, abSwaps: 2 }, trace: 'alternating-ab.json', abRounds: 1, abOnly: true }
        : { side: { rounds: 6, warmupMs: 250, phaseMs: 2000, slices: 4, concurrencies: [1, 8, 32], streams: 8, streamTokens: 500, swapRounds: 10, abSwaps: 6 }, trace: 'alternating-ab.json', abRounds: 3 }, log);
    if (scenarios.real.skipped !== null) log(`  skipped: ${scenarios.real.skipped}`);
  }

  return {
    schema: RESULTS_SCHEMA,
    mode: smoke ? 'smoke' : 'full',
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    durationS: (performance.now() - started) / 1000,
    machine: machine(),
    scenarios,
    targets: evaluate(scenarios),
  };
}

function render(results: Results): void {
  const chart = join(resultsDir, 'chart.svg');
  writeFileSync(chart, renderChart(results.targets, `modelswap targets, ${results.date.slice(0, 10)}, ${results.machine.cpus} cores, Node ${results.machine.node}`));
  const findingsFile = join(ROOT, 'bench/findings.md');
  const findings = existsSync(findingsFile) ? readFileSync(findingsFile, 'utf8') : '';
  writeFileSync(reportFile, renderMarkdown(results, { chartPath: relative(dirname(reportFile), chart), findings }));
}

mkdirSync(resultsDir, { recursive: true });
mkdirSync(dirname(reportFile), { recursive: true });
let results: Results;
if (args.render) {
  const saved = JSON.parse(readFileSync(join(resultsDir, 'latest.json'), 'utf8')) as Results;
  results = { ...saved, targets: evaluate(saved.scenarios) }; // the targets as the code now reads them
} else {
  results = await measure();
  const json = `${JSON.stringify(results, null, 1)}\n`;
  writeFileSync(join(resultsDir, 'latest.json'), json);
  writeFileSync(join(resultsDir, `${results.date.slice(0, 19).replace(/[:T]/g, '-')}.json`), json);
}
render(results);

log('');
for (const t of results.targets) log(`${t.met === null ? '-' : t.met ? '✓' : '✗'} ${t.label}: ${t.measured} (${t.goal})`);
log(`\nwrote ${relative(process.cwd(), reportFile)} and ${relative(process.cwd(), join(resultsDir, 'chart.svg'))}${args.render ? ' from' : ', measured in'} ${relative(process.cwd(), join(resultsDir, 'latest.json'))} (${Math.round(results.durationS)} s of measuring)`);
