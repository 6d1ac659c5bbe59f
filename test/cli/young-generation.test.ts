import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SEMI_SPACE_MB, youngGenerationArgs } from '../../src/young-generation.ts';

test('youngGenerationArgs adds the cap unless a semi-space size is already given', () => {
  const cap = [`--max-semi-space-size=${SEMI_SPACE_MB}`];
  assert.deepEqual(youngGenerationArgs([], undefined), cap);
  assert.deepEqual(youngGenerationArgs(['--inspect', '--max-old-space-size=512'], '--enable-source-maps'), cap);
  assert.deepEqual(youngGenerationArgs(['--max-semi-space-size=4'], undefined), []);
  assert.deepEqual(youngGenerationArgs(['--max_semi_space_size', '4'], undefined), []);
  assert.deepEqual(youngGenerationArgs([], ' --trace-gc  --max-semi-space-size=32 '), []);
  // a different flag that merely starts the same way is not a size
  assert.deepEqual(youngGenerationArgs(['--max-semi-space-size-x=1'], undefined), cap);
});
