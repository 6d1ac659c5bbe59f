/**
 * `GET /api/events`: the router's event feed as Server-Sent Events.
 *
 * - First a `snapshot` event (every model's state, pid, counts and any load
 *   in progress), then every feed event as it happens, each as
 *   `event: <type>` + `data: <json>`. Log output comes as `log` events
 *   unless `?logs=none`; `?model=<id>` keeps only that model's events and
 *   log lines.
 * - A slow reader never slows the proxy: once more than `maxPendingBytes`
 *   wait in its socket buffer, events are dropped; when it catches up it gets
 *   one `dropped` event (how many) and a fresh `snapshot` to resync from.
 * - A comment line every 15 s keeps idle connections (and proxies in front)
 *   open.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogHub } from '../log/hub.ts';
import type { LogRing } from '../log/ring.ts';
import type { FeedEvent, ModelSnapshot } from '../router/feed.ts';
import type { Router } from '../router/router.ts';

const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export interface EventStreamOptions {
  /** Only this model's events and logs (a resolved id). */
  readonly model: string | undefined;
  readonly logs: boolean;
  readonly maxPendingBytes?: number;
}

/** The events a client sees besides the feed's own. */
type StreamEvent =
  | FeedEvent
  | { readonly type: 'log'; readonly at: number; readonly source: 'proxy' | 'upstream'; readonly model: string | undefined; readonly text: string };

export function streamEvents(req: IncomingMessage, res: ServerResponse, router: Router, hub: LogHub, o: EventStreamOptions): void {
  const limit = o.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  let seq = 0;
  let dropped = 0;
  const frame = (type: string, data: unknown): string => `id: ${++seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  const snapshot = (models: readonly ModelSnapshot[]): string =>
    frame('snapshot', { at: Date.now(), models: o.model === undefined ? models : models.filter((m) => m.model === o.model) });

  const send = (ev: StreamEvent): void => {
    if (o.model !== undefined && ev.model !== o.model) return;
    if (res.writableLength > limit) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      const count = dropped;
      dropped = 0;
      // Resync: what was dropped is summed up by a fresh snapshot.
      res.write(frame('dropped', { count }) + snapshot(router.snapshot()));
    }
    res.write(frame(ev.type, ev));
  };

  const sub = router.subscribe(send);
  res.write(snapshot(sub.snapshot));
  const unsubscribers = [sub.unsubscribe];
  if (o.logs) {
    const follow = (ring: LogRing, source: 'proxy' | 'upstream', model: string | undefined): void => {
      unsubscribers.push(ring.subscribe((text) => send({ type: 'log', at: Date.now(), source, model, text })));
    };
    if (o.model !== undefined) follow(hub.model(o.model), 'upstream', o.model);
    else {
      follow(hub.proxy, 'proxy', undefined);
      follow(hub.upstream, 'upstream', undefined);
    }
  }
  const heartbeat = setInterval(() => {
    if (res.writableLength <= limit) res.write(': ping\n\n');
  }, HEARTBEAT_MS).unref();
  res.once('close', () => {
    clearInterval(heartbeat);
    for (const u of unsubscribers) u();
  });
  req.once('error', () => res.destroy());
}
