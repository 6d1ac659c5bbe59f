/**
 * `modelswap top`: a live table from `/api/events`, redrawn on every event.
 *
 * - On a terminal: the alternate screen, redrawn in place, and once a second
 *   as well so a load's elapsed time moves; the screen is restored on exit.
 * - Otherwise (a pipe, a test): every frame is printed after the previous
 *   one, each starting with its `modelswap top —` title line.
 * - `--json`: every event as one JSON line (`{"event":…,"data":…}`) instead.
 * - `--once` / `--frames n` stop after n frames (events with --json).
 *
 * Exit: 0 after Ctrl-C or the frames asked for; 1 when modelswap goes away.
 */
import type { FeedEvent, ModelSnapshot } from '../router/feed.ts';
import { follow, wentAway } from './follow.ts';
import { call, type Target } from './http.ts';
import { readSse } from './sse.ts';
import { renderFrame } from './top-render.ts';
import { TopState } from './top-state.ts';

export interface TopOptions {
  readonly json: boolean;
  readonly frames: number | undefined;
}

const FEED_TYPES = new Set(['model', 'queue', 'load', 'request']);

export async function top(target: Target, o: TopOptions): Promise<number> {
  const f = follow();
  const tty = process.stdout.isTTY === true && !o.json;
  const state = new TopState();
  let frames = 0;
  const draw = (): void => {
    const text = renderFrame(state, target.url, Date.now());
    process.stdout.write(tty ? `\x1b[H\x1b[2J${text}` : `${text}\n`);
    frames++;
  };
  const enough = (): boolean => o.frames !== undefined && frames >= o.frames;
  let ticker: NodeJS.Timeout | undefined;
  try {
    const res = await call(target, 'GET', '/api/events?logs=none', f.signal);
    if (tty) {
      process.stdout.write('\x1b[?1049h\x1b[?25l');
      ticker = setInterval(() => {
        draw();
        if (enough()) f.stop();
      }, 1000);
    }
    for await (const msg of readSse(res.body!)) {
      const data = JSON.parse(msg.data) as unknown;
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ event: msg.event, data })}\n`);
        frames++;
      } else if (msg.event === 'snapshot') {
        state.snapshot((data as { models: ModelSnapshot[] }).models, Date.now());
        draw();
      } else if (FEED_TYPES.has(msg.event)) {
        state.apply(data as FeedEvent, Date.now());
        draw();
      }
      if (enough()) break;
    }
  } catch (err) {
    // a TypeError ("terminated"): the body broke off, the server was killed or closed every connection
    if (!f.stopped() && !(err instanceof TypeError)) throw err;
  } finally {
    clearInterval(ticker);
    if (tty) process.stdout.write('\x1b[?25h\x1b[?1049l');
    f.dispose();
  }
  if (f.stopped() || enough()) {
    f.stop();
    return 0;
  }
  process.stderr.write(`modelswap: ${wentAway(target.url)}\n`);
  return 1;
}
