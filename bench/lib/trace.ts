/** The format of a scheduling trace (bench/traces/*.json). */
import { readFileSync } from 'node:fs';

export interface TraceEntry {
  /** Send time, ms after the trace starts. */
  readonly atMs: number;
  /** Who sends it (for reading the trace; not sent). */
  readonly client: string;
  readonly model: string;
  readonly stream: boolean;
  readonly maxTokens: number;
}

export interface TraceModel {
  /** The fake llama-server's --load-ms: its own spawn-to-healthy, beyond Node's start. */
  readonly loadMs: number;
  /** The fake's --token-ms: time per generated token. */
  readonly tokenMs: number;
}

export interface Trace {
  readonly name: string;
  readonly description: string;
  readonly models: Readonly<Record<string, TraceModel>>;
  readonly requests: readonly TraceEntry[];
}

export function readTrace(path: string | URL): Trace {
  const t = JSON.parse(readFileSync(path, 'utf8')) as Trace;
  if (typeof t.name !== 'string' || !Array.isArray(t.requests) || t.requests.length === 0) throw new Error(`${String(path)}: not a trace`);
  for (const r of t.requests) {
    if (!(r.model in t.models)) throw new Error(`${String(path)}: request at ${r.atMs} ms names unknown model ${r.model}`);
  }
  return t;
}
