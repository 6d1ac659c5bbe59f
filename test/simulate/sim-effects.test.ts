/**
 * The simulated Effects and processes on their own, driven event by event
 * (no scheduler): what a swap, a cancel and an unload do, and when.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SimEvent } from '../../src/simulate/events.ts';
import { SimRecorder } from '../../src/simulate/recorder.ts';
import { SimEffects } from '../../src/simulate/sim-effects.ts';
import { SimProcesses } from '../../src/simulate/sim-processes.ts';
import { VirtualClock } from '../../src/simulate/virtual-clock.ts';

const TIMING = { loadMs: 1000, stopMs: 100 };

function setup() {
  const clock = new VirtualClock<SimEvent>();
  const processes = new SimProcesses(clock, () => TIMING);
  const recorder = new SimRecorder();
  const effects = new SimEffects({ clock, processes, recorder, serviceMs: () => 50 });
  /** What would reach the scheduler, with its time. */
  const toScheduler: string[] = [];
  /** Handle events up to and including time `until`, as the run loop does; the clock ends at `until`. */
  const runUntil = (until: number): void => {
    clock.at(until, { type: 'arrival', id: -1, model: 'tick' }); // moves the clock to `until`
    for (let at = clock.nextAt(); at !== undefined && at <= until; at = clock.nextAt()) {
      const ev = clock.next()!;
      switch (ev.type) {
        case 'evicted': effects.onEvicted(ev.model); break;
        case 'loaded': effects.onLoaded(ev.model, ev.token); break;
        case 'stopped': processes.stopped(ev.model, ev.token); break;
        case 'swapDone': toScheduler.push(`${clock.now} swapDone ${ev.model}${ev.error === undefined ? '' : ` ${ev.error.code}`}`); break;
        case 'serveDone': toScheduler.push(`${clock.now} serveDone ${ev.id}`); break;
        case 'idleCheck': toScheduler.push(`${clock.now} idleCheck ${ev.model}`); break;
        case 'arrival': if (ev.id >= 0) toScheduler.push(`${clock.now} arrival ${ev.id}`); break;
        case 'tick': toScheduler.push(`${clock.now} tick`); break;
      }
    }
  };
  /** Load `model` from cold and run until it is ready. */
  const loaded = (model: string): void => {
    effects.startSwap(model, []);
    runUntil(clock.now + TIMING.loadMs);
    toScheduler.length = 0;
  };
  return { clock, processes, recorder, effects, toScheduler, runUntil, loaded };
}

describe('SimEffects', () => {
  it('startSwap returns at once: evictions stop in parallel, then the load, then one swapDone', () => {
    const { clock, effects, recorder, toScheduler, runUntil, loaded } = setup();
    loaded('a');
    loaded('b');
    const t0 = clock.now;
    effects.startSwap('c', ['a', 'b']);
    assert.deepEqual(toScheduler, [], 'nothing happens inside the call');
    assert.deepEqual([effects.modelStatus('a'), effects.modelStatus('b'), effects.modelStatus('c')], ['stopping', 'stopping', 'stopped']);
    runUntil(t0 + 100);
    assert.deepEqual(effects.runningModels(), ['c']);
    assert.equal(effects.modelStatus('c'), 'starting');
    runUntil(t0 + 1100);
    assert.deepEqual(toScheduler, [`${t0 + 1100} swapDone c`]);
    assert.equal(effects.modelStatus('c'), 'ready');
    assert.deepEqual([recorder.loads, recorder.loadingMs, recorder.evictions], [3, 3000, 2]);
  });

  it('a swap to a ready model only evicts (no load counted)', () => {
    const { clock, effects, recorder, toScheduler, runUntil, loaded } = setup();
    loaded('a');
    loaded('b');
    const t0 = clock.now;
    effects.startSwap('a', ['b']);
    runUntil(t0 + 5000);
    assert.deepEqual(toScheduler, [`${t0 + 100} swapDone a`]);
    assert.equal(recorder.loads, 2);
  });

  it('cancelSwap while evicting: the model is not loaded, the swap ends with CLIENT_CLOSED when the evictions are done', () => {
    const { clock, effects, recorder, toScheduler, runUntil, loaded } = setup();
    loaded('a');
    const t0 = clock.now;
    effects.startSwap('b', ['a']);
    effects.cancelSwap('b');
    runUntil(t0 + 5000);
    assert.deepEqual(toScheduler, [`${t0 + 100} swapDone b CLIENT_CLOSED`]);
    assert.deepEqual(effects.runningModels(), []);
    assert.equal(recorder.loads, 1);
  });

  it('cancelSwap while loading: the load is stopped and the swap ends at once; its late "loaded" is ignored', () => {
    const { clock, effects, toScheduler, runUntil } = setup();
    effects.startSwap('a', []);
    runUntil(300);
    effects.cancelSwap('a');
    assert.equal(effects.modelStatus('a'), 'stopping');
    runUntil(5000);
    assert.deepEqual(toScheduler, ['300 swapDone a CLIENT_CLOSED']);
    assert.equal(effects.modelStatus('a'), 'stopped');
    assert.equal(clock.pending, 0, 'the abandoned load event came (at 1000) and changed nothing');
  });

  it('a new swap for a model that is still stopping waits for its stop', () => {
    const { effects, toScheduler, runUntil } = setup();
    effects.startSwap('a', []);
    runUntil(300);
    effects.cancelSwap('a'); // stopping until 400
    runUntil(300);
    effects.startSwap('a', []);
    runUntil(5000);
    assert.deepEqual(toScheduler, ['300 swapDone a CLIENT_CLOSED', '1400 swapDone a']);
  });

  it('stopProcesses stops models and aborts their swaps, except for shutdown, which only aborts', () => {
    const { clock, effects, toScheduler, runUntil, loaded } = setup();
    loaded('a');
    const t0 = clock.now;
    effects.startSwap('b', []);
    effects.stopProcesses(['a'], 'unloaded');
    runUntil(t0 + 500);
    assert.deepEqual(effects.runningModels(), ['b']);
    effects.stopProcesses(['b'], 'ttl');
    runUntil(t0 + 5000);
    assert.deepEqual(toScheduler, [`${t0 + 500} swapDone b MODEL_UNLOADED`]);
    assert.deepEqual(effects.runningModels(), []);

    const s = setup();
    s.effects.startSwap('a', []);
    s.effects.stopProcesses(['a'], 'shutdown');
    s.runUntil(5000);
    assert.deepEqual(s.toScheduler, ['0 swapDone a MODEL_UNLOADED']);
  });

  it('grantServe records the grant and schedules serveDone after the service time', () => {
    const { clock, effects, recorder, toScheduler, runUntil } = setup();
    recorder.arrived(7, 0);
    clock.at(20, { type: 'arrival', id: 99, model: 'x' });
    runUntil(20);
    assert.equal(effects.grantServe(7), true);
    runUntil(1000);
    assert.deepEqual(toScheduler, ['20 arrival 99', '70 serveDone 7']);
    assert.deepEqual(recorder.outcomes(), [{ kind: 'serving', arrivedAt: 0, grantedAt: 20 }]);
  });
});
