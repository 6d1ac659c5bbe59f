import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { ProxyError } from '../../src/errors.ts';
import { pickSpillover, pickWarm, SelectorPicker, type Target } from '../../src/server/selectors.ts';

const t = (id: string, local = true): Target => ({ name: id, id, local });
const states = (s: Record<string, string>) => (m: string): string => s[m] ?? 'stopped';

describe('warm', () => {
  const targets = [t('a'), t('b'), t('c')];
  it('takes the first ready target, else the first starting one, else the first', () => {
    assert.equal(pickWarm(targets, states({ b: 'ready', c: 'ready' })).id, 'b');
    assert.equal(pickWarm(targets, states({ b: 'starting', c: 'ready' })).id, 'c');
    assert.equal(pickWarm(targets, states({ b: 'starting', c: 'starting' })).id, 'b');
    assert.equal(pickWarm(targets, states({ a: 'stopping' })).id, 'a');
  });
});

describe('spillover', () => {
  const targets = [t('a'), t('b'), t('p/x', false)];
  const none = (): number => 0;

  it('with nothing active, takes the first cold target; with every target stopping, none', () => {
    assert.equal(pickSpillover(targets, 2, none, states({}), 0)?.id, 'a');
    assert.equal(pickSpillover(targets, 2, none, states({ a: 'stopping' }), 0)?.id, 'b');
    assert.equal(pickSpillover([t('a'), t('b')], 2, none, states({ a: 'stopping', b: 'shutdown' }), 0), undefined);
  });

  it('fills active targets up to N, round-robin among the least reserved, then starts the next cold one', () => {
    const res = new Map([['a', 1], ['b', 1]]);
    const reserved = (id: string): number => res.get(id) ?? 0;
    const ready = states({ a: 'ready', b: 'ready' });
    assert.equal(pickSpillover(targets, 2, reserved, ready, 0)?.id, 'a');
    assert.equal(pickSpillover(targets, 2, reserved, ready, 1)?.id, 'b');
    res.set('a', 2);
    assert.equal(pickSpillover(targets, 2, reserved, ready, 0)?.id, 'b', 'the least reserved');
    res.set('b', 2);
    assert.equal(pickSpillover(targets, 2, reserved, ready, 0)?.id, 'p/x', 'all full: the next (cold) target');
    res.set('p/x', 2);
    assert.equal(pickSpillover(targets, 2, reserved, ready, 2)?.id, 'p/x', 'all full and none cold: overfill the least reserved');
  });

  it('counts a starting target, or any with a reservation, as active', () => {
    assert.equal(pickSpillover(targets, 1, none, states({ b: 'starting' }), 0)?.id, 'b');
    assert.equal(pickSpillover(targets, 2, (id) => (id === 'p/x' ? 1 : 0), states({}), 0)?.id, 'p/x');
  });
});

describe('SelectorPicker', () => {
  const config = parseConfig(`
routing: { router: { settings: { groups: { g: { swap: false, members: [a, b] } } } }, scheduler: { use: fifo } }
models:
  a: { cmd: "s \${PORT}", aliases: [a1] }
  b: { cmd: "s \${PORT}" }
peers: { p: { proxy: "http://h", models: [x] } }
selectors:
  first: { strategy: pin, targets: [a1, b] }
  spill: { strategy: spillover, targets: [a1, b, x] }
  only: { strategy: spillover, targets: [a] }
`, { env: {} });

  it('answers undefined for a name that is not a selector, and the target as written (an alias stays an alias)', () => {
    const picker = new SelectorPicker(config);
    assert.equal(picker.pick('a', states({})), undefined);
    assert.equal(picker.pick('first', states({ b: 'ready' }))?.target, 'a1');
  });

  it('holds a spillover reservation per request until it is released, once', () => {
    const picker = new SelectorPicker(config);
    const ready = states({ a: 'ready' });
    const one = picker.pick('spill', ready)!;
    assert.equal(one.target, 'a1');
    assert.equal(picker.reserved('spill', 'a'), 1);
    const two = picker.pick('spill', ready)!;
    assert.equal(two.target, 'b', 'a is full (spillover 1): the next target starts');
    const three = picker.pick('spill', states({ a: 'ready', b: 'starting' }))!;
    assert.equal(three.target, 'x');
    assert.equal(picker.reserved('spill', 'p/x'), 1, 'a peer target is counted by its full name');
    one.release();
    one.release();
    assert.equal(picker.reserved('spill', 'a'), 0);
    two.release();
    three.release();
  });

  it('fails with NO_TARGET (503) when every target is stopping', () => {
    const picker = new SelectorPicker(config);
    assert.throws(() => picker.pick('only', states({ a: 'stopping' })), (err: unknown) => err instanceof ProxyError && err.code === 'NO_TARGET' && /selector "only" has no target/.test(err.message));
  });
});
