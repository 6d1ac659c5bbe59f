/**
 * A request's life once its model is known: wait for a grant (withdrawn if
 * the client leaves), forward, release with what happened.
 *
 * A model's server can crash between two requests: until Node reports the
 * exit (a few ms), the model still looks ready and the next request is sent
 * to a dead port. A connection refused or reset before any byte of the answer
 * is therefore treated as a possible crash: the router confirms the exit (or
 * waits for it, bounded), and the request goes back through the router, which
 * restarts the model and serves it. Only a server that is really up and
 * refusing gets the 502, with the model's last log lines.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CaptureStore } from '../activity/captures.ts';
import { requestInfo } from '../activity/request-info.ts';
import type { ModelTimeouts } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import type { LogHub } from '../log/hub.ts';
import type { Router } from '../router/router.ts';
import { forward } from './forward.ts';
import { LoadingStream } from './loading.ts';
import type { InFlightResponses } from './routes-info.ts';
import { sendError, toOpenAIError } from './openai-error.ts';

/** How long a server that refused a connection gets to be seen exiting. */
const CONFIRM_DOWN_MS = 1000;
/** Retries through the router after a confirmed crash (each may restart the model). */
const CRASH_RETRIES = 2;

export interface ServeDeps {
  readonly router: Router;
  readonly logs: LogHub;
  /** The model's upstream timeouts (connect, response headers), if any. */
  readonly timeouts: (model: string) => ModelTimeouts | undefined;
  /** Requests are recorded (config `recording`): when not, answers' token counts and requests' info are not read. */
  readonly recording: boolean;
  /** Headers whose value is the request's session id, for the activity history. */
  readonly sessionHeaders: readonly string[];
  /** Where request/response captures go; none when captures are off. */
  readonly captures?: CaptureStore;
  /** Requests being served, for POST /api/inflight/<id>/cancel. */
  readonly inflight?: InFlightResponses;
}

export interface ServeOptions {
  /**
   * A streaming chat request of a model with sendLoadingState: if it has to
   * wait for a load, stream the progress first (./loading.ts). `asked` is the
   * model name the client sent.
   */
  readonly loading?: { readonly asked: string };
  /** Record it in the activity history (default true). */
  readonly record?: boolean;
}

export async function serve(deps: ServeDeps, req: IncomingMessage, res: ServerResponse, model: string, path: string, body: Buffer, opts: ServeOptions = {}): Promise<void> {
  // Gone while its body was parsed: 'close' has fired already, so the signal below would never abort.
  if (res.destroyed) throw new ProxyError('CLIENT_CLOSED', 'client closed the request before it was queued');
  const ac = new AbortController();
  // 'close' also follows every answer sent in full: aborting then would only build an unused DOMException.
  const onClose = (): void => {
    if (!res.writableFinished) ac.abort();
  };
  res.once('close', onClose);
  let loading = opts.loading !== undefined && deps.router.status(model) !== 'ready'
    ? LoadingStream.start(res, deps.router, model, opts.loading.asked)
    : undefined;
  const request = opts.record === false || !deps.recording ? undefined : requestInfo(req, deps.sessionHeaders);
  try {
    for (let retry = 0; ; retry++) {
      let lease;
      try {
        lease = await deps.router.acquire(model, ac.signal, { request });
      } catch (err) {
        // Refused or failed while the loading stream is out: the error goes into the stream.
        if (loading === undefined || (err instanceof ProxyError && err.code === 'CLIENT_CLOSED')) throw err;
        loading.fail(err);
        loading = undefined;
        return;
      }
      loading?.done(lease.waitedMs);
      loading = undefined;
      deps.inflight?.add(lease.id, res);
      const capture = request === undefined ? undefined : deps.captures?.begin(request.path, req.rawHeaders, body);
      let result;
      try {
        result = await forward({ req, res, upstream: lease.upstream, path, body, model, timeouts: deps.timeouts(model), usage: deps.recording && req.method === 'POST', onAnswer: capture?.onAnswer });
      } catch (err) {
        lease.release({ error: String(err) });
        throw err;
      }
      const refused = result.unreachable;
      if (refused === undefined) {
        if (capture !== undefined) deps.captures!.hold(lease.id, capture.finish());
        lease.release({ status: result.status, ttfbMs: result.ttfbMs, clientAborted: result.clientAborted, usage: result.usage, contentType: result.contentType });
        return;
      }
      // Keep the lease while we look: the model cannot be evicted meanwhile.
      const down = await deps.router.confirmDown(lease, CONFIRM_DOWN_MS);
      lease.release({ error: refused.message });
      if (down && retry < CRASH_RETRIES && !ac.signal.aborted) continue;
      const tail = deps.logs.model(model).lastLines(5);
      const why = down ? `its server went down ${retry + 1} times in a row` : 'its server is running but refuses connections';
      const err = new ProxyError('UPSTREAM_ERROR', `${refused.message} (${why})${tail.length > 0 ? `; last log lines:\n${tail.join('\n')}` : ''}`, { cause: refused });
      if (res.headersSent) res.end(`data: ${JSON.stringify({ error: toOpenAIError(err).body.error })}\n\n`);
      else sendError(res, err);
      return;
    }
  } finally {
    res.off('close', onClose);
    loading?.fail(new ProxyError('INTERNAL', 'the request ended before its answer'));
  }
}
