/**
 * The router's two periodic timers. Each only posts an event to the run loop;
 * neither runs while it has nothing to do, so an idle proxy never wakes:
 * - the load tick (about every second while a load is under way), for the
 *   feed's load progress;
 * - the scheduler tick (every SCHEDULER_TICK_MS), only while the scheduler
 *   has an `onTick` (time-based decisions).
 */

/** How often a scheduler that asks for ticks (`onTick`) gets one. */
export const SCHEDULER_TICK_MS = 50;
const LOAD_TICK_MS = 1000;

export class Ticks {
  readonly #post: (type: 'loadTick' | 'schedulerTick') => void;
  #load: NodeJS.Timeout | undefined;
  #scheduler: NodeJS.Timeout | undefined;

  constructor(post: (type: 'loadTick' | 'schedulerTick') => void) {
    this.#post = post;
  }

  /** A load started: tick until `loadsLeft` says none is left. */
  loadStarted(): void {
    this.#load ??= setInterval(() => this.#post('loadTick'), LOAD_TICK_MS).unref();
  }

  /** After a load tick was handled: stop when no load is under way any more. */
  loadTicked(loadsLeft: boolean): void {
    if (loadsLeft) return;
    clearInterval(this.#load);
    this.#load = undefined;
  }

  /** Tick the scheduler while `wanted`. */
  scheduler(wanted: boolean): void {
    if (wanted && this.#scheduler === undefined) {
      this.#scheduler = setInterval(() => this.#post('schedulerTick'), SCHEDULER_TICK_MS).unref();
    } else if (!wanted && this.#scheduler !== undefined) {
      clearInterval(this.#scheduler);
      this.#scheduler = undefined;
    }
  }

  stop(): void {
    this.loadTicked(false);
    this.scheduler(false);
  }
}
