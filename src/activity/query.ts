/**
 * The activity API's query parameters (llama-swap's): `model` (repeatable),
 * `start`/`end` (RFC 3339, inclusive), `min_id`/`max_id` (inclusive),
 * `limit` 1–999 (default 25), `page` (from 1), `sort` (a column key) and
 * `order` (asc/desc, default desc). Bad input is a BAD_REQUEST naming the
 * parameter and the value; the SQL only ever sees whitelisted column names
 * and bound values.
 */
import { ProxyError } from '../errors.ts';
import { quote } from '../server/quote.ts';

export interface ActivityFilter {
  readonly models: readonly string[];
  /** Arrival time bounds, ms since the epoch. */
  readonly start?: number;
  readonly end?: number;
  readonly minId?: number;
  readonly maxId?: number;
}

export interface ActivityQuery extends ActivityFilter {
  readonly limit: number;
  readonly page: number;
  readonly sort: SortKey;
  readonly order: 'asc' | 'desc';
}

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 999;

/** Sort keys (llama-swap's, then modelswap's own) and the column each orders by. */
const SORT_COLUMNS = {
  id: 'id', time: 'ts', model: 'model', req_path: 'req_path', resp_status_code: 'resp_status_code',
  resp_content_type: 'resp_content_type', cached: 'cache_tokens', prompt: 'input_tokens', generated: 'output_tokens',
  // modelswap does not read draft counts: drafted orders like id
  drafted: 'id', prompt_speed: 'prompt_per_second', gen_speed: 'tokens_per_second', duration: 'duration_ms',
  queued: 'queued_ms', ttfb: 'ttfb_ms', method: 'method', swap: 'caused_swap', load: 'load_ms',
} as const;

export type SortKey = keyof typeof SORT_COLUMNS;

const bad = (message: string): ProxyError => new ProxyError('BAD_REQUEST', message);

function integer(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const text = params.get(name);
  if (text === null || text === '') return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(`${name} must be an integer from ${min} to ${max}, got ${quote(text)}`);
  return n;
}

/** RFC 3339 date-time, with a zone (Z or ±hh:mm), fractions allowed. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function time(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null || text === '') return undefined;
  const ms = RFC3339.test(text) ? Date.parse(text.replace(' ', 'T')) : NaN;
  if (Number.isNaN(ms)) throw bad(`${name} must be an RFC 3339 time such as 2026-01-31T12:00:00Z, got ${quote(text)}`);
  return ms;
}

/** The filter parameters (also what an export takes). */
export function parseFilter(params: URLSearchParams): ActivityFilter {
  const models = params.getAll('model').map((m) => m.trim()).filter((m) => m !== '');
  const start = time(params, 'start');
  const end = time(params, 'end');
  if (start !== undefined && end !== undefined && start > end) throw bad('start must not be after end');
  const minId = integer(params, 'min_id', 0, Number.MAX_SAFE_INTEGER);
  const maxId = integer(params, 'max_id', 0, Number.MAX_SAFE_INTEGER);
  return {
    models,
    ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}),
    ...(minId !== undefined && minId > 0 ? { minId } : {}), ...(maxId !== undefined && maxId > 0 ? { maxId } : {}),
  };
}

/** Sort and order (shared by the page query and the export). */
export function parseSort(params: URLSearchParams): { sort: SortKey; order: 'asc' | 'desc' } {
  const sort = params.get('sort') ?? '';
  const order = (params.get('order') ?? '').toLowerCase();
  if (sort !== '' && !Object.hasOwn(SORT_COLUMNS, sort)) throw bad(`sort must be one of ${Object.keys(SORT_COLUMNS).join(', ')}, got ${quote(sort)}`);
  if (order !== '' && order !== 'asc' && order !== 'desc') throw bad(`order must be asc or desc, got ${quote(params.get('order') ?? '')}`);
  return { sort: sort === '' ? 'id' : (sort as SortKey), order: order === 'asc' ? 'asc' : 'desc' };
}

export function parseQuery(params: URLSearchParams): ActivityQuery {
  return {
    ...parseFilter(params),
    ...parseSort(params),
    limit: integer(params, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT,
    page: integer(params, 'page', 1, Number.MAX_SAFE_INTEGER) ?? 1,
  };
}

/** `WHERE …` (or '') and its bound values. */
export function whereClause(f: ActivityFilter): { sql: string; params: Array<string | number> } {
  const terms: string[] = [];
  const params: Array<string | number> = [];
  if (f.models.length > 0) {
    terms.push(`model IN (${f.models.map(() => '?').join(', ')})`);
    params.push(...f.models);
  }
  const bound = (sql: string, value: number | undefined): void => {
    if (value === undefined) return;
    terms.push(sql);
    params.push(value);
  };
  bound('ts >= ?', f.start);
  bound('ts <= ?', f.end);
  bound('id >= ?', f.minId);
  bound('id <= ?', f.maxId);
  return { sql: terms.length === 0 ? '' : `WHERE ${terms.join(' AND ')}`, params };
}

/** `ORDER BY …`: the key's column, then id in the same direction (a stable order across pages). */
export function orderClause(sort: SortKey, order: 'asc' | 'desc'): string {
  const column = SORT_COLUMNS[sort];
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  return column === 'id' ? `ORDER BY id ${dir}` : `ORDER BY ${column} ${dir}, id ${dir}`;
}
