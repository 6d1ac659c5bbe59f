/**
 * Scenario 6, a real upstream: with LLAMA_SERVER=/path/to/llama-server (and
 * LLAMA_MODEL=/path/to/model.gguf, default ../shared/models/tiny-9m.gguf),
 * scenarios 1-3 again with llama.cpp's server as the upstream, and the A/B
 * trace against modelswap (both schedulers) and llama.cpp's router mode.
 * Without the binary or the model, the scenario returns why it was skipped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/processes.ts';
import { readTrace } from '../lib/trace.ts';
import { llamaServer } from '../lib/upstreams.ts';
import { coldStart, type ColdStartResult } from './coldstart.ts';
import { overhead, type OverheadOptions, type OverheadResult } from './overhead.ts';
import { streaming, type StreamingResult } from './streaming.ts';
import { describeRun, replay, replayOnRouter, traceFiles, type TraceRun } from './traces.ts';

export interface RealOptions {
  readonly overhead: OverheadOptions;
  readonly streamingRounds: number;
  readonly coldRounds: number;
  /** The A/B trace (file in bench/traces/) of the makespan target, replayed `abRounds` times per runner. */
  readonly trace: string;
  readonly abRounds: number;
}

export type RealResult =
  | { readonly skipped: string }
  | {
    readonly skipped: null;
    readonly binary: string;
    readonly model: string;
    readonly overhead: OverheadResult;
    readonly streaming: StreamingResult;
    readonly coldStart: ColdStartResult;
    /** Every trace once per runner, plus the extra rounds of the A/B trace. */
    readonly traces: readonly TraceRun[];
  };

export const DEFAULT_GGUF = join(ROOT, '../shared/models/tiny-9m.gguf');

/** Why scenario 6 cannot run here, or undefined when it can. */
export function realSkipReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const bin = env.LLAMA_SERVER;
  if (bin === undefined || bin === '') return 'LLAMA_SERVER is not set (the path of a llama.cpp llama-server binary)';
  if (!existsSync(bin)) return `LLAMA_SERVER=${bin} does not exist`;
  const model = env.LLAMA_MODEL ?? DEFAULT_GGUF;
  if (!existsSync(model)) return `no GGUF model at ${model} (set LLAMA_MODEL)`;
  return undefined;
}

export async function real(o: RealOptions, log: (s: string) => void): Promise<RealResult> {
  const reason = realSkipReason();
  if (reason !== undefined) return { skipped: reason };
  const binary = process.env.LLAMA_SERVER!;
  const model = process.env.LLAMA_MODEL ?? DEFAULT_GGUF;
  const kind = llamaServer(binary, model);
  log(' real llama-server: request overhead');
  const oh = await overhead(o.overhead, log, kind);
  log(' real llama-server: streaming (500 tokens, no send stamps: TTFB and coalescing only)');
  const st = await streaming({ rounds: o.streamingRounds, tokens: 500, tokenMs: 0, c1Streams: 3, concurrent: 0, warmup: 4, warmupConcurrency: 1, quiet: true }, log, kind);
  log(' real llama-server: cold start and swap');
  const cs = await coldStart({ rounds: o.coldRounds, loadMs: 0 }, log, kind);
  log(' real llama-server: traces, modelswap (serial, fifo) vs llama.cpp router (--models-max 1)');
  const runs: TraceRun[] = [];
  for (const file of traceFiles()) {
    const trace = readTrace(file);
    const rounds = file.endsWith(`/${o.trace}`) ? o.abRounds : 1;
    for (let r = 0; r < rounds; r++) {
      for (const run of [() => replay(trace, 'serial', kind), () => replay(trace, 'fifo', kind), () => replayOnRouter(trace, binary, model)]) {
        const x = await run();
        runs.push(x);
        log(describeRun(x));
      }
    }
  }
  return { skipped: null, binary, model, overhead: oh, streaming: st, coldStart: cs, traces: runs };
}
