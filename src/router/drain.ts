/** A graceful close's wait for the requests in flight: until none is left, its deadline passes, or `cut()` (destroy) ends it. */
export class Drain {
  #waiters: Array<() => void> = [];
  #cut = false;

  /** Resolves once `done()` or `cut()` is called or `deadlineMs` passes; at once when nothing is in flight, no time is given, or it was cut. */
  async wait(inFlight: boolean, deadlineMs: number): Promise<void> {
    if (!inFlight || deadlineMs <= 0 || this.#cut) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => this.#waiters.push(r)),
      new Promise<void>((r) => (timer = setTimeout(r, deadlineMs))),
    ]);
    clearTimeout(timer);
  }

  /** The last request in flight ended. */
  done(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Stop waiting now, and never wait again. */
  cut(): void {
    this.#cut = true;
    this.done();
  }
}
