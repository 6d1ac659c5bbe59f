/**
 * The router's teardown, written once: open → closing → closed. close() is
 * graceful: the router begins it (its timers stop and its run loop is told to
 * shut down, which refuses new requests and fails waiting ones), requests in
 * flight get up to a deadline, then every process stops. destroy() is close()
 * with no time, and also cuts short a close() already waiting. A second call
 * of either joins the first one's promise. The state kept here is only its
 * own: whether closing began, and the wait for requests in flight.
 */
import type { Upstream } from '../process/types.ts';
import { Drain } from './drain.ts';

export interface TeardownDeps {
  /** Called once, by the first close() or destroy(): stop the timers and post the shutdown event. */
  readonly begin: () => void;
  /** Requests are in flight. */
  readonly busy: () => boolean;
  /** Every process, current and retired. */
  readonly processes: () => readonly Upstream[];
}

export class Teardown {
  readonly #deps: TeardownDeps;
  readonly #drain = new Drain();
  #closing: Promise<void> | undefined;

  constructor(deps: TeardownDeps) {
    this.#deps = deps;
  }

  /** close() or destroy() was called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  close(deadlineMs: number): Promise<void> {
    this.#closing ??= this.#close(deadlineMs);
    return this.#closing;
  }

  destroy(): Promise<void> {
    this.#drain.cut();
    return this.close(0);
  }

  /** On the run loop, after a request in flight ended: once none is left, a close waiting for them goes on. */
  requestEnded(): void {
    if (this.#closing !== undefined && !this.#deps.busy()) this.#drain.done();
  }

  async #close(deadlineMs: number): Promise<void> {
    this.#deps.begin();
    await this.#drain.wait(this.#deps.busy(), deadlineMs);
    await Promise.all(this.#deps.processes().map((u) => u.shutdown()));
  }
}
