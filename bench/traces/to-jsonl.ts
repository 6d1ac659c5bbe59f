/**
 * Writes the benchmark's scheduling traces (bench/traces/*.json) as
 * `modelswap simulate` traces in examples/traces/ (*.jsonl): one request per
 * line, `t` = the send time, `ms` = the fake server's service time
 * (maxTokens × tokenMs), `stream` kept, and the bench's `client` kept as a
 * note (the simulator ignores unknown keys). A test checks that the files
 * are up to date. Run: node bench/traces/to-jsonl.ts
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

interface BenchTrace {
  readonly name: string;
  readonly models: Readonly<Record<string, { readonly tokenMs: number }>>;
  readonly requests: ReadonlyArray<{ readonly atMs: number; readonly client: string; readonly model: string; readonly stream: boolean; readonly maxTokens: number }>;
}

const BENCH = new URL('./', import.meta.url);
const EXAMPLES = new URL('../../examples/traces/', import.meta.url);

/** The JSON Lines text of one bench trace. */
export function toJsonLines(trace: BenchTrace): string {
  return trace.requests
    .map((r) => JSON.stringify({ t: r.atMs, model: r.model, ms: r.maxTokens * trace.models[r.model]!.tokenMs, stream: r.stream, client: r.client }))
    .join('\n') + '\n';
}

/** Every bench trace: its name and JSON Lines text. */
export function benchTraces(): Array<{ readonly name: string; readonly text: string }> {
  return readdirSync(BENCH).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const trace = JSON.parse(readFileSync(new URL(f, BENCH), 'utf8')) as BenchTrace;
    return { name: trace.name, text: toJsonLines(trace) };
  });
}

if (import.meta.main) {
  for (const { name, text } of benchTraces()) {
    writeFileSync(new URL(`${name}.jsonl`, EXAMPLES), text);
    process.stdout.write(`${name}.jsonl: ${text.split('\n').length - 1} requests\n`);
  }
}
