/**
 * Property: whatever the models declare and whatever requests arrive, finish,
 * fail, are cancelled or unloaded, the fifo scheduler with the memory swapper
 * never lets the declarations of the models holding memory exceed a budget,
 * and every admitted request is eventually served or failed.
 *
 * The world is the recording FakeEffects, run as the real swaps run: a
 * started swap marks its evicted models stopping; when the property says so
 * they are stopped and its target starts; later it completes (target ready
 * or, on failure, stopped). Cancelled or unloaded swaps start nothing more.
 * Swaps overlap as they do for real; a stop (unload) is immediate. Two
 * invariants are checked:
 *   (a) at every startSwap, counting the new swap, and (b) after every step:
 *   the most memory the world can hold at once (`worstCase`) fits every budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ResourceNeed } from '../../src/config/types.ts';
import { ProxyError } from '../../src/errors.ts';
import { FifoScheduler } from '../../src/scheduler/fifo.ts';
import { createMemorySwapper } from '../../src/scheduler/memory-swapper.ts';
import type { MemorySwapper } from '../../src/scheduler/memory-swapper.ts';
import type { MemoryBudget } from '../../src/scheduler/memory-fit.ts';
import type { RequestId } from '../../src/scheduler/types.ts';
import { FakeEffects } from './fake-effects.ts';

const G = 2 ** 30;
const MODELS = ['m0', 'm1', 'm2', 'm3', 'm4'];
const BUDGET: MemoryBudget = { devices: new Map([['0', 24 * G], ['1', 16 * G]]), ram: 32 * G };

const needArb: fc.Arbitrary<ResourceNeed> = fc.record({
  vram: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 26 }).map((n) => n * G)),
  devices: fc.constantFrom(undefined, ['0'], ['1'], ['0', '1'], ['1', '0']),
  ram: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 34 }).map((n) => n * G)),
});

type Step =
  | { readonly t: 'request'; readonly m: number }
  | { readonly t: 'launch'; readonly i: number }
  | { readonly t: 'swapDone'; readonly i: number; readonly ok: boolean }
  | { readonly t: 'serveDone'; readonly i: number }
  | { readonly t: 'cancel'; readonly i: number }
  | { readonly t: 'unload'; readonly m: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('request' as const), m: fc.nat(MODELS.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('launch' as const), i: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('swapDone' as const), i: fc.nat(), ok: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('serveDone' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cancel' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('unload' as const), m: fc.nat(MODELS.length - 1) }) },
);

type Usage = { devices: Map<string, number>; ram: number };

/** Bytes per device and of RAM used by `models`, each charged where the swapper placed it. */
function usage(models: Iterable<string>, needs: ReadonlyMap<string, ResourceNeed>, sw: MemorySwapper): Usage {
  const devices = new Map<string, number>();
  let ram = 0;
  for (const m of models) {
    const n = needs.get(m);
    if (n === undefined) continue;
    ram += n.ram;
    if (n.vram === 0) continue;
    const d = sw.deviceFor(m);
    assert.ok(d !== undefined, `${m} needs GPU memory but was never placed`);
    devices.set(d, (devices.get(d) ?? 0) + n.vram);
  }
  return { devices, ram };
}

/** Per device (and RAM), the larger of two usages, added to `into`. */
function addMax(into: Usage, a: Usage, b: Usage): void {
  for (const d of new Set([...a.devices.keys(), ...b.devices.keys()])) {
    into.devices.set(d, (into.devices.get(d) ?? 0) + Math.max(a.devices.get(d) ?? 0, b.devices.get(d) ?? 0));
  }
  into.ram += Math.max(a.ram, b.ram);
}

interface Swap {
  readonly model: string;
  readonly evict: readonly string[];
  /** Cancelled, or its target unloaded: it starts nothing any more (the real effects abort it). */
  aborted?: boolean;
  /** Its evicted models are stopped and its target started. */
  launched?: boolean;
}

/**
 * The most memory the world can hold at once: models up and not touched by a
 * swap, plus, for each swap in progress, the larger of its evicted models
 * (still stopping) and its target (started once they are gone). A model
 * evicted by one swap is counted there only.
 */
function worstCase(running: readonly string[], swaps: readonly Swap[], needs: ReadonlyMap<string, ResourceNeed>, sw: MemorySwapper): Usage {
  const up = new Set(running);
  const evicted = new Set<string>();
  const phases: [string[], string[]][] = [];
  for (const x of swaps) {
    const e = x.evict.filter((m) => up.has(m) && !evicted.has(m));
    for (const m of e) evicted.add(m);
    phases.push([e, x.aborted === true ? [] : [x.model]]);
  }
  for (const phase of phases) phase[1] = phase[1].filter((m) => !evicted.has(m));
  // A target whose swap was aborted starts no more; what it holds already is counted as any model up.
  const inSwap = new Set([...evicted, ...swaps.filter((x) => x.aborted !== true).map((x) => x.model)]);
  const total = usage([...up].filter((m) => !inSwap.has(m)), needs, sw);
  for (const [e, t] of phases) addMax(total, usage(e, needs, sw), usage(t, needs, sw));
  return total;
}

function assertWithin(what: string, u: Usage): void {
  for (const [d, used] of u.devices) assert.ok(used <= (BUDGET.devices.get(d) ?? 0), `${what}: device ${d} holds ${used / G} GiB`);
  assert.ok(u.ram <= BUDGET.ram, `${what}: RAM holds ${u.ram / G} GiB`);
}

class World extends FakeEffects {
  /** Swaps started and not yet done, oldest first. */
  readonly active: Swap[] = [];
  onStart: (model: string, evict: readonly string[]) => void = () => {};

  override startSwap(model: string, evict: readonly string[]): void {
    this.onStart(model, evict);
    super.startSwap(model, evict);
    this.active.push({ model, evict });
    this.setStatus('stopping', ...evict);
  }

  /** The swap's second phase, as the real swap runs it: its evicted models are gone, then its target starts (unless aborted). */
  launch(x: Swap): void {
    if (x.launched === true) return;
    x.launched = true;
    this.setStatus('stopped', ...x.evict.filter((m) => this.modelStatus(m) === 'stopping'));
    if (x.aborted !== true) this.setStatus('starting', x.model);
  }

  override cancelSwap(model: string): void {
    super.cancelSwap(model);
    for (const x of this.active) if (x.model === model) x.aborted = true;
  }

  override stopProcesses(models: readonly string[], reason: 'unloaded' | 'ttl' | 'shutdown'): void {
    super.stopProcesses(models, reason);
    this.setStatus('stopped', ...models);
    for (const x of this.active) if (models.includes(x.model)) x.aborted = true;
  }
}

function run(needs: ReadonlyMap<string, ResourceNeed>, persistent: readonly string[], steps: readonly Step[]): void {
  const fx = new World();
  const sw = createMemorySwapper({ budget: BUDGET, needs, persistent });
  const s = new FifoScheduler({
    effects: fx, swapper: sw, isKnown: () => true, concurrencyLimit: () => 3, priority: () => 0, refusal: (m) => sw.refusal(m),
  });
  fx.onStart = (model, evict) => {
    assert.equal(sw.refusal(model), undefined, `${model} can never fit, yet it was started`);
    assertWithin(`starting ${model}`, worstCase(fx.runningModels(), [...fx.active, { model, evict }], needs, sw));
  };
  const finished = new Set<RequestId>();
  const cancelled = new Set<RequestId>();
  const complete = (i: number, ok: boolean): void => {
    const [sw0] = fx.active.splice(i, 1);
    if (sw0 === undefined) return;
    fx.launch(sw0);
    // A target stopped meanwhile (unloaded, or evicted after its load was cancelled) stays as it is.
    if (fx.modelStatus(sw0.model) === 'starting') fx.setStatus(ok && sw0.aborted !== true ? 'ready' : 'stopped', sw0.model);
    s.onSwapDone(sw0.model, ok ? undefined : new ProxyError('UPSTREAM_START_FAILED', 'failed'));
  };
  const inFlight = (): RequestId[] => fx.grants.filter((id) => !finished.has(id));
  const waiting = (): RequestId[] => [...fx.models.keys()].filter((id) => !fx.grants.includes(id) && fx.errored(id) === 0 && !cancelled.has(id));

  for (const step of steps) {
    switch (step.t) {
      case 'request': s.onRequest(fx.request(MODELS[step.m]!)); break;
      case 'launch': { const x = fx.active[step.i % Math.max(1, fx.active.length)]; if (x !== undefined) fx.launch(x); break; }
      case 'swapDone': if (fx.active.length > 0) complete(step.i % fx.active.length, step.ok); break;
      case 'serveDone': {
        const ids = inFlight();
        const id = ids[step.i % Math.max(1, ids.length)];
        if (id !== undefined) { finished.add(id); s.onServeDone(id); }
        break;
      }
      case 'cancel': {
        const ids = waiting();
        const id = ids[step.i % Math.max(1, ids.length)];
        if (id !== undefined) { cancelled.add(id); s.onCancel(id); }
        break;
      }
      case 'unload': s.onUnload([MODELS[step.m]!], 'unloaded'); break;
      default: assert.fail(`unknown step ${JSON.stringify(step)}`);
    }
    assertWithin('after a step', worstCase(fx.runningModels(), fx.active, needs, sw));
  }
  // Everything finishes: no admitted request is left waiting forever.
  for (let guard = 0; fx.active.length > 0 || inFlight().length > 0; guard++) {
    assert.ok(guard < 1000, 'the world does not settle');
    if (fx.active.length > 0) complete(0, true);
    for (const id of inFlight()) { finished.add(id); s.onServeDone(id); }
    assertWithin('while settling', worstCase(fx.runningModels(), fx.active, needs, sw));
  }
  assert.deepEqual(waiting(), [], 'requests still waiting once everything is idle');
}

test('memory router: the resident declarations never exceed a budget, and every request ends', () => {
  fc.assert(
    fc.property(
      fc.array(needArb, { minLength: MODELS.length, maxLength: MODELS.length }),
      fc.subarray(MODELS, { maxLength: 2 }),
      fc.array(stepArb, { maxLength: 80 }),
      (declared, persistent, steps) => run(new Map(MODELS.map((m, i) => [m, declared[i]!])), persistent, steps),
    ),
    { numRuns: 400 },
  );
});
