/**
 * The trace format of `modelswap simulate`: JSON Lines, one request per line,
 *   {"t": <ms since start>, "model": "<id or alias>", "ms": <service time>}
 * with optional `"stream": true|false` and `"priority": <number>`. Other keys
 * are ignored (a trace may carry notes such as the client's name). Blank
 * lines are skipped. Lines need not be sorted by `t`; requests arriving at
 * the same instant arrive in line order.
 *
 * `stream` and `priority` are read and checked but change nothing yet: the
 * simulated service time is `ms` either way, and the schedulers order by the
 * model's priority from the config (routing.scheduler.settings), not by a
 * request's.
 */

export interface TraceRequest {
  /** 1-based line number in the trace file. */
  readonly line: number;
  readonly t: number;
  readonly model: string;
  readonly ms: number;
  readonly stream: boolean;
  readonly priority: number | undefined;
}

/** A line that is not a valid request. The CLI prints the message and exits 2. */
export class TraceError extends Error {
  override readonly name = 'TraceError';
  readonly line: number | undefined;

  constructor(line: number | undefined, message: string) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.line = line;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function parseLine(text: string, line: number): TraceRequest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new TraceError(line, `not JSON: ${(err as Error).message}`);
  }
  if (!isObject(v)) throw new TraceError(line, `expected an object such as {"t": 0, "model": "a", "ms": 100}, got ${text.slice(0, 80)}`);
  const { t, model, ms, stream, priority } = v;
  if (!isTime(t)) throw new TraceError(line, `"t" (arrival, ms since the start) must be a number >= 0, got ${JSON.stringify(t)}`);
  if (typeof model !== 'string' || model === '') throw new TraceError(line, `"model" must be a non-empty string, got ${JSON.stringify(model)}`);
  if (!isTime(ms)) throw new TraceError(line, `"ms" (service time) must be a number >= 0, got ${JSON.stringify(ms)}`);
  if (stream !== undefined && typeof stream !== 'boolean') throw new TraceError(line, `"stream" must be true or false, got ${JSON.stringify(stream)}`);
  if (priority !== undefined && (typeof priority !== 'number' || !Number.isFinite(priority))) {
    throw new TraceError(line, `"priority" must be a number, got ${JSON.stringify(priority)}`);
  }
  return { line, t, model, ms, stream: stream === true, priority };
}

/** Every request of a trace, in line order. Throws TraceError at the first bad line, or for a trace with no request. */
export function parseTrace(text: string): TraceRequest[] {
  const out: TraceRequest[] = [];
  text.split('\n').forEach((raw, i) => {
    const s = raw.trim();
    if (s !== '') out.push(parseLine(s, i + 1));
  });
  if (out.length === 0) throw new TraceError(undefined, 'the trace has no requests (expected one JSON object per line)');
  return out;
}
