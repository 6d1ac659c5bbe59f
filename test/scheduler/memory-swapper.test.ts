/**
 * The memory swapper as plain tables (budget, declarations, target, running,
 * busy -> evicted), then its refusals, its device choice and its log line,
 * and the fifo scheduler built by createScheduler with routing.router.use:
 * memory (waiting for busy models, refusing a model that can never fit).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MemoryConfig, ResourceNeed } from '../../src/config/types.ts';
import { createScheduler } from '../../src/scheduler/create.ts';
import { createMemorySwapper, resolveBudget } from '../../src/scheduler/memory-swapper.ts';
import type { MemorySwapper, MemorySwapperOptions } from '../../src/scheduler/memory-swapper.ts';
import { FakeEffects } from './fake-effects.ts';

const G = 2 ** 30;
const gpu = (vram: number, devices?: string[]): ResourceNeed => ({ vram: vram * G, devices, ram: 0 });
const cpu = (ram: number): ResourceNeed => ({ vram: 0, devices: undefined, ram: ram * G });

/** Two GPUs (24 and 16 GiB) and 32 GiB of RAM. */
const needs = new Map<string, ResourceNeed>([
  ['big', gpu(20, ['0'])],
  ['mid', gpu(10, ['0'])],
  ['mid2', gpu(10, ['0'])],
  ['small', gpu(4, ['0'])],
  ['tiny', gpu(2, ['0'])],
  ['either', gpu(12, ['0', '1'])],
  ['one', gpu(14, ['1'])],
  ['cpu', cpu(20)],
  ['cpu2', cpu(16)],
  ['huge', gpu(30, ['0'])],
]);
const budget = { devices: new Map([['0', 24 * G], ['1', 16 * G]]), ram: 32 * G };

function swapper(opts: Partial<MemorySwapperOptions> = {}): MemorySwapper {
  return createMemorySwapper({ budget, needs, persistent: [], ...opts });
}

describe('memory swapper: what to evict', () => {
  type Row = readonly [string, string, string[], string[], Partial<MemorySwapperOptions>, string[]];
  const rows: readonly Row[] = [
    // [scenario, target, running, busy, options, want evicted]
    ['nothing running: nothing to evict', 'big', [], [], {}, []],
    ['fits beside the running models: nothing to evict', 'small', ['mid', 'mid2'], [], {}, []],
    ['a running target evicts nothing', 'mid', ['mid', 'big'], [], {}, []],
    ['the one model that makes room', 'big', ['mid'], [], {}, ['mid']],
    ['the cheapest of two that each make room (smaller reloads faster)', 'mid', ['mid2', 'small', 'tiny'], [], {}, ['tiny']],
    ['measured reload times beat the size estimate', 'mid', ['mid2', 'small', 'tiny'], [], { reloadMs: (m) => new Map([['tiny', 60_000], ['mid2', 30_000]]).get(m) ?? 1000 }, ['small']],
    ['priority makes a model costlier to evict', 'mid', ['mid2', 'small', 'tiny'], [], { priority: (m) => (m === 'tiny' ? 5 : 0) }, ['small']],
    ['an idle model is evicted rather than a busy one, even a dearer one', 'big', ['mid', 'small'], ['small'], {}, ['mid']],
    ['only busy models make room: the cheapest such set (the scheduler waits)', 'mid2', ['mid', 'small', 'tiny'], ['mid', 'small', 'tiny'], {}, ['tiny']],
    ['a persistent model is never evicted', 'big', ['mid', 'small'], [], { persistent: ['small'] }, ['mid']],
    ['a model that needs no GPU memory ignores the GPUs', 'cpu', ['big', 'mid2'], [], {}, []],
    ['RAM is a budget too', 'cpu', ['cpu2'], [], {}, ['cpu2']],
    ['a model that may use two devices takes the one where nothing must go', 'either', ['big'], [], {}, []],
    ['on two devices, the cheaper eviction wins', 'either', ['mid', 'mid2', 'one'], [], {}, ['mid']],
    ['a model not declared needs nothing and evicts nothing', 'undeclared', ['big', 'small'], [], {}, []],
    ['models not in the way are never evicted', 'one', ['big', 'cpu'], [], {}, []],
  ];
  for (const [scenario, target, running, busy, opts, want] of rows) {
    it(scenario, () => {
      const got = swapper(opts).evictionFor(target, running, { busy: (m) => busy.includes(m) });
      assert.deepEqual(got, want);
    });
  }

  it('a running model whose device is not known is charged to every device it may use', () => {
    const sw = swapper();
    assert.deepEqual(sw.evictionFor('one', ['either']), ['either'], 'either may sit on device 1: assume it does');
    sw.onSwapStart('either', [], []);
    assert.equal(sw.deviceFor('either'), '0', 'its first device, where it fits');
    assert.deepEqual(sw.evictionFor('one', ['either']), [], 'now known to be on device 0');
  });

  it('onSwapStart places a model where it fits after the eviction, and logs once', () => {
    const lines: string[] = [];
    const sw = swapper({ log: (l) => lines.push(l) });
    assert.deepEqual(sw.evictionFor('either', ['big', 'one']), ['one']);
    assert.deepEqual(lines, [], 'evictionFor is silent');
    sw.onSwapStart('either', ['big', 'one'], ['one']);
    assert.equal(sw.deviceFor('either'), '1');
    sw.onSwapStart('cpu', [], []);
    assert.equal(sw.deviceFor('cpu'), undefined);
    assert.deepEqual(lines, ['memory: loading either (12 GiB on device 1), evicting [one]', 'memory: loading cpu (20 GiB of RAM), evicting []']);
  });
});

describe('memory swapper: refusals', () => {
  const rows: ReadonlyArray<readonly [string, string, Partial<MemorySwapperOptions>, RegExp | undefined]> = [
    ['a model that fits is admitted', 'big', {}, undefined],
    ['a model bigger than its device', 'huge', {}, /needs 30 GiB of GPU memory, more than the budget allows \(device 0: 24 GiB\).*never start/],
    ['a model that fits only without a persistent model', 'big', { persistent: ['mid'] }, /next to the persistent models/],
    ['a persistent model is not in its own way', 'small', { persistent: ['small'] }, undefined],
    ['a model needing a GPU on a machine with none', 'big', { budget: { devices: new Map(), ram: Infinity } }, /needs 20 GiB of GPU memory on device 0, which has no memory budget/],
    ['RAM beyond the budget', 'cpu', { budget: { devices: new Map(), ram: 8 * G } }, /20 GiB of RAM.*RAM: 8 GiB/],
  ];
  for (const [scenario, model, opts, want] of rows) {
    it(scenario, () => {
      const got = swapper(opts).refusal(model);
      if (want === undefined) assert.equal(got, undefined);
      else assert.match(got ?? '', want);
    });
  }

  it('auto budgets resolve to what was detected; nothing detected means no GPU and RAM unbudgeted', () => {
    const config: MemoryConfig = { devices: 'auto', ram: 'auto', needs: new Map(), persistent: [] };
    assert.deepEqual(resolveBudget(config, { devices: new Map([['0', 8]]), ram: 64 }), { devices: new Map([['0', 8]]), ram: 64 });
    assert.deepEqual(resolveBudget(config, undefined), { devices: new Map(), ram: Infinity });
    assert.deepEqual(resolveBudget({ ...config, devices: new Map([['a', 1]]), ram: 2 }, { devices: new Map(), ram: 64 }), { devices: new Map([['a', 1]]), ram: 2 });
  });
});

describe('memory router through the fifo scheduler', () => {
  function build(): { fx: FakeEffects; s: ReturnType<typeof createScheduler> } {
    const fx = new FakeEffects();
    const memory: MemoryConfig = { devices: budget.devices, ram: budget.ram, needs, persistent: [] };
    const s = createScheduler(
      { scheduler: { use: 'fifo', priority: new Map() }, groups: [], router: { use: 'memory', memory } },
      { effects: fx, isKnown: () => true, concurrencyLimit: () => 10 },
    );
    return { fx, s };
  }

  it('a model that can never fit is refused at once with MODEL_TOO_LARGE', () => {
    const { fx, s } = build();
    const r = fx.request('huge');
    s.onRequest(r);
    assert.equal(fx.errorCode(r.id), 'MODEL_TOO_LARGE');
    assert.equal(fx.starts.length, 0);
  });

  it('models that fit together load in parallel', () => {
    const { fx, s } = build();
    s.onRequest(fx.request('mid'));
    s.onRequest(fx.request('mid2'));
    s.onRequest(fx.request('one'));
    assert.deepEqual(fx.starts, [{ model: 'mid', evict: [] }, { model: 'mid2', evict: [] }, { model: 'one', evict: [] }]);
  });

  it('a model that does not fit beside a loading one waits for it, then evicts it once idle', () => {
    const { fx, s } = build();
    const mid = fx.request('mid');
    s.onRequest(mid);
    s.onRequest(fx.request('big'));
    assert.deepEqual(fx.starts, [{ model: 'mid', evict: [] }], 'big would have to evict mid, which is loading');
    fx.setStatus('ready', 'mid');
    s.onSwapDone('mid', undefined);
    assert.equal(fx.starts.length, 1, 'mid is serving now');
    s.onServeDone(mid.id);
    assert.deepEqual(fx.starts[1], { model: 'big', evict: ['mid'] });
  });
});
