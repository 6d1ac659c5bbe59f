/**
 * createScheduler wires the configured scheduler to its eviction policy (and
 * createScheduling exposes the memory router's placements). These
 * run the real swappers through the schedulers (llama-swap.md §8.3, group
 * bullets under "baseRouter, groups, matrix").
 */
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupConfig, RouterConfig, SchedulerConfig } from '../../src/config/types.ts';
import { createScheduler, createScheduling, type Scheduling } from '../../src/scheduler/create.ts';
import type { Scheduler } from '../../src/scheduler/types.ts';
import { FakeEffects } from './fake-effects.ts';

const groups: readonly GroupConfig[] = [
  { id: 'pair', members: ['a', 'b'], swap: true, exclusive: true, persistent: false },
  { id: 'free1', members: ['f1'], swap: false, exclusive: false, persistent: false },
  { id: 'free2', members: ['f2'], swap: false, exclusive: false, persistent: false },
  { id: 'pinned', members: ['p'], swap: false, exclusive: false, persistent: true },
  { id: 'many', members: ['m1', 'm2'], swap: false, exclusive: false, persistent: false },
];
const fifo: SchedulerConfig = { use: 'fifo', priority: new Map([['f2', 5]]) };

function build(config: SchedulerConfig, log?: (msg: string) => void, now?: () => number): { fx: FakeEffects; s: Scheduler } {
  const fx = new FakeEffects();
  const s = createScheduler({ scheduler: config, groups }, { effects: fx, isKnown: () => true, concurrencyLimit: () => 10, log, now });
  return { fx, s };
}

const batch = (maxWaitMs?: number): SchedulerConfig => ({ use: 'batch', priority: new Map(), maxWaitMs });

test('fifo: two same-group requests serialise even before either process starts', () => {
  const { fx, s } = build(fifo);
  s.onRequest(fx.request('a'));
  s.onRequest(fx.request('b'));
  assert.deepEqual(fx.starts, [{ model: 'a', evict: [] }]);
});

test('fifo: non-exclusive groups load in parallel', () => {
  const { fx, s } = build(fifo);
  s.onRequest(fx.request('f1'));
  s.onRequest(fx.request('f2'));
  assert.deepEqual(fx.starts, [{ model: 'f1', evict: [] }, { model: 'f2', evict: [] }]);
});

test('fifo: a swap group stops the previous member; a persistent group survives', () => {
  const { fx, s } = build(fifo);
  fx.setStatus('ready', 'a', 'p', 'f1');
  s.onRequest(fx.request('b'));
  assert.deepEqual(fx.starts, [{ model: 'b', evict: ['a', 'f1'] }]);
});

test('fifo: loading a non-exclusive model leaves a running exclusive group alone', () => {
  const { fx, s } = build(fifo);
  fx.setStatus('ready', 'a');
  s.onRequest(fx.request('f1'));
  assert.deepEqual(fx.starts, [{ model: 'f1', evict: [] }]);
});

test('fifo: priority comes from the config map (unlisted models 0)', () => {
  const { fx, s } = build(fifo);
  fx.setStatus('ready', 'f1', 'f2');
  s.onRequest(fx.request('a')); // evicts f1 and f2: starts
  s.onRequest(fx.request('f1')); // being evicted: queued
  s.onRequest(fx.request('f2')); // being evicted, priority 5: queued ahead of f1
  fx.setStatus('stopped', 'f1', 'f2');
  fx.setStatus('ready', 'a');
  s.onSwapDone('a', undefined);
  s.onServeDone(1);
  assert.deepEqual(fx.starts.map((st) => st.model), ['a', 'f2', 'f1']);
});

test('serial: loading a model evicts every other, even a non-swap or persistent group', () => {
  const { fx, s } = build({ use: 'serial' });
  fx.setStatus('ready', 'm1', 'p');
  s.onRequest(fx.request('m2'));
  assert.deepEqual(fx.starts, [{ model: 'm2', evict: ['m1', 'p'] }]);
});

test('one log line per real swap, none for joins or fast paths', () => {
  for (const config of [fifo, { use: 'serial' } as const, batch()]) {
    const lines: string[] = [];
    const { fx, s } = build(config, (l) => lines.push(l));
    s.onRequest(fx.request('a'));
    s.onRequest(fx.request('a'));
    assert.equal(lines.length, 1, config.use);
    assert.match(lines[0] ?? '', /loading a/);
  }
});

test('batch: groups decide evictions (a swap group stops its previous member, non-exclusive groups load in parallel)', () => {
  const { fx, s } = build(batch());
  fx.setStatus('ready', 'a', 'p');
  s.onRequest(fx.request('b'));
  s.onRequest(fx.request('f1'));
  assert.deepEqual(fx.starts, [{ model: 'b', evict: ['a'] }, { model: 'f1', evict: [] }]);
});

test('batch: priority comes from the config map and breaks ties between equal queues', () => {
  const fx = new FakeEffects();
  const config: SchedulerConfig = { use: 'batch', priority: new Map([['b', 5]]), maxWaitMs: undefined };
  const s = createScheduler({ scheduler: config, groups }, { effects: fx, isKnown: () => true, concurrencyLimit: () => 10 });
  fx.setStatus('ready', 'm1');
  const m1 = fx.request('m1');
  s.onRequest(m1); // busy m1: the exclusive pair's loads must wait for it
  s.onRequest(fx.request('a'));
  s.onRequest(fx.request('b'));
  assert.equal(fx.starts.length, 0);
  s.onServeDone(m1.id);
  assert.deepEqual(fx.starts.map((st) => st.model), ['b'], 'b (priority 5) before the older a; both are one swap group');
});

test('batch: maxWait from the config, on the clock from the deps', () => {
  let now = 0;
  const { fx, s } = build(batch(1000), undefined, () => now);
  fx.setStatus('ready', 'a');
  s.onRequest(fx.request('a'));
  s.onRequest(fx.request('b')); // needs a gone (swap group), a is busy
  now = 999;
  s.onRequest(fx.request('a'));
  assert.equal(fx.grants.length, 2, 'b is not overdue yet');
  now = 1000;
  s.onRequest(fx.request('a'));
  assert.equal(fx.grants.length, 2, 'b is overdue: a takes no new request');
});

test('a model in two groups is rejected when the scheduler is built', () => {
  const fx = new FakeEffects();
  const bad: GroupConfig[] = [...groups, { id: 'dup', members: ['a'], swap: true, exclusive: true, persistent: false }];
  const deps = { effects: fx, isKnown: () => true, concurrencyLimit: () => 10 };
  assert.throws(() => createScheduler({ scheduler: fifo, groups: bad }, deps), /more than one group/);
});

describe('deviceFor: where the memory router placed a model (what ${DEVICE} becomes at spawn)', () => {
  const G = 2 ** 30;
  const router: RouterConfig = {
    use: 'memory',
    memory: {
      devices: new Map([['0', 16 * G], ['1', 16 * G]]), ram: Infinity, persistent: [],
      needs: new Map([['a', { vram: 10 * G, devices: ['0', '1'], ram: 0 }], ['b', { vram: 10 * G, devices: ['0', '1'], ram: 0 }], ['cpu', { vram: 0, devices: undefined, ram: G }]]),
    },
  };
  const scheduling = (config: SchedulerConfig, r?: RouterConfig, log?: (msg: string) => void): { fx: FakeEffects } & Scheduling => {
    const fx = new FakeEffects();
    return { fx, ...createScheduling({ scheduler: config, groups, router: r }, { effects: fx, isKnown: () => true, concurrencyLimit: () => 10, log }) };
  };

  it('fifo: set when the swap starts, before its task runs; the second model goes where there is room', () => {
    const { fx, scheduler: s, deviceFor } = scheduling(fifo, router);
    assert.equal(deviceFor('a'), undefined, 'never started');
    s.onRequest(fx.request('a'));
    assert.deepEqual(fx.starts, [{ model: 'a', evict: [] }]);
    assert.equal(deviceFor('a'), '0');
    fx.setStatus('ready', 'a');
    s.onSwapDone('a', undefined);
    s.onRequest(fx.request('b'));
    assert.deepEqual(fx.starts.at(-1), { model: 'b', evict: [] }, 'no eviction: device 1 is free');
    assert.equal(deviceFor('b'), '1');
    s.onRequest(fx.request('cpu'));
    assert.equal(deviceFor('cpu'), undefined, 'needs no GPU memory');
  });

  it('serial: the memory router still places the model (alone on its first device) and logs where', () => {
    const lines: string[] = [];
    const { fx, scheduler: s, deviceFor } = scheduling({ use: 'serial' }, router, (l) => lines.push(l));
    s.onRequest(fx.request('a'));
    fx.setStatus('ready', 'a');
    s.onSwapDone('a', undefined);
    s.onServeDone(1);
    s.onRequest(fx.request('b'));
    assert.deepEqual(fx.starts, [{ model: 'a', evict: [] }, { model: 'b', evict: ['a'] }], 'serial still evicts everything');
    assert.equal(deviceFor('b'), '0');
    assert.deepEqual(lines, ['memory: loading a (10 GiB on device 0), evicting []', 'memory: loading b (10 GiB on device 0), evicting [a]']);
  });

  it('other routers place nothing', () => {
    for (const config of [fifo, { use: 'serial' } as const, batch()]) {
      const { fx, scheduler: s, deviceFor } = scheduling(config);
      s.onRequest(fx.request('a'));
      assert.equal(fx.starts.length, 1);
      assert.equal(deviceFor('a'), undefined, config.use);
    }
  });
});
