/**
 * Exports of the activity history (`GET /api/metrics/activity/export`):
 * CSV (RFC 4180) or JSON, every row that matches the filters, written a
 * batch of rows at a time so a large history is never one string in memory.
 */
import type { ActivityJson } from './row.ts';

/** CSV columns: the API's fields, flattened. */
export const CSV_HEADER = [
  'id', 'timestamp', 'model', 'method', 'req_path', 'resp_status_code', 'resp_content_type', 'client_aborted', 'queued_ms', 'ttfb_ms',
  'duration_ms', 'caused_swap', 'evicted', 'load_ms', 'input_tokens', 'output_tokens', 'cache_tokens', 'prompt_per_second',
  'tokens_per_second', 'session_id', 'has_capture', 'error_msg',
] as const;

/**
 * One CSV field. Text that a spreadsheet would run as a formula (starting
 * with =, +, - or @) gets a leading apostrophe; a field with a comma, quote
 * or line break is quoted, its quotes doubled.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(r: ActivityJson): string {
  const fields = [
    r.id, r.timestamp, r.model, r.method, r.req_path, r.resp_status_code, r.resp_content_type, r.client_aborted, r.queued_ms, r.ttfb_ms,
    r.duration_ms, r.caused_swap, r.evicted.join(' '), r.load_ms, r.tokens.input_tokens, r.tokens.output_tokens, r.tokens.cache_tokens,
    r.tokens.prompt_per_second, r.tokens.tokens_per_second, r.metadata?.['session_id'] ?? null, r.has_capture, r.error_msg ?? null,
  ];
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** Writes `rows` as CSV or a JSON array to `write`, in pieces of about `chunkRows` rows. */
export function* exportChunks(rows: Iterable<ActivityJson>, format: 'csv' | 'json', chunkRows = 500): Generator<string> {
  let buf: string[] = [format === 'csv' ? `${CSV_HEADER.join(',')}\r\n` : '['];
  let first = true;
  for (const r of rows) {
    if (format === 'csv') buf.push(csvLine(r));
    else {
      buf.push(`${first ? '' : ','}\n${JSON.stringify(r)}`);
      first = false;
    }
    if (buf.length >= chunkRows) {
      yield buf.join('');
      buf = [];
    }
  }
  if (format === 'json') buf.push(first ? ']\n' : '\n]\n');
  yield buf.join('');
}
