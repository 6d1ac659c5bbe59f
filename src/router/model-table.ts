/**
 * Which process serves which model, across config reloads. Owned by the
 * router; every mutation happens on its run loop (a retired process that has
 * stopped is forgotten by `retiredStopped`, which the router calls from the
 * event that the stop posts).
 *
 * - current: the process of every model that exists now.
 * - retired: the old process of a model whose definition changed or was
 *   removed by a reload. It stops once no request of that model is in flight
 *   (`stopRetiredIfIdle`); until it is gone, swaps wait for it, so two
 *   processes never serve one model at once.
 * - removed-but-waited-for: a model removed by a reload while requests were
 *   waiting for it keeps its old definition until those are done (`sweep`).
 */
import type { Logger } from 'pino';
import type { Config, ModelConfig } from '../config/types.ts';
import type { Upstream } from '../process/types.ts';
import type { ModelLoad } from '../scheduler/types.ts';
import { diffModels, type ModelDiff } from './reload.ts';

interface Retired {
  readonly upstream: Upstream;
  /** Resolves once it has stopped. */
  readonly gone: Promise<void>;
  readonly markGone: () => void;
  stopping: boolean;
}

const byId = ([a]: [string, ModelConfig], [b]: [string, ModelConfig]): number => (a < b ? -1 : a > b ? 1 : 0);

export class ModelTable {
  readonly #upstreams = new Map<string, Upstream>();
  readonly #create: (model: ModelConfig) => Upstream;
  readonly #onRetiredStopped: (model: string, upstream: Upstream) => void;
  readonly #log: Logger;
  /** Several per model when reloads follow each other while requests are in flight. */
  readonly #retired = new Map<string, Retired[]>();
  readonly #removed = new Set<string>();
  #config: Config;

  /**
   * `onRetiredStopped` is called (off the run loop) when a retired process has
   * stopped; the router posts it as an event and calls `retiredStopped` there.
   */
  constructor(config: Config, create: (model: ModelConfig) => Upstream, onRetiredStopped: (model: string, upstream: Upstream) => void, log: Logger) {
    this.#config = config;
    this.#create = create;
    this.#onRetiredStopped = onRetiredStopped;
    this.#log = log;
    for (const m of config.models.values()) this.#upstreams.set(m.id, create(m));
  }

  /** The current process of `model`, if the model exists. */
  upstream(model: string): Upstream | undefined {
    return this.#upstreams.get(model);
  }

  has(model: string): boolean {
    return this.#upstreams.has(model);
  }

  /** Ids of every model that exists now. */
  ids(): string[] {
    return [...this.#upstreams.keys()];
  }

  /** The same, without building an array (read after every event of the run loop). */
  idsView(): IterableIterator<string> {
    return this.#upstreams.keys();
  }

  /** Every model's current process. */
  entries(): IterableIterator<[string, Upstream]> {
    return this.#upstreams.entries();
  }

  /** The config in force, plus removed models that still have requests waiting. */
  get config(): Config {
    return this.#config;
  }

  model(id: string): ModelConfig | undefined {
    return this.#config.models.get(id);
  }

  /** The old process of `model`, while it is still around. */
  retired(model: string): { readonly alive: boolean; readonly gone: Promise<void> } | undefined {
    const list = this.#retired.get(model);
    if (list === undefined) return undefined;
    return {
      alive: list.some((r) => r.upstream.status() !== 'stopped'),
      gone: Promise.all(list.map((r) => r.gone)).then(() => undefined),
    };
  }

  /** Every process, current and retired (for shutdown). */
  all(): Upstream[] {
    return [...this.#upstreams.values(), ...[...this.#retired.values()].flat().map((r) => r.upstream)];
  }

  /**
   * Switch to `next`: unchanged models keep their process, changed and added
   * ones get a new one, changed and removed ones are retired (`busy(model)`
   * says whether a request of it is in flight), except removed models in
   * `waitedFor`, which stay until `sweep` finds them idle.
   */
  apply(next: Config, waitedFor: ReadonlySet<string>, busy: (model: string) => boolean): ModelDiff {
    const diff = diffModels(this.#config.models, next.models);
    for (const id of diff.changed) {
      this.#retire(id, busy(id));
      this.#upstreams.set(id, this.#create(next.models.get(id)!));
    }
    for (const id of diff.added) this.#upstreams.set(id, this.#create(next.models.get(id)!));
    const models = new Map(next.models);
    for (const id of diff.removed) {
      if (waitedFor.has(id)) {
        this.#removed.add(id);
        models.set(id, this.#config.models.get(id)!);
      } else {
        this.#removed.delete(id);
        this.#retire(id, busy(id));
        this.#upstreams.delete(id);
      }
    }
    this.#config = { ...next, models: new Map([...models].sort(byId)) };
    return diff;
  }

  /**
   * A request of `model` finished: if it was the last on a retired process,
   * stop that process. `busy` is asked only when there is one (it may scan
   * every request in flight, and this runs for each finished request).
   */
  stopRetiredIfIdle(model: string, busy: () => boolean): void {
    const retired = this.#retired.get(model);
    if (retired === undefined || busy()) return;
    for (const r of retired) {
      if (r.stopping) continue;
      r.stopping = true;
      this.#log.info({ model }, 'stopping the old process of a reloaded model');
      void r.upstream.stop('reloaded').then(() => this.#onRetiredStopped(model, r.upstream));
    }
  }

  /** A retired process of `model` has stopped (on the run loop): forget it and wake the swaps waiting for it. */
  retiredStopped(model: string, upstream: Upstream): void {
    const list = this.#retired.get(model) ?? [];
    const r = list.find((x) => x.upstream === upstream);
    if (r === undefined) return;
    const rest = list.filter((x) => x !== r);
    if (rest.length > 0) this.#retired.set(model, rest);
    else this.#retired.delete(model);
    r.markGone();
  }

  /** Removed models with nothing waiting or in flight any more are retired and forgotten. */
  sweep(load: (model: string) => ModelLoad): void {
    for (const id of this.#removed) {
      const l = load(id);
      if (l.inFlight > 0 || l.waiting > 0) continue;
      this.#removed.delete(id);
      this.#retire(id, false);
      this.#upstreams.delete(id);
      const models = new Map(this.#config.models);
      models.delete(id);
      this.#config = { ...this.#config, models };
    }
  }

  #retire(model: string, busy: boolean): void {
    const upstream = this.#upstreams.get(model);
    if (upstream === undefined) return;
    let markGone = (): void => {};
    const gone = new Promise<void>((r) => (markGone = r));
    this.#retired.set(model, [...(this.#retired.get(model) ?? []), { upstream, gone, markGone, stopping: false }]);
    this.stopRetiredIfIdle(model, () => busy);
  }
}
