/**
 * The group policy (llama-swap.md §5.4) as plain tables: groups, target,
 * running -> evicted. Also the evict-all policy used by the serial scheduler.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupConfig } from '../../src/config/types.ts';
import { createEvictAllSwapper, createGroupSwapper } from '../../src/scheduler/group-swapper.ts';

function group(id: string, members: string[], flags: Partial<Pick<GroupConfig, 'swap' | 'exclusive' | 'persistent'>> = {}): GroupConfig {
  return { id, members, swap: true, exclusive: true, persistent: false, ...flags };
}

const mixed: readonly GroupConfig[] = [
  group('swapper', ['s1', 's2']), // swap, exclusive
  group('together', ['t1', 't2'], { swap: false, exclusive: false }),
  group('pinned', ['p1', 'p2'], { swap: false, persistent: true }),
  group('loner', ['l1'], { exclusive: false }),
];

const rows: ReadonlyArray<readonly [string, readonly GroupConfig[], string, string[], string[]]> = [
  // [scenario, groups, target, running, want evicted]
  ['swap group stops the previous member', mixed, 's2', ['s1'], ['s1']],
  ['non-swap group keeps its members together', mixed, 't2', ['t1'], []],
  ['exclusive group evicts other non-persistent groups', mixed, 's1', ['t1', 't2', 'l1'], ['t1', 't2', 'l1']],
  ['persistent group is never evicted by another group', mixed, 's1', ['p1', 'p2', 't1'], ['t1']],
  ['persistent group is exclusive towards others', mixed, 'p1', ['s1', 'p2'], ['s1']],
  ['non-exclusive target does not evict a running exclusive group', mixed, 't1', ['s1', 'p1'], []],
  ['non-exclusive swap group only stops its own members', mixed, 'l1', ['s1', 't1'], []],
  ['target never evicts itself', mixed, 's1', ['s1', 's2'], ['s2']],
  ['nothing running, nothing to evict', mixed, 's1', [], []],
  ['no groups: every model is in (default), one at a time', [], 'a', ['a', 'b', 'c'], ['b', 'c']],
  ['ungrouped target is in (default), which evicts other groups', mixed, 'u', ['t1', 'p1', 'v'], ['t1', 'v']],
  ['ungrouped running models are evicted by an exclusive group', mixed, 's1', ['u', 'v'], ['u', 'v']],
  ['a configured (default) group is used for ungrouped models', [group('(default)', ['d'], { swap: false })], 'u', ['d', 'v'], []],
];

for (const [scenario, groups, target, running, want] of rows) {
  test(`group swapper: ${scenario}`, () => {
    assert.deepEqual(createGroupSwapper(groups).evictionFor(target, running), want);
  });
}

test('group swapper: a model in two groups is rejected at construction', () => {
  assert.throws(() => createGroupSwapper([group('g1', ['a', 'b']), group('g2', ['b'])]), /"b".*"g1".*"g2"/);
});

test('group swapper: evictionFor is pure and silent; onSwapStart logs one line', () => {
  const lines: string[] = [];
  const sw = createGroupSwapper(mixed, (l) => lines.push(l));
  const running = Object.freeze(['s1', 't1']);
  assert.deepEqual(sw.evictionFor('s2', running), ['s1', 't1']);
  assert.deepEqual(sw.evictionFor('s2', running), ['s1', 't1'], 'same answer twice');
  assert.deepEqual(lines, []);
  sw.onSwapStart('s2', running, ['s1', 't1']);
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /s2.*s1, t1/);
});

const evictAllRows: ReadonlyArray<readonly [string, string, string[], string[]]> = [
  ['evicts everything running but the target', 'a', ['a', 'b', 'c'], ['b', 'c']],
  ['nothing running', 'a', [], []],
  ['only the target running', 'a', ['a'], []],
];

for (const [scenario, target, running, want] of evictAllRows) {
  test(`evict-all swapper: ${scenario}`, () => {
    assert.deepEqual(createEvictAllSwapper().evictionFor(target, running), want);
  });
}
