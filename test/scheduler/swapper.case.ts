/**
 * One conformance suite for every Swapper: what any eviction policy must do,
 * checked over random targets and running sets (fast-check). Each swapper's
 * own tables say what it evicts; this says what none may ever do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Swapper } from '../../src/scheduler/types.ts';

export interface SwapperSuite {
  readonly name: string;
  /** A fresh swapper; `log` receives its onSwapStart lines. */
  readonly create: (log: (line: string) => void) => Swapper;
  /** Model ids to draw targets and running sets from (configured or not). */
  readonly models: readonly string[];
}

export function runSwapperSuite({ name, create, models }: SwapperSuite): void {
  const target = fc.constantFrom(...models);
  const running = fc.uniqueArray(fc.constantFrom(...models), { maxLength: models.length }).map((r) => r.sort());
  const busy = fc.func(fc.boolean());

  test(`${name} swapper: evicts only running models, never the target, never twice`, () => {
    fc.assert(fc.property(target, running, busy, (t, r, isBusy) => {
      const evict = create(() => {}).evictionFor(t, r, { busy: (m) => isBusy(m) });
      assert.ok(!evict.includes(t), 'evicts the target');
      assert.ok(evict.every((m) => r.includes(m)), `evicts a model that is not running: ${evict.join(', ')}`);
      assert.equal(new Set(evict).size, evict.length, 'evicts a model twice');
    }));
  });

  test(`${name} swapper: evictionFor is pure and silent (same answer twice, no log line, inputs untouched)`, () => {
    fc.assert(fc.property(target, running, (t, r) => {
      const lines: string[] = [];
      const sw = create((l) => lines.push(l));
      const frozen = Object.freeze([...r]);
      const first = sw.evictionFor(t, frozen);
      assert.deepEqual(sw.evictionFor(t, frozen), first);
      assert.deepEqual(lines, []);
    }));
  });

  test(`${name} swapper: onSwapStart logs at most one line per swap`, () => {
    fc.assert(fc.property(target, running, (t, r) => {
      const lines: string[] = [];
      const sw = create((l) => lines.push(l));
      sw.onSwapStart(t, r, sw.evictionFor(t, r));
      assert.ok(lines.length <= 1);
    }));
  });
}
