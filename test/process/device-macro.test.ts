/** `${DEVICE}` replaced in a command and its environment, the inputs untouched. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDevice } from '../../src/process/device-macro.ts';

test('${DEVICE} becomes the placed device in every argument and environment value', () => {
  const argv = Object.freeze(['llama-server', '--device', 'CUDA${DEVICE}', '--tag', '${DEVICE}-${DEVICE}']);
  const env = Object.freeze({ CUDA_VISIBLE_DEVICES: '${DEVICE}', OTHER: 'x' });
  assert.deepEqual(withDevice(argv, env, '1'), {
    argv: ['llama-server', '--device', 'CUDA1', '--tag', '1-1'],
    env: { CUDA_VISIBLE_DEVICES: '1', OTHER: 'x' },
  });
  assert.deepEqual(argv[2], 'CUDA${DEVICE}', 'inputs unchanged');
});

test('no device: ${DEVICE} is empty', () => {
  assert.deepEqual(withDevice(['a${DEVICE}b'], {}, undefined), { argv: ['ab'], env: {} });
});
