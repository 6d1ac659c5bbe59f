/**
 * What the router does when a run-loop handler throws: a broken invariant (a
 * bug). The loop itself goes on with the next event; here the bug is logged,
 * and the request that triggered it is never left hanging: it fails with a 500.
 */
import type { Logger } from 'pino';
import { ProxyError } from '../errors.ts';
import type { RouterEvent } from './events.ts';
import type { Grants } from './grants.ts';

/** Log the bug; when `ev` was a request, fail it with INTERNAL. */
export function onHandlerError(err: unknown, ev: RouterEvent, log: Logger, grants: Grants): void {
  log.error({ err, event: ev.type }, 'run loop handler failed (bug)');
  if (ev.type !== 'request') return;
  grants.fail(ev.id, new ProxyError('INTERNAL', `internal error while scheduling the request: ${String(err)}`, { cause: err }));
}
