/** Speed histograms for /api/metrics/stats. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { histogram, percentile } from '../../src/activity/stats.ts';

it('percentiles interpolate between neighbours', () => {
  assert.equal(percentile([], 50), 0);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([10, 20, 30, 40], 50), 25);
  assert.equal(percentile([10, 20, 30, 40], 100), 40);
});

it('5 to 20 equal bins, every value counted once; one bin when all are equal; null for none', () => {
  assert.equal(histogram([]), null);
  assert.deepEqual(histogram([3, 3, 3]), { bins: [3], min: 3, max: 3, binSize: 0, p50: 3, p95: 3, p99: 3 });
  const h = histogram([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])!;
  assert.equal(h.bins.length, 5, 'Sturges: ceil(log2 10) + 1 = 5');
  assert.equal(h.bins.reduce((a, b) => a + b, 0), 10);
  assert.deepEqual([h.min, h.max, h.binSize], [1, 10, 1.8]);
  assert.equal(h.bins.at(-1), 2, 'the maximum falls in the last bin');
  const many = histogram(Array.from({ length: 100_000 }, (_, i) => i))!;
  assert.equal(many.bins.length, 18);
  assert.equal(histogram(Array.from({ length: 600_000 }, (_, i) => i % 7))!.bins.length, 20);
});
