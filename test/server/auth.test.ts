import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiKeyCheck, presentedKey } from '../../src/server/auth.ts';

const basic = (userPass: string): string => `Basic ${Buffer.from(userPass).toString('base64')}`;

test('presentedKey: Basic password, then Bearer, then x-api-key', () => {
  assert.equal(presentedKey({ authorization: basic('user:k1'), 'x-api-key': 'k3' }), 'k1');
  assert.equal(presentedKey({ authorization: basic(':k1') }), 'k1');
  assert.equal(presentedKey({ authorization: basic('k1') }), 'k1', 'no colon: the whole value');
  assert.equal(presentedKey({ authorization: basic('u:pa:ss') }), 'pa:ss', 'the password may contain colons');
  assert.equal(presentedKey({ authorization: 'Bearer k2', 'x-api-key': 'k3' }), 'k2');
  assert.equal(presentedKey({ authorization: 'bearer   k2  ' }), 'k2');
  assert.equal(presentedKey({ 'x-api-key': 'k3' }), 'k3');
  assert.equal(presentedKey({ authorization: 'Token k4', 'x-api-key': 'k3' }), 'k3', 'an unknown scheme falls through');
  assert.equal(presentedKey({}), undefined);
});

test('ApiKeyCheck: only exact keys pass; no keys configured means open', () => {
  assert.ok(new ApiKeyCheck([]).allows({}));
  const check = new ApiKeyCheck(['sekrit', 'other-key']);
  assert.ok(check.allows({ authorization: 'Bearer sekrit' }));
  assert.ok(check.allows({ 'x-api-key': 'other-key' }));
  for (const wrong of ['', 'sekri', 'sekrit2', 'SEKRIT', 'sekrit\u0000', 'other', 'sekrit other-key']) {
    assert.equal(check.allows({ authorization: `Bearer ${wrong}` }), false, JSON.stringify(wrong));
    assert.equal(check.allows({ 'x-api-key': wrong }), false, JSON.stringify(wrong));
  }
  assert.equal(check.allows({}), false);
  assert.equal(check.allows({ authorization: 'Bearer' }), false);
});
