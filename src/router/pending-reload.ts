/**
 * A config reload, from the moment it is asked for to the moment it is in
 * force. It waits until no swap is in progress (a swap's result must reach
 * the scheduler that started it); requests that arrive meanwhile are held.
 * Applying it switches the model table, replaces the scheduler (requests in
 * flight are adopted, waiting and held ones re-submitted in arrival order)
 * and re-arms the TTL timers under the new ttls. Used only on the router's
 * run loop: every method is called from its handler and returns at once.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.ts';
import type { ProxyError } from '../errors.ts';
import type { Scheduler, SchedRequest } from '../scheduler/types.ts';
import type { Grants } from './grants.ts';
import type { ModelTable } from './model-table.ts';
import type { ModelDiff } from './reload.ts';
import type { TtlClock } from './ttl.ts';

/** What a reload that is never applied (superseded, or shut down) resolves with. */
const NO_CHANGE: ModelDiff = { kept: [], changed: [], added: [], removed: [] };

export interface PendingReloadDeps {
  readonly models: ModelTable;
  readonly grants: Grants;
  readonly ttl: TtlClock;
  readonly log: Logger;
  /** The scheduler in force. */
  readonly scheduler: () => Scheduler;
  /** Build the scheduler for `config` and put it in force; called before any request reaches it. */
  readonly install: (config: Config) => Scheduler;
  /** A swap's task has not finished yet. */
  readonly swapping: () => boolean;
  /** The router is closing: no reload is applied any more. */
  readonly closing: () => boolean;
}

export class PendingReload {
  readonly #deps: PendingReloadDeps;
  #pending: { readonly config: Config; readonly done: (diff: ModelDiff) => void; readonly fail: (err: unknown) => void } | undefined;
  readonly #held: SchedRequest[] = [];

  constructor(deps: PendingReloadDeps) {
    this.#deps = deps;
  }

  /** A reload waits to be applied: new requests are to be held, not scheduled. */
  get waiting(): boolean {
    return this.#pending !== undefined;
  }

  /** Keep a request until the waiting reload is applied (it is then scheduled under the new config). */
  hold(r: SchedRequest): void {
    this.#held.push(r);
  }

  /**
   * A reload was asked for: it supersedes one still waiting (which resolves
   * with no change) and is applied as soon as it may be. While the router is
   * closing it resolves with no change at once. If applying it throws (a
   * bug), `fail` is called and the error goes on to the loop's bug path.
   */
  request(config: Config, done: (diff: ModelDiff) => void, fail: (err: unknown) => void): void {
    if (this.#deps.closing()) {
      done(NO_CHANGE); // shutting down: nothing to apply
      return;
    }
    this.#pending?.done(NO_CHANGE); // superseded
    this.#pending = { config, done, fail };
    this.applyIfReady();
  }

  /** Apply the waiting reload, if there is one, once no swap is in progress. */
  applyIfReady(): void {
    const pending = this.#pending;
    if (pending === undefined || this.#deps.swapping() || this.#deps.closing()) return;
    this.#pending = undefined;
    try {
      pending.done(this.#apply(pending.config));
    } catch (err) {
      pending.fail(err); // whoever asked is answered; the loop logs the bug
      throw err;
    }
  }

  #apply(config: Config): ModelDiff {
    const { models, grants, ttl, log } = this.#deps;
    const old = this.#deps.scheduler();
    const diff = models.apply(config, grants.waitedFor(), (m) => old.load(m).inFlight > 0);
    // A new scheduler: in-flight requests are adopted, waiting ones re-submitted in arrival order.
    const next = this.#deps.install(models.config);
    for (const r of old.inFlight()) next.adopt(r);
    for (const r of [...grants.waiting(), ...this.#held.splice(0)].sort((a, b) => a.id - b.id)) {
      if (grants.isWaiting(r.id)) next.onRequest(r);
    }
    ttl.reset(models.ids());
    log.level = config.logLevel;
    log.info({ ...diff }, 'config reloaded');
    return diff;
  }

  /** Shutting down: held requests fail with `err`, and a waiting reload resolves with no change. */
  shutdown(err: ProxyError): void {
    for (const h of this.#held.splice(0)) this.#deps.grants.fail(h.id, err);
    this.#pending?.done(NO_CHANGE);
    this.#pending = undefined;
  }
}
