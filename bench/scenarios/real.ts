/**
 * Scenario 6, a real upstream: with LLAMA_SERVER=/path/to/llama-server (and
 * LLAMA_MODEL=/path/to/model.gguf, default ../shared/models/tiny-9m.gguf),
 * the side-by-side rows (./side-by-side.ts: request overhead, throughput,
 * CPU per request, streaming, cold start and A/B swaps through modelswap
 * fifo and serial, the bare forwarder and llama.cpp's router, against the
 * server reached directly), then the traces against modelswap (serial,
 * fifo and batch, each with its default settings) and the router, in that
 * order on every trace and round. Without the binary or the model, the
 * scenario returns why it was skipped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/processes.ts';
import { readTrace } from '../lib/trace.ts';
import { llamaServer } from '../lib/upstreams.ts';
import type { ColdStartResult } from './coldstart.ts';
import type { OverheadResult } from './overhead.ts';
import type { StreamingResult } from './streaming.ts';
import { sideBySide, type SideBySideResult, type SideOptions } from './side-by-side.ts';
import { describeRun, replay, replayOnRouter, SCHEDULERS, traceFiles, type TraceRun } from './traces.ts';

export interface RealOptions {
  readonly side: SideOptions;
  /** The A/B trace (file in bench/traces/) of the makespan target, replayed `abRounds` times per runner. */
  readonly trace: string;
  readonly abRounds: number;
  /** Replay only the A/B trace (a short check), not every trace. */
  readonly abOnly?: boolean;
}

export type RealResult =
  | { readonly skipped: string }
  | {
    readonly skipped: null;
    readonly binary: string;
    readonly model: string;
    /** Absent in results saved before the side-by-side rows. */
    readonly side?: SideBySideResult;
    /** Scenarios 1-3 with llama-server as the upstream: results saved before the side-by-side rows replaced them. */
    readonly overhead?: OverheadResult;
    readonly streaming?: StreamingResult;
    readonly coldStart?: ColdStartResult;
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
  log(' real llama-server, side by side: direct, bare forwarder, modelswap fifo and serial, llama.cpp router');
  const side = await sideBySide(o.side, log, { kind, router: { bin: binary, gguf: model } });
  log(` real llama-server: traces, modelswap (${SCHEDULERS.join(', ')}) vs llama.cpp router (--models-max 1)`);
  const runs: TraceRun[] = [];
  for (const file of traceFiles().filter((f) => o.abOnly !== true || f.endsWith(`/${o.trace}`))) {
    const trace = readTrace(file);
    const rounds = file.endsWith(`/${o.trace}`) ? o.abRounds : 1;
    for (let r = 0; r < rounds; r++) {
      for (const run of [...SCHEDULERS.map((s) => () => replay(trace, s, kind)), () => replayOnRouter(trace, binary, model)]) {
        const x = await run();
        runs.push(x);
        log(describeRun(x));
      }
    }
  }
  return { skipped: null, binary, model, side, traces: runs };
}
