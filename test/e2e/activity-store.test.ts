/**
 * store.path through a real modelswap: the history survives a restart (and
 * ids go on), and a path that cannot be written stops the start with a
 * message naming it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ActivityStoreError } from '../../src/activity/store.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startModelswap } from '../../src/main.ts';
import { postJson, startFromYaml } from '../helpers/modelswap.ts';

interface Page { total: number; data: { id: number; model: string; resp_status_code: number }[] }

test('the history in a store file survives a restart', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const yaml = `
store: { path: ${join(dir, 'activity.sqlite')} }
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a" }
`;
  const first = await startFromYaml(undefined, yaml);
  try {
    assert.equal((await postJson(`${first.url}/v1/chat/completions`, { model: 'a', messages: [] })).status, 200);
    assert.equal((await postJson(`${first.url}/v1/chat/completions`, { model: 'nope', messages: [] })).status, 404, 'an unknown model never reaches the router: no row');
  } finally {
    await first.close(2000);
  }
  const second = await startFromYaml(t, yaml);
  const before = (await (await fetch(`${second.url}/api/metrics/activity`)).json()) as Page;
  assert.deepEqual(before.data.map((r) => [r.id, r.model, r.resp_status_code]), [[1, 'a', 200]]);
  assert.equal((await postJson(`${second.url}/v1/chat/completions`, { model: 'a', messages: [] })).status, 200);
  const after = (await (await fetch(`${second.url}/api/metrics/activity`)).json()) as Page;
  assert.deepEqual(after.data.map((r) => r.id), [2, 1]);
});

test('a store.path that cannot be written is a start-up error naming it', async () => {
  const config = parseConfig(`store: { path: /nonexistent-dir/activity.sqlite }\nmodels: { a: { cmd: "x --port \${PORT}" } }`, { env: {} });
  await assert.rejects(startModelswap({ config, host: '127.0.0.1', port: 0, stdout: () => {} }), (err: Error) => {
    assert.ok(err instanceof ActivityStoreError);
    assert.match(err.message, /cannot use "\/nonexistent-dir\/activity\.sqlite" as the activity store \(store\.path\)/);
    return true;
  });
});

test('the CLI exits 2 when store.path cannot be written, naming it', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-store-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `store: { path: ${join(dir, 'no-such-folder', 'a.sqlite')} }\nmodels: { a: { cmd: "x --port \${PORT}" } }\n`);
  const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
  const child = spawn(process.execPath, [cli, '--config', file, '--listen', '127.0.0.1:0', '--state-file', join(dir, 'state.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.resume();
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 2, stderr);
  assert.match(stderr, /no-such-folder\/a\.sqlite.*activity store/);
});
