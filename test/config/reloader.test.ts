import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Config } from '../../src/config/types.ts';
import { ConfigReloader } from '../../src/config-reloader.ts';
import { until } from '../helpers/modelswap.ts';

const GOOD = (n: number): string => `models:\n  m${n}: { cmd: "s --port \${PORT}" }\n`;

function setup(): { file: string; applied: Config[]; lines: string[]; reloader: ConfigReloader } {
  const file = join(mkdtempSync(join(tmpdir(), 'modelswap-reloader-')), 'config.yaml');
  writeFileSync(file, GOOD(1));
  const applied: Config[] = [];
  const lines: string[] = [];
  const reloader = new ConfigReloader({
    sources: { config: file },
    env: {},
    logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
    apply: async (c) => {
      applied.push(c);
      await new Promise((r) => setImmediate(r));
      return { kept: [], changed: [], added: [...c.models.keys()], removed: [] };
    },
  });
  return { file, applied, lines, reloader };
}

test('a valid file is applied; an invalid one is rejected with every problem and nothing applied', async () => {
  const { file, applied, lines, reloader } = setup();
  const ok = await reloader.reload();
  assert.equal(ok.kind, 'applied');
  assert.deepEqual([...applied[0]!.models.keys()], ['m1']);
  writeFileSync(file, 'logLevel: loud\nhealthCheckTimeout: soon\nmodels: {}\n');
  const bad = await reloader.reload();
  assert.equal(bad.kind, 'rejected');
  assert.equal(applied.length, 1);
  assert.ok(bad.kind === 'rejected' && bad.error.issues.length === 2);
  assert.ok(lines.some((l) => /config reload rejected/.test(l) && /logLevel/.test(l) && /healthCheckTimeout/.test(l)));
});

test('reloads never overlap: requests during a reload collapse into one more reload after it', async () => {
  const { file, applied, reloader } = setup();
  const first = reloader.reload();
  writeFileSync(file, GOOD(2));
  const second = reloader.reload();
  const third = reloader.reload();
  assert.equal(second, third, 'joined');
  await Promise.all([first, second]);
  assert.equal(applied.length, 2);
  assert.deepEqual([...applied[1]!.models.keys()], ['m2']);
});

test('watch() reloads when the file changes', async () => {
  const { file, applied, reloader } = setup();
  reloader.watch(50);
  try {
    writeFileSync(file, `${GOOD(3)}# a longer file\n`);
    await until(() => applied.length === 1, 5000, 'the watcher to reload');
    assert.deepEqual([...applied[0]!.models.keys()], ['m3']);
  } finally {
    reloader.close();
  }
});

test('watch() with a config folder reloads when a file is added, changed or removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-reloader-dir-'));
  writeFileSync(join(dir, 'a.yaml'), GOOD(1));
  writeFileSync(join(dir, 'ignored.txt'), '');
  const applied: Config[] = [];
  const reloader = new ConfigReloader({
    sources: { configDir: dir },
    env: {},
    logger: pino({ level: 'silent' }),
    apply: async (c) => {
      applied.push(c);
      return { kept: [], changed: [], added: [], removed: [] };
    },
  });
  const models = (): string[] => [...applied.at(-1)!.models.keys()].sort();
  reloader.watch(50);
  try {
    writeFileSync(join(dir, 'b.yml'), GOOD(2));
    await until(() => applied.length === 1, 5000, 'a reload after a file was added');
    assert.deepEqual(models(), ['m1', 'm2']);
    writeFileSync(join(dir, 'a.yaml'), `${GOOD(3)}# longer\n`);
    await until(() => applied.length === 2, 5000, 'a reload after a file changed');
    assert.deepEqual(models(), ['m2', 'm3']);
    rmSync(join(dir, 'b.yml'));
    await until(() => applied.length === 3, 5000, 'a reload after a file was removed');
    assert.deepEqual(models(), ['m3']);
    writeFileSync(join(dir, 'ignored.txt'), 'not yaml: changes nothing');
    writeFileSync(join(dir, 'c.yaml'), GOOD(4));
    await until(() => applied.length === 4, 5000, 'a reload after another file was added');
    assert.deepEqual(models(), ['m3', 'm4'], 'the .txt file is not read');
  } finally {
    reloader.close();
  }
});

test('a valid config whose apply throws (a bug) is reported as failed and logged, never an unhandled rejection', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'modelswap-reloader-')), 'config.yaml');
  writeFileSync(file, GOOD(1));
  const lines: string[] = [];
  const reloader = new ConfigReloader({
    sources: { config: file }, env: {},
    logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
    apply: () => Promise.reject(new Error('apply broke')),
  });
  const out = await reloader.reload();
  assert.ok(out.kind === 'failed' && (out.error as Error).message === 'apply broke');
  assert.ok(lines.some((l) => /config reload failed while it was applied/.test(l) && /apply broke/.test(l)));
});
