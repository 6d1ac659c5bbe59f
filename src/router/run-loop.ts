/**
 * The single run loop. Every event is handled here, one at a time, to
 * completion. An event posted while the loop is draining (by a handler, or by
 * an Effect it calls) is queued and handled after the current one, never
 * re-entrantly — like undici's `kResuming` guard.
 */
export class RunLoop<E> {
  readonly #handle: (event: E) => void;
  readonly #onError: (err: unknown, event: E) => void;
  readonly #queue: E[] = [];
  #draining = false;

  constructor(handle: (event: E) => void, onError: (err: unknown, event: E) => void) {
    this.#handle = handle;
    this.#onError = onError;
  }

  /** Queue an event; if the loop is idle, drain now (synchronously). */
  post(event: E): void {
    this.#queue.push(event);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
        try {
          this.#handle(next);
        } catch (err) {
          this.#onError(err, next);
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}
