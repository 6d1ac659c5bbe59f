/**
 * `${DEVICE}` at spawn, with real processes: the server gets the device its
 * placement names in its argv and its environment (read back from /proc),
 * asked at each spawn (a later start may be placed elsewhere), also when the
 * start takes the spare launch wrapper (src/process/spare-pool.ts); `device()`
 * reports it for the run only, and cmdStop gets the run's environment.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { SparePool } from '../../src/process/spare-pool.ts';
import { cmdline, envOf, fakeCmd, freePort, harness, modelConfig, NODE } from './helpers.ts';

const T = { timeout: 15_000 };


/** A fake server whose model id and CUDA_VISIBLE_DEVICES use ${DEVICE}; its placement is `placed.device`. */
async function placedModel(t: Parameters<typeof harness>[0], spares?: SparePool): Promise<{ h: ReturnType<typeof harness>; port: number; placed: { device: string | undefined } }> {
  const port = await freePort();
  const placed: { device: string | undefined } = { device: '1' };
  const model = modelConfig(port, {
    cmd: fakeCmd(port).map((a) => (a === 'm' ? 'gpu${DEVICE}' : a)),
    env: { CUDA_VISIBLE_DEVICES: '${DEVICE}', MS_TEST_PLAIN: 'x' },
  });
  return { h: harness(t, model, { device: () => placed.device, spares }), port, placed };
}

async function servedBy(port: number): Promise<string | null> {
  return (await fetch(`http://127.0.0.1:${port}/v1/models`)).headers.get('x-served-by');
}

test('the spawned server gets its device in argv and env; device() reports it while the run lasts', T, async (t) => {
  const { h, port, placed } = await placedModel(t);
  assert.equal(h.up.device(), undefined, 'stopped');
  await h.up.ensureReady();
  const pid = h.up.pid()!;
  assert.match(cmdline(pid), / --model-id gpu1( |$)/);
  assert.equal(envOf(pid, 'CUDA_VISIBLE_DEVICES'), '1');
  assert.equal(envOf(pid, 'MS_TEST_PLAIN'), 'x');
  assert.equal(await servedBy(port), `gpu1@${port}`);
  assert.equal(h.up.device(), '1');
  placed.device = '0'; // a later placement does not change the running server
  assert.equal(h.up.device(), '1');
  await h.up.stop('evicted');
  assert.equal(h.up.device(), undefined, 'stopped');

  await h.up.ensureReady(); // placed anew: asked again
  assert.equal(envOf(h.up.pid()!, 'CUDA_VISIBLE_DEVICES'), '0');
  assert.equal(await servedBy(port), `gpu0@${port}`);
  assert.equal(h.up.device(), '0');
});

test('a start through the spare gets its device too (written through the gate at the start)', T, async (t) => {
  const spares = new SparePool({ log: pino({ level: 'silent' }) });
  t.after(() => spares.close());
  spares.fill();
  const spare = spares.pid;
  assert.ok(spare !== undefined, 'a spare waits');
  const { h, port, placed } = await placedModel(t, spares);
  h.pgids.add(spare);
  placed.device = '2'; // placed after the spare was spawned
  await h.up.ensureReady();
  assert.equal(h.up.pid(), spare, 'the spare was released, not a new spawn');
  assert.match(cmdline(spare), / --model-id gpu2( |$)/);
  assert.equal(envOf(spare, 'CUDA_VISIBLE_DEVICES'), '2');
  assert.equal(envOf(spare, 'MS_TEST_PLAIN'), 'x');
  assert.equal(await servedBy(port), `gpu2@${port}`);
});

test('placed on no device: ${DEVICE} is empty', T, async (t) => {
  const { h, port, placed } = await placedModel(t);
  placed.device = undefined;
  await h.up.ensureReady();
  assert.equal(envOf(h.up.pid()!, 'CUDA_VISIBLE_DEVICES'), '');
  assert.equal(await servedBy(port), `gpu@${port}`);
  assert.equal(h.up.device(), undefined);
});

test('cmdStop runs with the environment the server was started with (its device, not ${DEVICE})', T, async (t) => {
  const port = await freePort();
  const stopScript = "console.log('STOP-ENV[' + process.env.CUDA_VISIBLE_DEVICES + ']'); process.kill(Number(process.argv[1]), 'SIGINT')";
  const model = modelConfig(port, { env: { CUDA_VISIBLE_DEVICES: '${DEVICE}' }, cmdStop: [NODE, '-e', stopScript, '${PID}'] });
  const h = harness(t, model, { device: () => '3' });
  await h.up.ensureReady();
  await h.up.stop('unloaded');
  await h.until(() => h.logs.history().includes('STOP-ENV'));
  assert.match(h.logs.history(), /STOP-ENV\[3\]/);
});
