/**
 * `modelswap logs [-f] [<id>]`: a log history (`GET /logs`, the lines
 * modelswap writes to its stdout; or `GET /logs/<id>` for `proxy`,
 * `upstream` or one model's output), and with `-f` the same followed live
 * (`GET /logs/stream[/<id>]`, history first, then new lines, in one request
 * so nothing falls between). `/api/events` carries log lines too, but no
 * history, so it is not used here.
 *
 * The proxy's records are JSON lines on the wire; they are printed as
 * readable lines when stdout is a terminal or with `--log-format pretty`,
 * as served with `--log-format json` (or `--json`). Exit (with -f): 0 after
 * Ctrl-C, 1 when modelswap goes away.
 */
import { PrettyLineBuffer } from '../log/pretty.ts';
import { follow, wentAway } from './follow.ts';
import { call, segment, type Target } from './http.ts';

export interface LogsOptions {
  readonly id: string | undefined;
  readonly follow: boolean;
  readonly format: 'auto' | 'pretty' | 'json';
}

export async function logs(target: Target, o: LogsOptions): Promise<number> {
  const tty = process.stdout.isTTY === true;
  const pretty = o.format === 'pretty' || (o.format === 'auto' && tty);
  const lines = new PrettyLineBuffer({ color: pretty && tty && process.stdout.hasColors() });
  const out = (text: string): void => {
    if (text !== '') process.stdout.write(pretty ? lines.push(text) : text);
  };
  const id = o.id === undefined ? '' : `/${segment(o.id)}`;
  if (!o.follow) {
    const res = await call(target, 'GET', `/logs${id}`);
    out(await res.text());
    if (pretty) process.stdout.write(lines.end());
    return 0;
  }
  const f = follow();
  try {
    const res = await call(target, 'GET', `/logs/stream${id}`, f.signal);
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) out(decoder.decode(chunk, { stream: true }));
  } catch (err) {
    if (!f.stopped() && !(err instanceof TypeError)) throw err;
  } finally {
    f.dispose();
    if (pretty) process.stdout.write(lines.end());
  }
  if (f.stopped()) return 0;
  process.stderr.write(`modelswap: ${wentAway(target.url)}\n`);
  return 1;
}
