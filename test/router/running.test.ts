/**
 * The rows of `GET /running` (src/router/running.ts) over FakeUpstreams:
 * under the memory router a model that declares resources has a `placement`
 * (its declaration, and the device its run was started on); other rows, and
 * every row under another router, have none.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { ModelTable } from '../../src/router/model-table.ts';
import { runningInfo } from '../../src/router/running.ts';
import { FakeUpstream } from './fake-upstream.ts';

const G = 2 ** 30;
const MODELS = `
models:
  gpu: { cmd: "fake --port \${PORT} --device CUDA\${DEVICE}", resources: { vram: 8GiB, device: [0, 1] } }
  cpu: { cmd: "fake --port \${PORT}", resources: { ram: 2GiB } }
  bare: { cmd: "fake --port \${PORT}" }
`;

/** Every model started (ready), `gpu` on device 1; the rows as /running builds them. */
async function rows(yaml: string): Promise<ReturnType<typeof runningInfo>> {
  const fakes = new Map<string, FakeUpstream>();
  const table = new ModelTable(parseConfig(yaml, { env: {} }), (m) => {
    const fake = new FakeUpstream(m.id);
    fakes.set(m.id, fake);
    return fake;
  }, () => {}, pino({ level: 'silent' }));
  for (const fake of fakes.values()) {
    fake.placedOn = fake.model === 'gpu' ? '1' : undefined;
    const ready = fake.ensureReady();
    fake.resolveStart();
    await ready;
  }
  return runningInfo(table, () => ({ inFlight: 0, waiting: 0 }), () => undefined, () => undefined);
}

test('memory router: a declaring model shows what it declared and the device its run was started on', async () => {
  const out = await rows(`routing: { router: { use: memory, settings: { memory: { devices: { "0": 16GiB, "1": 16GiB } } } }, scheduler: { use: fifo } }${MODELS}`);
  assert.deepEqual(out.map((r) => [r.model, r.state, r.placement]), [
    ['bare', 'ready', undefined],
    ['cpu', 'ready', { vram: 0, ram: 2 * G }],
    ['gpu', 'ready', { device: '1', vram: 8 * G, ram: 0 }],
  ]);
  assert.ok(!('placement' in out[0]!), 'absent, not undefined, in the JSON');
  assert.ok(!('device' in out[1]!.placement!), 'placed on no device');
  assert.equal(out[2]!.cmd, 'fake --port 5802 --device CUDA${DEVICE}', 'cmd is the configured one');
});

test('another router: no row has a placement', async () => {
  const out = await rows(`routing: { scheduler: { use: fifo } }\n${MODELS.replace('--device CUDA${DEVICE}', '')}`);
  assert.equal(out.length, 3);
  for (const r of out) assert.ok(!('placement' in r), r.model);
});
