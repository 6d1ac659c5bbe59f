/** The `modelswap` CLI as a real process: flags, exit codes, graceful shutdown. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { SEMI_SPACE_MB } from '../../src/young-generation.ts';
import { FAKE, until } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-cli-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml.replaceAll('${fake}', FAKE));
  return file;
}

interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/** CLIs still running when the file's tests end (a test failed before stopping its own): killed, so the file can end. */
const alive = new Set<ChildProcess>();
after(() => {
  for (const child of alive) child.kill('SIGKILL'); // its upstreams die with it (pdeathsig, watchdog)
});

function run(args: string[], nodeArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): Run {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitForOutput(r: Run, re: RegExp, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!re.test(r.stdout())) {
    if (Date.now() > deadline) throw new Error(`no ${re} in output:\n${r.stdout()}\n${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

test('--version and --help exit 0', async () => {
  const v = run(['--version']);
  assert.equal(await v.exited, 0);
  assert.match(v.stdout(), /^modelswap \d+\.\d+\.\d+/);
  const h = run(['--help']);
  assert.equal(await h.exited, 0);
  assert.match(h.stdout(), /--config/);
});

test('a bad config exits 2 and reports every problem at once', async () => {
  const file = writeConfig(`
healthCheckTimeout: soon
logLevel: loud
models:
  a:
    cmd: llama-server --port \${PORT}
    ttl: -5
  b:
    proxy: http://127.0.0.1:1
`);
  const r = run(['--config', file]);
  assert.equal(await r.exited, 2);
  const err = r.stderr();
  assert.match(err, /healthCheckTimeout/);
  assert.match(err, /logLevel/);
  assert.match(err, /models\.a\.ttl/);
  assert.match(err, /models\.b/);
});

test('a missing config file and a missing --config exit 2 with a clear message', async () => {
  const r = run(['--config', '/nonexistent/modelswap.yaml']);
  assert.equal(await r.exited, 2);
  assert.match(r.stderr(), /\/nonexistent\/modelswap\.yaml/);
  const none = run([]);
  assert.equal(await none.exited, 2);
  assert.match(none.stderr(), /--config or --config-dir is required/);
});

test('a port already in use exits 1 saying so', async (t) => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const file = writeConfig('models: {}\n');
  const r = run(['--config', file, '--listen', `127.0.0.1:${port}`]);
  assert.equal(await r.exited, 1);
  assert.match(r.stderr(), /already in use/);
});

/** The running process's argv, from /proc (NUL-separated). */
const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');

test('the CLI re-executes Node in place with the young-generation cap, unless the user chose one', async (t) => {
  const port = await freePortRange(1);
  const file = writeConfig('models: {}\n');
  const cases: { nodeArgs: string[]; env: NodeJS.ProcessEnv; want: string }[] = [
    { nodeArgs: [], env: process.env, want: `--max-semi-space-size=${SEMI_SPACE_MB}` },
    { nodeArgs: ['--max-semi-space-size=4'], env: process.env, want: '--max-semi-space-size=4' },
    { nodeArgs: [], env: { ...process.env, NODE_OPTIONS: '--max_semi_space_size=8' }, want: '' },
  ];
  for (const c of cases) {
    const r = run(['--config', file, '--listen', `127.0.0.1:${port}`], c.nodeArgs, c.env);
    t.after(() => r.child.kill('SIGKILL'));
    await waitForOutput(r, /modelswap listening/);
    // The same pid (execve replaced the program), now with the flag before the script.
    const argv = cmdline(r.child.pid!);
    const flags = argv.slice(1, argv.indexOf(CLI));
    assert.deepEqual(flags.filter((a) => a.includes('semi')), c.want === '' ? [] : [c.want], argv.join(' '));
    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0, r.stderr());
  }
});

test('SIGTERM: in-flight stream finishes, queued request gets 503, upstream stopped, exit 0', async () => {
  const [port, start] = [await freePortRange(1), await freePortRange(4)];
  const file = writeConfig(`
startPort: ${start}
models:
  talker:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 30 --token-ms 50
  other:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
`);
  const r = run(['--config', file, '--listen', `127.0.0.1:${port}`]);
  await waitForOutput(r, /modelswap listening/);
  const base = `http://127.0.0.1:${port}`;
  const post = (model: string, stream: boolean) =>
    fetch(`${base}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'x' }] }),
    });

  const streaming = await post('talker', true);
  assert.equal(streaming.status, 200);
  const body = streaming.text();
  // serial: this request queues behind the in-flight stream
  const queued = post('other', false);
  type Row = { model: string; pid: number; queued: number };
  const rows = async (): Promise<Row[]> => ((await (await fetch(`${base}/running`)).json()) as { running: Row[] }).running;
  await until(async () => (await rows()).some((x) => x.model === 'other' && x.queued === 1), 5000, 'the second request to queue');
  const upstreamPid = (await rows()).find((x) => x.model === 'talker')?.pid;
  assert.ok(upstreamPid !== undefined);

  r.child.kill('SIGTERM');
  const q = await queued;
  assert.equal(q.status, 503);
  assert.match(await body, /\[DONE\]/);
  assert.equal(await r.exited, 0);
  assert.throws(() => process.kill(upstreamPid, 0), 'upstream process must be gone');
});

test('SIGHUP does not kill modelswap (which would orphan its upstreams); groups under serial get a warning', async () => {
  const [port, start] = [await freePortRange(1), await freePortRange(2)];
  const file = writeConfig(`
startPort: ${start}
groups:
  pair: { swap: false, members: [one] }
models:
  one:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
`);
  const r = run(['--config', file, '--listen', `127.0.0.1:${port}`]);
  // Logged just after "modelswap listening": the two lines may arrive in separate reads.
  await waitForOutput(r, /serial scheduler keeps one model loaded at a time and ignores groups/);
  const base = `http://127.0.0.1:${port}`;
  const ok = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'one', messages: [] }),
  });
  assert.equal(ok.status, 200);
  r.child.kill('SIGHUP');
  await waitForOutput(r, /SIGHUP received/);
  assert.equal((await fetch(`${base}/health`)).status, 200, 'still serving after SIGHUP');
  r.child.kill('SIGTERM');
  assert.equal(await r.exited, 0);
});
