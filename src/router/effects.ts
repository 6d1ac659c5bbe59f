/**
 * The router's implementation of the scheduler's Effects. Every method runs
 * on the run loop and returns at once; slow work (stopping, starting) runs as
 * a detached task whose `finally` posts a `swapDone` event.
 */
import type { Logger } from 'pino';
import { ProxyError } from '../errors.ts';
import type { Upstream } from '../process/types.ts';
import type { Effects, ModelStatus, RequestId, UnloadReason } from '../scheduler/types.ts';
import type { RouterEvent } from './events.ts';
import type { Grants } from './grants.ts';

export interface RouterEffectsDeps {
  /** The current process of a model, if the model exists. */
  readonly upstream: (model: string) => Upstream | undefined;
  /** Every model's current process. */
  readonly upstreams: () => Iterable<[string, Upstream]>;
  readonly grants: Grants;
  readonly post: (ev: RouterEvent) => void;
  /** The old process of a model whose definition changed or was removed (config reload), if still around. */
  readonly retired: (model: string) => { readonly alive: boolean; readonly gone: Promise<void> } | undefined;
  /** A swap was started (on the run loop), before its task runs. */
  readonly onSwapStarted: (model: string, evict: readonly string[]) => void;
  readonly logger: Logger;
}

/** The scheduler's Effects, plus what the router itself needs to know. */
export interface RouterEffects extends Effects {
  /** Swaps whose task has not finished (including cancelled or forgotten ones). */
  activeSwaps(): number;
}

export function createRouterEffects(deps: RouterEffectsDeps): RouterEffects {
  const { grants, post, logger } = deps;
  const upstream = (model: string): Upstream => {
    const u = deps.upstream(model);
    if (u === undefined) throw new Error(`no process for model ${model}`);
    return u;
  };

  /** Active swaps by target; aborted when the target is unloaded, or nobody waits for it any more. */
  const swaps = new Map<string, AbortController>();

  /** Stop `evict` in parallel, then make `model` ready; always posts swapDone. */
  async function swap(model: string, evict: readonly string[], signal: AbortSignal): Promise<void> {
    let error: ProxyError | undefined;
    const started = performance.now();
    let loadFrom: number | undefined;
    const target = deps.upstream(model);
    try {
      // A model's old process (config reload) counts as that model: wait until it is gone too.
      // stop() signals at once; the target's port is checked while they exit (its start then takes the spare, process/spare-pool.ts).
      const stopped = Promise.all(evict.map((m) => Promise.all([deps.upstream(m)?.stop('evicted'), deps.retired(m)?.gone])));
      if (evict.length > 0) target?.prepareLaunch();
      await stopped;
      await deps.retired(model)?.gone; // never two processes for one model
      // Unloaded or unwanted while we were evicting: do not start it for nobody.
      // (Checked and started in one synchronous step; a later abort stops the start itself.)
      if (signal.aborted) throw signal.reason as ProxyError;
      loadFrom = performance.now();
      await upstream(model).ensureReady();
      logger.info({ model, evicted: evict, ms: Math.round(performance.now() - started) }, 'model ready');
    } catch (err) {
      error = err instanceof ProxyError
        ? err
        : new ProxyError('UPSTREAM_START_FAILED', `could not start ${model}: ${String(err)}`, { cause: err });
      if (signal.aborted) logger.info({ model, reason: error.message }, 'swap cancelled');
      else logger.warn({ model, code: error.code, reason: error.message }, 'swap failed');
    } finally {
      target?.discardLaunch(); // a no-op once the start took it
      swaps.delete(model);
      const end = performance.now();
      const timings = { stopMs: (loadFrom ?? end) - started, loadMs: loadFrom === undefined ? 0 : end - loadFrom, cancelled: signal.aborted };
      post({ type: 'swapDone', model, error, timings });
    }
  }

  return {
    modelStatus(model: string): ModelStatus {
      const s = upstream(model).status();
      return s === 'shutdown' ? 'stopped' : s;
    },

    runningModels(): readonly string[] {
      const out: string[] = [];
      for (const [id, u] of deps.upstreams()) {
        const s = u.status();
        if ((s !== 'stopped' && s !== 'shutdown') || deps.retired(id)?.alive === true) out.push(id);
      }
      return out.sort();
    },

    activeSwaps(): number {
      return swaps.size;
    },

    startSwap(model: string, evict: readonly string[]): void {
      deps.onSwapStarted(model, evict);
      const ac = new AbortController();
      swaps.set(model, ac);
      void swap(model, evict, ac.signal);
    },

    cancelSwap(model: string): void {
      const ac = swaps.get(model);
      if (ac === undefined) return;
      ac.abort(new ProxyError('CLIENT_CLOSED', `load of ${model} cancelled: nobody waits for it any more`));
      // Only a start under way is stopped; a model that was already ready (the swap
      // only evicted others) keeps running. Read and stop in one synchronous step.
      if (upstream(model).status() === 'starting') void upstream(model).stop('cancelled');
    },

    grantServe(id: RequestId): boolean {
      return grants.grant(id);
    },

    grantError(id: RequestId, err: ProxyError): void {
      grants.fail(id, err);
    },

    stopProcesses(models: readonly string[], reason: UnloadReason | 'shutdown'): void {
      for (const m of models) swaps.get(m)?.abort(new ProxyError('MODEL_UNLOADED', `model ${m} was unloaded before it started`));
      // Shutdown stops are done by Router.close() once in-flight requests have
      // drained (or the deadline passed), so in-flight responses can finish.
      if (reason === 'shutdown') return;
      for (const m of models) void upstream(m).stop(reason);
    },
  };
}
