/**
 * What the activity history keeps of a request besides its model: method,
 * the path without its query (which may hold a key), and the session id
 * from the first configured header the client sent (ui.activity.session_id).
 */
import type { IncomingMessage } from 'node:http';
import type { RequestInfo } from '../router/feed.ts';

/** Longest session id kept. */
const MAX_SESSION_ID = 200;

export function requestInfo(req: IncomingMessage, sessionHeaders: readonly string[]): RequestInfo {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const info = { method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q) };
  for (const name of sessionHeaders) {
    const value = req.headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== '') return { ...info, sessionId: first.slice(0, MAX_SESSION_ID) };
  }
  return info;
}
