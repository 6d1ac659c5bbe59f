/**
 * The activity history's routes, in llama-swap's shapes:
 * - `GET /api/metrics/activity`: one page of requests, filtered and sorted;
 * - `GET /api/metrics/activity/export?format=csv|json`: every matching row
 *   (same filters and sort, no paging), as a download;
 * - `GET /api/metrics/stats?model=`: totals and speed histograms;
 * - `GET /api/captures/<id>`: one request's capture, bodies in base64.
 * Bad parameters are 400 with a message naming them.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Activity } from '../activity/activity.ts';
import { parseFilter, parseQuery, parseSort } from '../activity/query.ts';
import { ProxyError } from '../errors.ts';
import { sendJson } from './openai-error.ts';
import { quote } from './quote.ts';

/** Answers `path` if it is one of the activity routes (GET or HEAD); false otherwise. */
export async function activityRoute(activity: Activity, res: ServerResponse, path: string, params: URLSearchParams): Promise<boolean> {
  if (path === '/api/metrics/activity') {
    sendJson(res, 200, activity.page(parseQuery(params)));
    return true;
  }
  if (path === '/api/metrics/activity/export') {
    await exportActivity(activity, res, params);
    return true;
  }
  if (path === '/api/metrics/stats') {
    const model = params.get('model') ?? '';
    sendJson(res, 200, activity.stats(model === '' ? undefined : model));
    return true;
  }
  if (path.startsWith('/api/captures/')) {
    const text = path.slice('/api/captures/'.length);
    const id = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(id)) throw new ProxyError('BAD_REQUEST', `capture id must be a positive integer, got ${quote(text)}`);
    const capture = activity.capture(id);
    if (capture === undefined) {
      const why = activity.captures === undefined ? 'captures are off (set captureBuffer to a size in MB)' : 'it was never captured or has been dropped for newer ones';
      throw new ProxyError('NOT_FOUND', `no capture for request ${id}: ${why}`);
    }
    sendJson(res, 200, capture);
    return true;
  }
  return false;
}

async function exportActivity(activity: Activity, res: ServerResponse, params: URLSearchParams): Promise<void> {
  const format = params.get('format') ?? 'json';
  if (format !== 'csv' && format !== 'json') throw new ProxyError('BAD_REQUEST', `format must be csv or json, got ${quote(format)}`);
  const filter = parseFilter(params);
  const { sort, order } = parseSort(params);
  const chunks = activity.export(filter, sort, order, format);
  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
    'content-disposition': `attachment; filename="modelswap-activity.${format}"`,
  });
  for (const chunk of chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  res.end();
}
