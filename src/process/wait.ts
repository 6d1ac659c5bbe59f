/** Small await helpers for the process layer. */
import type { Child } from './spawn.ts';

/** How long to wait for a dead leader's last output to drain before quoting it. */
const DRAIN_MS = 200;

/** Wait briefly for a dead child's last output (stdout may drain after `exit`; a grandchild may hold it open). */
export async function drain(child: Child, ms = DRAIN_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([child.closed, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** `p`, or a rejection with `signal.reason` as soon as `signal` aborts (for this caller only; `p` goes on). */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
