/**
 * `/logs` (history as text) and `/logs/stream[/<id>]` (history, then live, as
 * chunked text). A reader that falls behind loses chunks (with a marker)
 * instead of holding memory or slowing any writer (llama-swap #875).
 */
import type { ServerResponse } from 'node:http';
import type { Config } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import type { LogHub } from '../log/hub.ts';
import type { LogRing } from '../log/ring.ts';
import { quote } from './quote.ts';

const MAX_PENDING_BYTES = 1024 * 1024;

export function logRing(hub: LogHub, config: Config, id: string): LogRing {
  if (id === '') return hub.combined;
  if (id === 'proxy') return hub.proxy;
  if (id === 'upstream') return hub.upstream;
  const model = config.models.has(id) ? id : config.aliases.get(id);
  if (model === undefined) {
    throw new ProxyError('BAD_REQUEST', `unknown log id ${quote(id)}: use proxy, upstream, or a model id`);
  }
  return hub.model(model);
}

export function sendLogHistory(res: ServerResponse, ring: LogRing): void {
  const text = ring.history();
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function streamLog(res: ServerResponse, ring: LogRing, withHistory: boolean): void {
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff',
  });
  if (withHistory) res.write(ring.history());
  else res.flushHeaders();
  let dropped = 0;
  const unsubscribe = ring.subscribe((chunk) => {
    if (res.writableLength > MAX_PENDING_BYTES) {
      dropped += chunk.length;
      return;
    }
    if (dropped > 0) {
      res.write(`\n--- ${dropped} bytes dropped (slow reader) ---\n`);
      dropped = 0;
    }
    res.write(chunk);
  });
  res.once('close', unsubscribe);
}
