/**
 * A virtual clock: a priority queue of timed events and the current time.
 * Time only moves when `next()` takes the earliest event; nothing here waits
 * or starts a timer, so a simulated hour takes as long as its events do.
 *
 * Events due at the same time come out in the order they were scheduled, so a
 * run is deterministic and an event an Effect schedules "now" is handled after
 * the event being handled (never re-entrantly).
 */
import assert from 'node:assert/strict';

interface Entry<E> {
  readonly at: number;
  readonly seq: number;
  readonly event: E;
}

export class VirtualClock<E> {
  #now = 0;
  #seq = 0;
  /** A binary min-heap on (at, seq). */
  readonly #heap: Entry<E>[] = [];

  /** Milliseconds since the start of the run. */
  get now(): number {
    return this.#now;
  }

  /** Events not handled yet. */
  get pending(): number {
    return this.#heap.length;
  }

  /** When the earliest event is due; undefined when none is left. */
  nextAt(): number | undefined {
    return this.#heap[0]?.at;
  }

  /** Schedule `event` at absolute time `at`; the past is refused (a bug in the caller). */
  at(at: number, event: E): void {
    assert.ok(Number.isFinite(at) && at >= this.#now, `event scheduled at ${at} ms, before now (${this.#now} ms)`);
    this.#heap.push({ at, seq: this.#seq++, event });
    this.#up(this.#heap.length - 1);
  }

  /** Schedule `event` `delayMs` from now (0: after the events already due now). */
  after(delayMs: number, event: E): void {
    this.at(this.#now + delayMs, event);
  }

  /** Take the earliest event and move the clock to its time; undefined when none is left. */
  next(): E | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.#down(0);
    }
    this.#now = top.at;
    return top.event;
  }

  #less(i: number, j: number): boolean {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    [heap[i], heap[j]] = [heap[j]!, heap[i]!];
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < n && this.#less(l, min)) min = l;
      if (r < n && this.#less(r, min)) min = r;
      if (min === i) return;
      this.#swap(i, min);
      i = min;
    }
  }
}
