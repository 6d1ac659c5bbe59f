import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyError } from '../../src/errors.ts';
import { LogRing } from '../../src/log/ring.ts';

test('ProxyError carries its code', () => {
  const e = new ProxyError('NO_MODEL', 'x');
  assert.equal(e.code, 'NO_MODEL');
});
test('LogRing keeps only the last bytes', () => {
  const r = new LogRing(10);
  r.push('hello\n'); r.push('world\n'); r.push('again\n');
  assert.ok(r.history().length <= 12);
  assert.deepEqual(r.lastLines(1), ['again']);
});
