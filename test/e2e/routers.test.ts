/**
 * The matrix and memory routers end to end: a real modelswap, real fake
 * upstreams, the fifo scheduler. Which models stay loaded after each request
 * (and where the memory router placed them) is read from /running.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { FAKE, postJson, startFromYaml, until } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';

const model = (id: string, extra = ''): string => `  ${id}: { cmd: "\${fake} --port \${PORT} --model-id \${MODEL_ID}"${extra} }`;

async function loaded(url: string): Promise<string[]> {
  const res = await fetch(`${url}/running`);
  const body = (await res.json()) as { running: Array<{ model: string; state: string }> };
  return body.running.filter((r) => r.state === 'ready').map((r) => r.model).sort();
}

test('matrix: models of one set stay together, a model of another set evicts them', async (t) => {
  const app = await startFromYaml(t, `
routing:
  router:
    use: matrix
    settings:
      matrix:
        vars: { l: llm, v: tts }
        evict_costs: { v: 5 }
        sets: { pair: "l & v", solo: big }
  scheduler: { use: fifo }
models:
${model('llm')}
${model('tts')}
${model('big')}
`);
  const chat = (m: string) => postJson(`${app.url}/v1/chat/completions`, { model: m, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal((await chat('llm')).status, 200);
  assert.equal((await chat('tts')).status, 200);
  assert.deepEqual(await loaded(app.url), ['llm', 'tts']);
  assert.equal((await chat('big')).status, 200);
  assert.deepEqual(await loaded(app.url), ['big']);
});

test('memory: models share a device while they fit; one that never fits gets 422 at once', async (t) => {
  const app = await startFromYaml(t, `
routing:
  router: { use: memory, settings: { memory: { devices: { "0": 16GiB }, ram: 64GiB } } }
  scheduler: { use: fifo }
models:
${model('a', ', resources: { vram: 6GiB, device: 0 }')}
${model('b', ', resources: { vram: 6GiB, device: 0 }')}
${model('c', ', resources: { vram: 8GiB }')}
${model('huge', ', resources: { vram: 20GiB }')}
`);
  const chat = (m: string) => postJson(`${app.url}/v1/chat/completions`, { model: m, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal((await chat('a')).status, 200);
  assert.equal((await chat('b')).status, 200);
  assert.deepEqual(await loaded(app.url), ['a', 'b'], '12 of 16 GiB');
  assert.equal((await chat('c')).status, 200);
  assert.equal((await loaded(app.url)).length, 2, 'c (8 GiB) fits only after one 6 GiB model goes');
  assert.ok((await loaded(app.url)).includes('c'));
  const r = await chat('huge');
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, 'model_too_large');
  assert.match(r.json.error.message, /needs 20 GiB of GPU memory, more than the budget allows \(device 0: 16 GiB\)/);
});

test('memory: a reload that turns the memory router on reads the machine then (auto RAM = its total)', async (t) => {
  const models = `startPort: ${await freePortRange(10)}\nmodels:\n${model('giant', ', resources: { ram: 100000GiB }')}\n${model('small', ', resources: { ram: 1MiB }')}`;
  const app = await startFromYaml(t, `routing: { scheduler: { use: fifo } }\n${models}`);
  const chat = (m: string) => postJson(`${app.url}/v1/chat/completions`, { model: m, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal((await chat('giant')).status, 200, 'the group router does not read resources');
  await app.reload(parseConfig(`routing: { router: { use: memory }, scheduler: { use: fifo } }\n${models.replaceAll('${fake}', FAKE)}`, { env: {} }));
  const r = await chat('giant');
  assert.equal(r.status, 422);
  assert.match(r.json.error.message, /97\.66 TiB of RAM, more than the budget allows \(RAM: [\d.]+ [GT]iB\)/);
  assert.equal((await chat('small')).status, 200);
});

test('memory: once a model is ready, a declaration far from what its process group holds is warned about', async (t) => {
  const app = await startFromYaml(t, `
routing:
  router: { use: memory, settings: { memory: { ram: 64GiB } } }
  scheduler: { use: fifo }
models:
${model('tiny', ', resources: { ram: 1MiB }')}
`);
  assert.equal((await postJson(`${app.url}/v1/chat/completions`, { model: 'tiny', messages: [] })).status, 200);
  // The fake server (a Node process) holds tens of MB: 1 MiB is far off.
  await until(() => /"model":"tiny"/.test(app.logs.proxy.history()) && /declar/i.test(app.logs.proxy.history()), 10_000, 'the footprint warning');
  const line = app.logs.proxy.history().split('\n').find((l) => /declar/i.test(l) && l.includes('"tiny"'));
  assert.match(line ?? '', /"level":40/, 'a warning');
  assert.match(line ?? '', /"rss":\d+/);
});

test('memory: ${DEVICE} becomes the device each model was placed on, in its argv and env, and /running shows the placement', async (t) => {
  const gpu = (id: string): string =>
    `  ${id}: { cmd: "\${fake} --port \${PORT} --model-id \${MODEL_ID}-gpu\${DEVICE}", env: ["CUDA_VISIBLE_DEVICES=\${DEVICE}"], resources: { vram: 10GiB, device: [0, 1] } }`;
  const app = await startFromYaml(t, `
routing:
  router: { use: memory, settings: { memory: { devices: { "0": 16GiB, "1": 16GiB }, ram: 64GiB } } }
  scheduler: { use: fifo }
models:
${gpu('a')}
${gpu('b')}
${model('plain')}
`);
  const chat = (m: string) => postJson(`${app.url}/v1/chat/completions`, { model: m, messages: [{ role: 'user', content: 'hi' }] });
  const a = await chat('a');
  assert.equal(a.status, 200);
  assert.equal(a.json.model, 'a-gpu0', 'the first device where it fits');
  const b = await chat('b');
  assert.equal(b.status, 200);
  assert.equal(b.json.model, 'b-gpu1', 'device 0 is full: device 1, with nothing evicted');
  assert.match(b.headers.get('x-served-by') ?? '', /^b-gpu1@\d+$/);
  assert.equal((await chat('plain')).status, 200);
  assert.deepEqual(await loaded(app.url), ['a', 'b', 'plain']);

  const body = (await (await fetch(`${app.url}/running`)).json()) as { running: Array<{ model: string; pid: number; cmd: string; placement?: unknown }> };
  const row = (m: string) => body.running.find((r) => r.model === m)!;
  const G = 2 ** 30;
  assert.deepEqual(row('a').placement, { device: '0', vram: 10 * G, ram: 0 });
  assert.deepEqual(row('b').placement, { device: '1', vram: 10 * G, ram: 0 });
  assert.ok(!('placement' in row('plain')), 'declares nothing: no placement');
  assert.match(row('b').cmd, /--model-id b-gpu\$\{DEVICE\}$/, 'cmd stays the configured one');
  if (process.platform === 'linux') {
    const env = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.ok(env(row('a').pid).includes('CUDA_VISIBLE_DEVICES=0'));
    assert.ok(env(row('b').pid).includes('CUDA_VISIBLE_DEVICES=1'));
  }
});
