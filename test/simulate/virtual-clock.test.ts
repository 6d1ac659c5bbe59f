import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { VirtualClock } from '../../src/simulate/virtual-clock.ts';

function drain<E>(clock: VirtualClock<E>): Array<[number, E]> {
  const out: Array<[number, E]> = [];
  for (let e = clock.next(); e !== undefined; e = clock.next()) out.push([clock.now, e]);
  return out;
}

describe('VirtualClock', () => {
  it('hands out events by time, and in scheduling order at the same time', () => {
    const clock = new VirtualClock<string>();
    clock.at(20, 'c');
    clock.at(10, 'a');
    clock.at(20, 'd');
    clock.at(10, 'b');
    assert.deepEqual(drain(clock), [[10, 'a'], [10, 'b'], [20, 'c'], [20, 'd']]);
    assert.equal(clock.now, 20, 'time stays at the last event');
  });

  it('an event scheduled "now" while handling one comes after those already due now', () => {
    const clock = new VirtualClock<string>();
    clock.at(5, 'first');
    clock.at(5, 'second');
    assert.equal(clock.next(), 'first');
    clock.after(0, 'posted by first');
    clock.after(3, 'later');
    assert.deepEqual(drain(clock), [[5, 'second'], [5, 'posted by first'], [8, 'later']]);
  });

  it('refuses an event in the past', () => {
    const clock = new VirtualClock<string>();
    clock.at(10, 'x');
    clock.next();
    assert.throws(() => clock.at(9, 'y'), /before now/);
    assert.throws(() => clock.at(Number.NaN, 'y'), /scheduled at NaN/);
  });

  it('is empty when nothing is scheduled', () => {
    const clock = new VirtualClock<string>();
    assert.equal(clock.next(), undefined);
    assert.equal(clock.now, 0);
    assert.equal(clock.pending, 0);
  });

  it('orders any schedule by (time, scheduling order)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (times) => {
      const clock = new VirtualClock<number>();
      times.forEach((t, i) => clock.at(t, i));
      const expected = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      assert.deepEqual(drain(clock), expected);
    }));
  });
});
