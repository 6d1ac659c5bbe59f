/**
 * Reads a ready server's output in batches instead of one event-loop wake-up
 * per write. llama-server prints ~8 log lines per request, each a write of
 * its own; read as they come, each costs the proxy a wake-up, a decode and a
 * trip through the log rings, on the same cores the server needs.
 *
 * Once batching is on, every read that brought little is followed by a
 * pause of `delayMs` during which the pipe is not read at all: the server's
 * writes collect in the kernel's pipe buffer and the next read takes them in
 * one go. Node's stream API cannot do this: `pause()` only stops the flow of
 * 'data' events, and the socket keeps reading (one wake-up per write) until
 * 16 KiB are buffered. So the pipe's own handle is told to stop and start
 * reading (`readStop`/`readStart`, what net.Socket itself calls for
 * backpressure); where the handle has no such methods, nothing is paced.
 *
 * A pipe holds 64 KiB: a read that brought `bigChunkBytes` or more means the
 * server is writing fast, so reading goes on at once, and a pause never lasts
 * longer than `delayMs`; a server writes at most one pipe-full in a pause
 * before it would have to wait for us. `batch(false)` (a start, a stop, an
 * exit) reads again at once, so health-check wake-ups during a start and the
 * last lines of a dying server are never held back.
 */
import type { Readable } from 'node:stream';

/** Pause between reads once batching is on. */
export const PACE_DELAY_MS = 20;
/** A read at least this large ends no pause: the server is writing fast. */
export const BIG_CHUNK_BYTES = 16 * 1024;

interface ReadControl {
  readStop(): number;
  readStart(): number;
}

export class ReadPacer {
  readonly #stream: Readable;
  readonly #handle: ReadControl | undefined;
  readonly #delayMs: number;
  readonly #bigChunk: number;
  #on = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(stream: Readable, delayMs = PACE_DELAY_MS, bigChunkBytes = BIG_CHUNK_BYTES) {
    this.#stream = stream;
    this.#delayMs = delayMs;
    this.#bigChunk = bigChunkBytes;
    const handle = (stream as { _handle?: Partial<ReadControl> | null })._handle;
    this.#handle = typeof handle?.readStop === 'function' && typeof handle.readStart === 'function' ? (handle as ReadControl) : undefined;
    stream.once('close', () => this.#clear());
  }

  /** Whether this stream can be paced at all. */
  get supported(): boolean {
    return this.#handle !== undefined;
  }

  /** Turn batching on or off; off reads again at once. */
  batch(on: boolean): void {
    this.#on = on;
    if (!on) this.resume();
  }

  /** After each read of `bytes`: pause reading for a while unless it brought a lot. */
  afterRead(bytes: number): void {
    if (!this.#on || this.#stopped || this.#handle === undefined || bytes >= this.#bigChunk || this.#stream.destroyed) return;
    this.#handle.readStop();
    this.#stopped = true;
    this.#timer = setTimeout(() => this.resume(), this.#delayMs);
  }

  /** Read again now. */
  resume(): void {
    this.#clear();
    if (!this.#stopped) return;
    this.#stopped = false;
    // The handle is the stream's own while the stream lives; after a close it is gone.
    if (!this.#stream.destroyed && (this.#stream as { _handle?: unknown })._handle === this.#handle) this.#handle!.readStart();
  }

  #clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
