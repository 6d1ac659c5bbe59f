/** Config reload through the real CLI: SIGHUP and --watch-config, with real upstreams. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { FAKE, until } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

interface Proxy {
  readonly base: string;
  readonly file: string;
  readonly child: ChildProcess;
  readonly out: () => string;
  write(yaml: string): void;
}

type Row = { model: string; pid: number; state: string; inFlight: number };

async function start(t: TestContext, yaml: string, flags: string[] = []): Promise<Proxy> {
  const [port, startPort] = [await freePortRange(1), await freePortRange(8)];
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-reload-'));
  const file = join(dir, 'config.yaml');
  const write = (y: string): void => writeFileSync(file, `startPort: ${startPort}\n${y.replaceAll('${fake}', FAKE)}`);
  write(yaml);
  const child = spawn(process.execPath, [CLI, '--config', file, '--listen', `127.0.0.1:${port}`, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  await until(() => /modelswap listening/.test(out), 10_000, 'the proxy to listen');
  return { base: `http://127.0.0.1:${port}`, file, child, out: () => out, write };
}

const rows = async (base: string): Promise<Row[]> => ((await (await fetch(`${base}/running`)).json()) as { running: Row[] }).running;
const chat = (base: string, model: string, stream = false): Promise<Response> =>
  fetch(`${base}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'x' }] }),
  });

const TWO = `
routing: { scheduler: { use: fifo } }
groups:
  all: { swap: false, members: [keep, change] }
models:
  keep:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
  change:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 20 --token-ms 50
`;

test('SIGHUP: the unchanged model keeps its process; the changed one finishes its stream, then restarts with the new definition', async (t) => {
  const p = await start(t, TWO);
  assert.equal((await chat(p.base, 'keep')).status, 200);
  const stream = await chat(p.base, 'change', true);
  assert.equal(stream.status, 200);
  const body = stream.text();
  const before = await rows(p.base);
  const keepPid = before.find((r) => r.model === 'keep')!.pid;
  const changePid = before.find((r) => r.model === 'change')!.pid;

  p.write(TWO.replace('--tokens 20 --token-ms 50', '--tokens 3'));
  p.child.kill('SIGHUP');
  await until(() => /config reloaded/.test(p.out()), 10_000, 'the reload');
  assert.match(await body, /\[DONE\]/, 'the in-flight stream was not cut');
  assert.equal((await chat(p.base, 'keep')).status, 200, 'the unchanged model serves during and after the reload');

  const after = await chat(p.base, 'change');
  assert.equal(after.status, 200);
  const now = await rows(p.base);
  assert.equal(now.find((r) => r.model === 'keep')?.pid, keepPid, 'unchanged model: same process');
  assert.notEqual(now.find((r) => r.model === 'change')?.pid, changePid, 'changed model: new process');
  assert.throws(() => process.kill(changePid, 0), 'the old process is gone');
});

test('--watch-config: an invalid edit is rejected with all its errors and the old config keeps serving; a valid one applies', async (t) => {
  const p = await start(t, TWO, ['--watch-config']);
  assert.equal((await chat(p.base, 'keep')).status, 200);
  p.write(`${TWO}\nlogLevel: loud\nhealthCheckTimeout: soon\n`);
  await until(() => /config reload rejected/.test(p.out()), 10_000, 'the rejection');
  assert.match(p.out(), /logLevel/);
  assert.match(p.out(), /healthCheckTimeout/);
  assert.equal((await chat(p.base, 'keep')).status, 200, 'old config still in force');

  p.write(TWO.replace(/  change:\n.*\n/, '').replace('members: [keep, change]', 'members: [keep]'));
  await until(() => /config reloaded/.test(p.out()), 10_000, 'the valid reload');
  const gone = await chat(p.base, 'change');
  assert.equal(gone.status, 404, 'a removed model is not found any more');
  assert.equal((await chat(p.base, 'keep')).status, 200);
});
