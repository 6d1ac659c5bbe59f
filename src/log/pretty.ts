/**
 * Log lines for people: the proxy's JSON lines (pino's) rewritten as
 * `<time> <LEVEL> [model] message key=value …`, one line per record (an
 * error's stack follows, indented). Anything that is not a JSON record, such
 * as an upstream server's `[model] text` output, passes through unchanged.
 *
 * The time is the record's own `time` field: a string when `logTimeFormat`
 * is set (already written in its layout, so it is shown as is), otherwise
 * pino's epoch milliseconds, shown as local `HH:MM:SS.mmm`.
 *
 * Used for the proxy's stdout (`--log-format pretty`) and by `modelswap logs`
 * on what `/logs` serves, which stays JSON lines for scripts.
 *
 * Why not pino-pretty: it prints extra fields on separate lines or as one
 * JSON blob, parses `time` strings (a Go layout such as `kitchen` is not a
 * date it can parse) and brings about fifteen packages; one pass over the
 * fields is all these lines need.
 */

export interface PrettyOptions {
  /** ANSI colours (only for a terminal that has them). */
  readonly color: boolean;
}

const LEVELS = new Map<number, { readonly name: string; readonly color: string }>([
  [10, { name: 'TRACE', color: '90' }],
  [20, { name: 'DEBUG', color: '90' }],
  [30, { name: 'INFO', color: '32' }],
  [40, { name: 'WARN', color: '33' }],
  [50, { name: 'ERROR', color: '31' }],
  [60, { name: 'FATAL', color: '31;1' }],
]);

/** Fields shown in their own place, not as `key=value`. */
const PLACED = new Set(['level', 'time', 'msg', 'model']);

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function clock(time: unknown): string {
  if (typeof time === 'string') return time;
  if (typeof time !== 'number') return '--:--:--.---';
  const d = new Date(time);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A value as `key=value` shows it: bare when unambiguous, JSON otherwise. */
function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One record as a line (plus an error's stack), or undefined when `line` is not a pino record. */
export function prettyRecord(line: string, o: PrettyOptions): string | undefined {
  if (!line.startsWith('{')) return undefined;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof rec !== 'object' || rec === null || typeof rec.level !== 'number') return undefined;
  const paint = (code: string, s: string): string => (o.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const level = LEVELS.get(rec.level) ?? { name: `L${rec.level}`, color: '0' };
  const parts = [paint('2', clock(rec.time)), paint(level.color, level.name.padEnd(5))];
  if (typeof rec.model === 'string') parts.push(paint('36', `[${rec.model}]`));
  if (typeof rec.msg === 'string' && rec.msg !== '') parts.push(rec.msg);
  let stack = '';
  const extras: string[] = [];
  for (const [k, v] of Object.entries(rec)) {
    if (PLACED.has(k) || v === undefined) continue;
    const err = v as { message?: unknown; stack?: unknown } | null;
    if (typeof err === 'object' && err !== null && typeof err.message === 'string') {
      extras.push(`${k}=${value(err.message)}`);
      if (typeof err.stack === 'string') stack += `\n${err.stack.split('\n').slice(1).join('\n')}`;
      continue;
    }
    extras.push(`${k}=${value(v)}`);
  }
  if (extras.length > 0) parts.push(paint('2', extras.join(' ')));
  return parts.join(' ') + (stack.trim() === '' ? '' : paint('2', stack));
}

/** Every complete line of `text` rewritten (see the file comment); newlines are kept as they were. */
export function prettyLines(text: string, o: PrettyOptions): string {
  return text.split('\n').map((line) => prettyRecord(line, o) ?? line).join('\n');
}

/**
 * For a stream whose chunks may split lines (an HTTP body): `push` returns
 * the complete lines so far, rewritten; `end` returns what is left.
 */
export class PrettyLineBuffer {
  readonly #o: PrettyOptions;
  #rest = '';

  constructor(o: PrettyOptions) {
    this.#o = o;
  }

  push(chunk: string): string {
    const text = this.#rest + chunk;
    const cut = text.lastIndexOf('\n') + 1;
    this.#rest = text.slice(cut);
    return cut === 0 ? '' : prettyLines(text.slice(0, cut), this.#o);
  }

  end(): string {
    const rest = this.#rest;
    this.#rest = '';
    return rest === '' ? '' : prettyLines(rest, this.#o);
  }
}
