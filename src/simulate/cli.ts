/**
 * `modelswap simulate --config FILE --trace FILE [--scheduler a,b] [--json]`:
 * replays a request trace through each scheduler on a virtual clock and
 * prints one row (or, with --json, one JSON object per line) per scheduler.
 *
 * Exit codes: 0 done; 2 bad usage (unknown flag or scheduler), a config with
 * problems, or a trace that cannot be read (the message names the line).
 * Requests for a model the config does not have are not an error: they are
 * counted as failed (MODEL_NOT_FOUND, a 404 in the proxy), with a note on
 * stderr.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, parseConfig, type ConfigEnv } from '../config/load.ts';
import { simulateDefaults } from '../config/simulate-options.ts';
import type { Config } from '../config/types.ts';
import { formatJsonLines, formatTable, summarize, type SimSummary } from './report.ts';
import { simulateRun } from './run.ts';
import { configFor, parseSchedulerList, schedulerNames } from './schedulers.ts';
import { parseTrace, TraceError, type TraceRequest } from './trace.ts';

export interface SimulateIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => string;
  /** For `${env.NAME}` in the config; default process.env. */
  readonly env?: ConfigEnv;
}

const DEFAULTS = simulateDefaults();

export const SIMULATE_HELP = `Usage: modelswap simulate --config <file> --trace <file> [--scheduler <a,b,...>] [--json]

Replays a request trace through the real schedulers on a virtual clock (no
processes, no sockets) and prints, per scheduler: requests, swaps (model
loads), makespan, wait p50/p99/max (grant - arrival) and time spent loading.

  --config <file>      the modelswap config (models, groups, priorities); each
                       model's load and stop times come from
                       models.<id>.simulate { loadMs, stopMs } (default
                       ${DEFAULTS.loadMs} and ${DEFAULTS.stopMs} ms)
  --trace <file>       JSON Lines, one request per line:
                       {"t": <arrival ms>, "model": "<id>", "ms": <service ms>}
  --scheduler <names>  comma-separated, from: ${schedulerNames().join(', ')} [all of them]
  --json               one JSON object per scheduler per line instead of a table
`;

const usage = (io: SimulateIo, message: string): number => {
  io.stderr(`modelswap simulate: ${message.trimEnd()}\n\n${SIMULATE_HELP}`);
  return 2;
};

function describeTrace(trace: readonly TraceRequest[], config: Config): string {
  const span = Math.max(...trace.map((r) => r.t)) - Math.min(...trace.map((r) => r.t));
  const models = [...new Set(trace.map((r) => config.aliases.get(r.model) ?? r.model))].filter((m) => config.models.has(m)).sort();
  const d = DEFAULTS;
  const times = models.map((m) => {
    const s = config.models.get(m)!.simulate;
    const dflt = s.loadMs === d.loadMs && s.stopMs === d.stopMs ? ' (defaults)' : '';
    return `${m} ${s.loadMs}/${s.stopMs} ms${dflt}`;
  });
  return `${trace.length} requests for ${models.length} models, arrivals over ${(span / 1000).toFixed(2)} s\nload/stop times: ${times.join(', ')}\n`;
}

/** Runs the command; returns the exit code. Reads files through `io`, writes only through `io`. */
export function runSimulate(argv: readonly string[], io: SimulateIo): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { config: { type: 'string' }, trace: { type: 'string' }, scheduler: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  if (values.help === true) {
    io.stdout(SIMULATE_HELP);
    return 0;
  }
  if (values.config === undefined) return usage(io, '--config <file> is required');
  if (values.trace === undefined) return usage(io, '--trace <file> is required');
  let schedulers: readonly string[];
  try {
    schedulers = parseSchedulerList(values.scheduler);
  } catch (err) {
    return usage(io, (err as Error).message);
  }

  const read = (flag: string, path: string): string | number => {
    try {
      return io.readFile(path);
    } catch (err) {
      return usage(io, `${flag}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const text = read('--config', values.config);
  if (typeof text === 'number') return text;
  const traceText = read('--trace', values.trace);
  if (typeof traceText === 'number') return traceText;

  let trace: TraceRequest[];
  try {
    trace = parseTrace(traceText);
  } catch (err) {
    if (err instanceof TraceError) return fail(io, `${values.trace}: ${err.message}`);
    throw err;
  }

  const opts = { source: values.config, env: io.env ?? process.env };
  const rows: SimSummary[] = [];
  let base: Config;
  try {
    base = parseConfig(text, opts);
    for (const name of schedulers) rows.push(summarize(name, simulateRun(configFor(text, base, name, opts), trace)));
  } catch (err) {
    if (err instanceof ConfigError) return fail(io, err.message);
    throw err;
  }

  const unknown = [...new Set(trace.map((r) => r.model).filter((m) => !base.models.has(m) && !base.aliases.has(m)))];
  if (unknown.length > 0) {
    const n = trace.filter((r) => unknown.includes(r.model)).length;
    io.stderr(`modelswap simulate: note: ${n} requests name models the config does not have (${unknown.join(', ')}); they are counted as failed (MODEL_NOT_FOUND, a 404 in the proxy)\n`);
  }
  if (values.json === true) io.stdout(formatJsonLines(rows));
  else io.stdout(`${describeTrace(trace, base)}\n${formatTable(rows)}`);
  return 0;
}

function fail(io: SimulateIo, message: string): number {
  io.stderr(`modelswap simulate: ${message.trimEnd()}\n`);
  return 2;
}

/** The command with the process's own streams and files. */
export function simulateCli(argv: readonly string[]): number {
  return runSimulate(argv, {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    readFile: (path) => readFileSync(path, 'utf8'),
  });
}
