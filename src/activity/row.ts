/**
 * One request of the activity history: the row the recorder builds from a
 * request's `done` event, the columns it is stored in, and the JSON the API
 * answers. The JSON keeps llama-swap's field names and shape (`tokens`
 * with -1 for what was not reported) and adds modelswap's own fields
 * (method, queue time, time to first byte, client abort, the swap it caused).
 */

export interface ActivityRow {
  readonly id: number;
  /** When the request arrived, ms since the epoch. */
  readonly ts: number;
  readonly model: string;
  readonly method: string;
  readonly path: string;
  /** The status sent (or that its error maps to); null when nothing was sent (client gone). */
  readonly status: number | null;
  readonly contentType: string | null;
  readonly clientAborted: boolean;
  readonly error: string | null;
  /** From arrival to the grant: queued, or waiting for a load. */
  readonly queuedMs: number;
  /** From the grant to the upstream's response head. */
  readonly ttfbMs: number | null;
  /** From arrival to the end of the answer. */
  readonly durationMs: number;
  /** The request's model was loaded for it (it was the first one served by that load). */
  readonly causedSwap: boolean;
  /** What that load stopped to make room. */
  readonly evicted: readonly string[];
  /** How long that load took (start to healthy). */
  readonly loadMs: number | null;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly cachedTokens: number | null;
  readonly promptPerSecond: number | null;
  readonly tokensPerSecond: number | null;
  readonly sessionId: string | null;
}

/** The API's row (llama-swap's `ActivityLogEntry` plus modelswap's fields). */
export interface ActivityJson {
  readonly id: number;
  readonly timestamp: string;
  readonly model: string;
  readonly req_path: string;
  readonly resp_content_type: string;
  readonly resp_status_code: number;
  readonly tokens: {
    readonly cache_tokens: number; readonly draft_tokens: number; readonly draft_acc_tokens: number;
    readonly input_tokens: number; readonly output_tokens: number;
    readonly prompt_per_second: number; readonly tokens_per_second: number;
  };
  readonly duration_ms: number;
  readonly has_capture: boolean;
  readonly error_msg?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly method: string;
  readonly queued_ms: number;
  readonly ttfb_ms: number | null;
  readonly client_aborted: boolean;
  readonly caused_swap: boolean;
  readonly evicted: readonly string[];
  readonly load_ms: number | null;
}

const orMinus1 = (n: number | null): number => n ?? -1;

export function toJson(row: ActivityRow, hasCapture: boolean): ActivityJson {
  return {
    id: row.id,
    timestamp: new Date(row.ts).toISOString(),
    model: row.model,
    req_path: row.path,
    resp_content_type: row.contentType ?? '',
    resp_status_code: row.status ?? 0,
    tokens: {
      cache_tokens: orMinus1(row.cachedTokens), draft_tokens: -1, draft_acc_tokens: -1,
      input_tokens: orMinus1(row.promptTokens), output_tokens: orMinus1(row.completionTokens),
      prompt_per_second: orMinus1(row.promptPerSecond), tokens_per_second: orMinus1(row.tokensPerSecond),
    },
    duration_ms: row.durationMs,
    has_capture: hasCapture,
    ...(row.error !== null ? { error_msg: row.error } : {}),
    ...(row.sessionId !== null ? { metadata: { session_id: row.sessionId } } : {}),
    method: row.method,
    queued_ms: row.queuedMs,
    ttfb_ms: row.ttfbMs,
    client_aborted: row.clientAborted,
    caused_swap: row.causedSwap,
    evicted: row.evicted,
    load_ms: row.loadMs,
  };
}

/** Table columns, in insert order, with the row field each holds. */
export const COLUMNS = [
  ['id', 'INTEGER PRIMARY KEY AUTOINCREMENT'], ['ts', 'INTEGER NOT NULL'], ['model', 'TEXT NOT NULL'], ['method', 'TEXT NOT NULL'],
  ['req_path', 'TEXT NOT NULL'], ['resp_status_code', 'INTEGER'], ['resp_content_type', 'TEXT'], ['client_aborted', 'INTEGER NOT NULL'],
  ['error_msg', 'TEXT'], ['queued_ms', 'INTEGER NOT NULL'], ['ttfb_ms', 'INTEGER'], ['duration_ms', 'INTEGER NOT NULL'],
  ['caused_swap', 'INTEGER NOT NULL'], ['evicted', 'TEXT NOT NULL'], ['load_ms', 'INTEGER'], ['input_tokens', 'INTEGER'],
  ['output_tokens', 'INTEGER'], ['cache_tokens', 'INTEGER'], ['prompt_per_second', 'REAL'], ['tokens_per_second', 'REAL'],
  ['session_id', 'TEXT'],
] as const;

type SqlValue = number | string | null;

/** The row's values in COLUMNS order. */
export function toColumns(r: ActivityRow): SqlValue[] {
  return [
    r.id, r.ts, r.model, r.method, r.path, r.status, r.contentType, r.clientAborted ? 1 : 0, r.error, r.queuedMs, r.ttfbMs, r.durationMs,
    r.causedSwap ? 1 : 0, JSON.stringify(r.evicted), r.loadMs, r.promptTokens, r.completionTokens, r.cachedTokens, r.promptPerSecond,
    r.tokensPerSecond, r.sessionId,
  ];
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** A stored row back into an ActivityRow. */
export function fromColumns(c: Record<string, unknown>): ActivityRow {
  let evicted: string[] = [];
  try {
    const parsed: unknown = JSON.parse(String(c['evicted']));
    if (Array.isArray(parsed)) evicted = parsed.map(String);
  } catch {
    // a damaged value: nothing evicted
  }
  return {
    id: Number(c['id']), ts: Number(c['ts']), model: String(c['model']), method: String(c['method']), path: String(c['req_path']),
    status: num(c['resp_status_code']), contentType: str(c['resp_content_type']), clientAborted: c['client_aborted'] === 1,
    error: str(c['error_msg']), queuedMs: Number(c['queued_ms']), ttfbMs: num(c['ttfb_ms']), durationMs: Number(c['duration_ms']),
    causedSwap: c['caused_swap'] === 1, evicted, loadMs: num(c['load_ms']), promptTokens: num(c['input_tokens']),
    completionTokens: num(c['output_tokens']), cachedTokens: num(c['cache_tokens']), promptPerSecond: num(c['prompt_per_second']),
    tokensPerSecond: num(c['tokens_per_second']), sessionId: str(c['session_id']),
  };
}
