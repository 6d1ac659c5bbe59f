/**
 * `${DEVICE}` at spawn, with real processes: the server gets the device its
 * placement names in its argv and its environment (read back from /proc),
 * asked at each spawn (a later start may be placed elsewhere), also through a
 * launch prepared while other models were evicted; `device()` reports it for
 * the run only, and cmdStop gets the run's environment.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { registeredGroups } from '../../src/process/kill-group.ts';
import { cmdline, fakeCmd, freePort, harness, modelConfig, NODE } from './helpers.ts';

const T = { timeout: 15_000 };

/** One variable of a live process's initial environment, from /proc. */
function envOf(pid: number, name: string): string | undefined {
  const line = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1);
}

/** A fake server whose model id and CUDA_VISIBLE_DEVICES use ${DEVICE}; its placement is `placed.device`. */
async function placedModel(t: Parameters<typeof harness>[0]): Promise<{ h: ReturnType<typeof harness>; port: number; placed: { device: string | undefined } }> {
  const port = await freePort();
  const placed: { device: string | undefined } = { device: '1' };
  const model = modelConfig(port, {
    cmd: fakeCmd(port).map((a) => (a === 'm' ? 'gpu${DEVICE}' : a)),
    env: { CUDA_VISIBLE_DEVICES: '${DEVICE}', MS_TEST_PLAIN: 'x' },
  });
  return { h: harness(t, model, { device: () => placed.device }), port, placed };
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

test('a launch prepared during the evictions already has the device (read when the wrapper is spawned)', T, async (t) => {
  const { h, port } = await placedModel(t);
  const before = registeredGroups();
  h.up.prepareLaunch();
  const [spare] = registeredGroups().filter((g) => !before.includes(g));
  assert.ok(spare !== undefined, 'a spare was spawned');
  h.pgids.add(spare);
  await h.up.ensureReady();
  assert.equal(h.up.pid(), spare, 'the spare was released, not a new spawn');
  assert.equal(envOf(h.up.pid()!, 'CUDA_VISIBLE_DEVICES'), '1');
  assert.equal(await servedBy(port), `gpu1@${port}`);
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
