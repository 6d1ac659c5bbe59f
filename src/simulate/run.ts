/**
 * One simulated run: a trace replayed through the real scheduler and swapper
 * (built by `createScheduler` from the config, with the same dependencies the
 * proxy gives it) on a virtual clock, with simulated processes.
 *
 * The loop takes one event at a time from the clock and makes at most one
 * scheduler call for it, like the router's run loop; what the scheduler's
 * Effects start is queued on the clock, never handled inside the call.
 *
 * Like the proxy's HTTP layer, a request names a model or an alias (resolved
 * here); a model that can never start (`startError`) fails at once
 * (UPSTREAM_START_FAILED); an unknown one is refused by the scheduler
 * (MODEL_NOT_FOUND, a 404 in the proxy). Models with a `ttl` are unloaded
 * when idle as the router unloads them (./sim-ttl.ts).
 */
import type { Config } from '../config/types.ts';
import { assertNever } from '../errors.ts';
import { SCHEDULER_TICK_MS } from '../router/router.ts';
import { createScheduler } from '../scheduler/create.ts';
import type { RequestId } from '../scheduler/types.ts';
import type { SimEvent } from './events.ts';
import { SimRecorder } from './recorder.ts';
import { SimEffects } from './sim-effects.ts';
import { SimProcesses } from './sim-processes.ts';
import { SimTtl } from './sim-ttl.ts';
import type { TraceRequest } from './trace.ts';
import { VirtualClock } from './virtual-clock.ts';

/** Events allowed per request before the run is declared stuck (a scheduler that loops). */
const EVENTS_PER_REQUEST = 100;

/** Replay `trace` under `config` (its scheduler, groups and models). Request ids are 1-based line order. */
export function simulateRun(config: Config, trace: readonly TraceRequest[]): SimRecorder {
  const clock = new VirtualClock<SimEvent>();
  const recorder = new SimRecorder();
  const processes = new SimProcesses(clock, (m) => config.models.get(m)!.simulate);
  const service = new Map<RequestId, number>();
  const modelOf = new Map<RequestId, string>();
  const ttl = new SimTtl({ clock, ttlMs: (m) => config.models.get(m)?.ttlMs ?? 0, load: (m) => scheduler.load(m) });
  const onGrant = (id: RequestId): void => {
    const model = modelOf.get(id)!;
    ttl.clear(model);
    ttl.touch(model);
  };
  const effects = new SimEffects({ clock, processes, recorder, serviceMs: (id) => service.get(id) ?? 0, onGrant });
  // The same dependencies the proxy passes (src/main.ts), minus the log line per swap.
  const scheduler = createScheduler(config, {
    effects,
    isKnown: (m) => config.models.has(m),
    concurrencyLimit: (m) => config.models.get(m)?.concurrencyLimit ?? 10,
    now: () => clock.now,
    loadCostMs: (m) => config.models.get(m)?.simulate.loadMs,
    tickMs: SCHEDULER_TICK_MS,
  });
  // Like the router, tick a scheduler that asks for it; only while requests are unfinished, so a run ends.
  let unfinished = trace.length;
  let tickDue = false;
  const armTick = (): void => {
    if (scheduler.onTick === undefined || tickDue || unfinished === 0) return;
    tickDue = true;
    clock.after(SCHEDULER_TICK_MS, { type: 'tick' });
  };

  trace.forEach((r, i) => {
    const id = i + 1;
    const model = config.aliases.get(r.model) ?? r.model;
    service.set(id, r.ms);
    modelOf.set(id, model);
    clock.at(r.t, { type: 'arrival', id, model });
  });

  const budget = 1000 + EVENTS_PER_REQUEST * trace.length;
  for (let n = 0, ev = clock.next(); ev !== undefined; n++, ev = clock.next()) {
    if (n > budget) throw new Error(`the simulation did not settle after ${budget} events (at ${clock.now} ms): a scheduler that never stops acting`);
    handle(ev);
    unfinished = trace.length - recorder.finished;
    armTick();
  }
  return recorder;

  function handle(ev: SimEvent): void {
    switch (ev.type) {
      case 'arrival': {
        recorder.arrived(ev.id, clock.now);
        if (config.models.get(ev.model)?.startError !== undefined) recorder.failed(ev.id, 'UPSTREAM_START_FAILED');
        else scheduler.onRequest({ id: ev.id, model: ev.model });
        return;
      }
      case 'evicted':
        effects.onEvicted(ev.model);
        return;
      case 'loaded':
        effects.onLoaded(ev.model, ev.token);
        return;
      case 'stopped':
        processes.stopped(ev.model, ev.token);
        return;
      case 'swapDone':
        scheduler.onSwapDone(ev.model, ev.error);
        if (ev.error === undefined) ttl.touch(ev.model);
        ttl.armIfIdle(ev.model);
        return;
      case 'serveDone': {
        const model = modelOf.get(ev.id)!;
        recorder.done(ev.id, clock.now);
        ttl.touch(model);
        scheduler.onServeDone(ev.id);
        ttl.armIfIdle(model);
        return;
      }
      case 'tick':
        tickDue = false;
        scheduler.onTick?.();
        return;
      case 'idleCheck':
        if (processes.status(ev.model) === 'ready' && ttl.expired(ev.model, ev.token)) scheduler.onUnload([ev.model], 'ttl');
        return;
      default:
        assertNever(ev);
    }
  }
}
