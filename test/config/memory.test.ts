/**
 * The memory router's config: sizes, budgets (written out or auto), each
 * model's resources, persistent models, and what is an error (unknown device,
 * unknown model) or a warning (a model that can never fit, resources no
 * router reads).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSize, parseSize } from '../../src/config/memory.ts';
import type { Config, MemoryConfig } from '../../src/config/types.ts';
import { issuesOf, load, oneIssue } from './helpers.ts';

const G = 2 ** 30;

function memoryOf(c: Config): MemoryConfig {
  if (c.router.use !== 'memory') assert.fail(`router is ${c.router.use}`);
  return c.router.memory;
}

describe('sizes', () => {
  const rows: ReadonlyArray<readonly [unknown, number | undefined]> = [
    [1024, 1024], ['100B', 100], ['7.5GiB', 7.5 * G], ['512 MiB', 512 * 2 ** 20], ['24GB', 24e9], ['1.5TiB', 1.5 * 2 ** 40],
    ['2kB', 2000], ['3KiB', 3072], ['4gib', 4 * G], ['12', 12], ['GiB', undefined], ['1.2.3GB', undefined], ['5 parsecs', undefined], [-1, undefined], [true, undefined],
  ];
  for (const [text, bytes] of rows) it(`${JSON.stringify(text)} -> ${String(bytes)}`, () => assert.equal(parseSize(text), bytes));
  it('formats bytes for messages', () => {
    assert.deepEqual([formatSize(7.5 * G), formatSize(512 * 2 ** 20), formatSize(100), formatSize(G / 3)], ['7.5 GiB', '512 MiB', '100 B', '341.33 MiB']);
  });
});

describe('the memory router in the config', () => {
  it('reads budgets, declarations and persistent models (aliases resolved)', () => {
    const c = load(`
routing:
  router:
    use: memory
    settings:
      memory:
        devices: { "0": 24GiB, "1": 16GiB }
        ram: 64GiB
        persistent: [emb]
  scheduler: { use: fifo }
models:
  llm: { cmd: "srv \${PORT}", resources: { vram: 7.5GiB, device: 0 } }
  any: { cmd: "srv \${PORT}", resources: { vram: 12GiB, device: [1, "0"] } }
  embed: { cmd: "srv \${PORT}", aliases: [emb], resources: { ram: 2GiB } }
  bare: { cmd: "srv \${PORT}" }
`);
    const mem = memoryOf(c);
    assert.deepEqual(mem.devices, new Map([['0', 24 * G], ['1', 16 * G]]));
    assert.equal(mem.ram, 64 * G);
    assert.deepEqual(mem.persistent, ['embed']);
    assert.deepEqual([...mem.needs], [
      ['any', { vram: 12 * G, devices: ['1', '0'], ram: 0 }],
      ['embed', { vram: 0, devices: undefined, ram: 2 * G }],
      ['llm', { vram: 7.5 * G, devices: ['0'], ram: 0 }],
    ]);
    assert.deepEqual(c.warnings, []);
  });

  it('budgets default to auto (read at start-up)', () => {
    const mem = memoryOf(load('routing: { router: { use: memory }, scheduler: { use: fifo } }\nmodels: { m: { cmd: "srv ${PORT}", resources: { vram: 1GiB, device: 7 } } }'));
    assert.equal(mem.devices, 'auto');
    assert.equal(mem.ram, 'auto');
    assert.deepEqual(mem.needs.get('m'), { vram: G, devices: ['7'], ram: 0 }, 'a device is not checked until the devices are known');
  });

  it('reports unknown devices and models, and bad sizes, at their key paths', () => {
    const issues = issuesOf(`
routing:
  router:
    use: memory
    settings:
      memory: { devices: { "0": 24GiB }, ram: lots, persistent: [nobody] }
  scheduler: { use: fifo }
models:
  a: { cmd: "srv \${PORT}", resources: { vram: 7GiB, device: [0, 2] } }
  b: { cmd: "srv \${PORT}", resources: { vram: seven } }
`);
    assert.deepEqual(issues.map((i) => [i.path, i.line]), [
      ['routing.router.settings.memory.ram', 6],
      ['routing.router.settings.memory.persistent[0]', 6],
      ['models.a.resources.device', 9],
      ['models.b.resources.vram', 10],
    ]);
    assert.match(issues[2]?.message ?? '', /device "2" has no budget in routing\.router\.settings\.memory\.devices \(0\)/);
    assert.match(issues[3]?.message ?? '', /a size such as 7\.5GiB/);
  });

  it('warns about a model that can never fit (its requests are refused), not an error', () => {
    const c = load(`
routing: { router: { use: memory, settings: { memory: { devices: { "0": 8GiB }, ram: 4GiB } } }, scheduler: { use: fifo } }
models:
  big: { cmd: "srv \${PORT}", resources: { vram: 12GiB } }
  fat: { cmd: "srv \${PORT}", resources: { ram: 6GiB } }
`);
    assert.deepEqual(c.warnings.map((w) => [w.path, w.line]), [['models.big.resources.vram', 4], ['models.fat.resources.ram', 5]]);
    assert.match(c.warnings[0]?.message ?? '', /needs 12 GiB, more than any device it may use has \(8 GiB\): it can never start/);
  });

  it('resources under another router, or memory under serial, are warnings', () => {
    const c = load('models: { m: { cmd: "srv ${PORT}", resources: { vram: 1GiB } } }');
    assert.deepEqual(c.warnings.map((w) => w.path), ['models.m.resources']);
    assert.match(c.warnings[0]?.message ?? '', /only the memory router reads resources/);
    const serial = load('routing: { router: { use: memory } }\nmodels: { m: { cmd: "srv ${PORT}" } }');
    assert.match(serial.warnings[0]?.message ?? '', /serial scheduler.*only refuse models that can never fit/);
  });
});

describe('${DEVICE} (the GPU the memory router places a model on)', () => {
  const memory = 'routing: { router: { use: memory, settings: { memory: { devices: { "0": 24GiB, "1": 24GiB } } } }, scheduler: { use: fifo } }';

  it('is kept, literally, in the cmd and env of a model placed on a GPU (the process layer replaces it at spawn)', () => {
    const c = load(`${memory}
macros: { gpu: "--device CUDA\${DEVICE}" }
models:
  m:
    cmd: "srv --port \${PORT} \${gpu} --tag x\${DEVICE}"
    env: ["CUDA_VISIBLE_DEVICES=\${DEVICE}"]
    resources: { vram: 8GiB, device: [0, 1] }
`);
    const m = c.models.get('m');
    assert.deepEqual(m?.cmd.slice(3), ['--device', 'CUDA${DEVICE}', '--tag', 'x${DEVICE}'], 'also through a macro');
    assert.deepEqual(m?.env, { CUDA_VISIBLE_DEVICES: '${DEVICE}' });
    assert.deepEqual(c.warnings, []);
  });

  it('anywhere but cmd and env is an error', () => {
    oneIssue(`${memory}\nmodels: { m: { cmd: "srv", proxy: "http://h/\${DEVICE}", resources: { vram: 1GiB } } }`, 'models.m.proxy', /\$\{DEVICE\} is only allowed in a model's cmd and env/);
    oneIssue(`${memory}\nmodels: { m: { cmd: "srv", proxy: "http://h", cmdStop: "stop \${DEVICE}", resources: { vram: 1GiB } } }`, 'models.m.cmdStop', /only allowed in a model's cmd and env/);
  });

  it('under another router it could only be empty (an empty CUDA_VISIBLE_DEVICES hides every GPU): an error at each use', () => {
    const issues = issuesOf(`
routing: { scheduler: { use: fifo } }
models:
  m:
    cmd: "srv --port \${PORT} --device CUDA\${DEVICE}"
    env: [A=1, "CUDA_VISIBLE_DEVICES=\${DEVICE}"]
`);
    assert.deepEqual(issues.map((i) => [i.path, i.line]), [['models.m.cmd', 5], ['models.m.env[1]', 6]]);
    assert.match(issues[0]?.message ?? '', /\$\{DEVICE\} is the GPU the memory router places the model on, but routing\.router\.use is group: only the memory router sets it/);
  });

  it('a model of the memory router that declares no vram is never placed: an error', () => {
    oneIssue(`${memory}\nmodels: { cpu: { cmd: "srv --port \${PORT} --device \${DEVICE}", resources: { ram: 2GiB } } }`, 'models.cpu.cmd', /declares no resources\.vram, so it is never placed on a GPU/);
    oneIssue(`${memory}\nmodels: { bare: { cmd: "srv --port \${PORT} --device \${DEVICE}" } }`, 'models.bare.cmd', /declares no resources\.vram/);
  });

  it('a config\'s own macro named DEVICE wins (llama-swap configs may have one)', () => {
    const c = load('macros: { DEVICE: "2" }\nmodels: { m: { cmd: "srv --port ${PORT} --device CUDA${DEVICE}" } }');
    assert.deepEqual(c.models.get('m')?.cmd.slice(3), ['--device', 'CUDA2']);
  });
});
