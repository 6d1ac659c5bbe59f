/**
 * `sendLoadingState`: a streaming chat request that has to wait for its model
 * to load gets the load's progress at once, as `reasoning_content` deltas of
 * an ordinary chat-completion stream (so any OpenAI client shows it as
 * thinking), then the model's real answer in the same stream.
 *
 * The progress comes from the router's event feed, like every other view:
 * what loads and what it evicts, each evicted server as it stops, elapsed
 * time about every second against the estimate from earlier loads of the
 * model, and the moment it is ready. Once the 200 and the first deltas are
 * out, the upstream's status cannot be sent any more: an error after that is
 * written into the stream as an `error` event (as llama-server does for a
 * failure mid-stream), and the stream ends without `[DONE]`.
 */
import type { ServerResponse } from 'node:http';
import type { FeedEvent } from '../router/feed.ts';
import type { Router } from '../router/router.ts';
import { toOpenAIError } from './openai-error.ts';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export class LoadingStream {
  readonly #res: ServerResponse;
  readonly #model: string;
  /** The name the client asked for, echoed in each chunk. */
  readonly #asked: string;
  readonly #id = `modelswap-loading-${Date.now().toString(36)}`;
  readonly #created = Math.floor(Date.now() / 1000);
  #unsubscribe: (() => void) | undefined;
  #first = true;

  private constructor(res: ServerResponse, model: string, asked: string) {
    this.#res = res;
    this.#model = model;
    this.#asked = asked;
  }

  /** Start the stream (200, SSE headers, the first delta) and follow the model's load. */
  static start(res: ServerResponse, router: Router, model: string, asked: string): LoadingStream {
    const s = new LoadingStream(res, model, asked);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    const sub = router.subscribe((ev) => s.#on(ev));
    s.#unsubscribe = sub.unsubscribe;
    const now = sub.snapshot.find((m) => m.model === model);
    if (now?.load !== undefined) {
      s.#say(`modelswap: ${model} is loading${evicting(now.load.evicting)} (${seconds(now.load.elapsedMs)} so far${estimate(now.load.estimateMs)})\n`);
    } else {
      s.#say(`modelswap: waiting for ${model} (${now?.state ?? 'stopped'}, ${now?.waiting ?? 0} waiting, ${now?.inFlight ?? 0} in flight)\n`);
    }
    return s;
  }

  /** The grant came: say so and stop following (the answer follows in the same stream). */
  done(waitedMs: number): void {
    this.#say(`modelswap: ${this.#model} ready after ${seconds(waitedMs)}\n\n`);
    this.#stop();
  }

  /** The request failed before its answer: the error as a stream event, then the end. */
  fail(err: unknown): void {
    this.#stop();
    if (this.#res.destroyed || this.#res.writableEnded) return;
    this.#res.end(`data: ${JSON.stringify({ error: toOpenAIError(err).body.error })}\n\n`);
  }

  #stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #on(ev: FeedEvent): void {
    if (ev.type === 'model' && ev.state === 'stopping' && ev.evictedBy === this.#model) {
      this.#say(`modelswap: stopping ${ev.model} to make room\n`);
      return;
    }
    if (ev.model !== this.#model) return;
    if (ev.type === 'load') {
      if (ev.phase === 'started') this.#say(`modelswap: loading ${this.#model}${evicting(ev.evicting)}${estimate(ev.estimateMs)}\n`);
      else if (ev.phase === 'progress') this.#say(`… ${seconds(ev.elapsedMs)}${ev.estimateMs !== undefined ? ` of ~${seconds(ev.estimateMs)}` : ''}\n`);
      else if (ev.phase === 'failed') this.#say(`modelswap: loading ${this.#model} failed: ${ev.error ?? 'unknown error'}\n`);
    } else if (ev.type === 'queue' && ev.waiting > 1) {
      this.#say(`modelswap: ${ev.waiting} requests waiting for ${this.#model}\n`);
    }
  }

  #say(text: string): void {
    if (this.#res.destroyed || this.#res.writableEnded) return;
    const delta = this.#first ? { role: 'assistant', reasoning_content: text } : { reasoning_content: text };
    this.#first = false;
    const chunk = { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#asked, choices: [{ index: 0, delta, finish_reason: null }] };
    this.#res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }
}

function evicting(models: readonly string[]): string {
  return models.length === 0 ? '' : `, stopping ${models.join(', ')} first`;
}

function estimate(ms: number | undefined): string {
  return ms === undefined ? '' : `, usually ready in ~${seconds(ms)}`;
}
