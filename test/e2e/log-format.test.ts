/**
 * The proxy's own log lines on stdout: JSON when stdout is not a terminal
 * (auto), readable lines with --log-format pretty (logTimeFormat honoured),
 * the start-up line saying where to look; /logs serves JSON lines either way.
 * The real CLI as a child process (stdout is a pipe here).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FAKE } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';
import { CLI, spawnCli, spawnWatched, type Spawned } from '../helpers/spawned.ts';

/** util-linux `script` runs a command on a pseudo-terminal: how a test sees what a person sees. */
const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const sq = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

function configFile(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-logfmt-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `startPort: ${port + 1}\nmodels:\n  a: { cmd: "${FAKE} --port \${PORT} --model-id a" }\n`);
  return file;
}

async function serve(t: TestContext, head: string, flags: readonly string[]): Promise<{ url: string; run: Spawned }> {
  const port = await freePortRange(3);
  const file = configFile(port);
  if (head !== '') writeFileSync(file, `${head}\n`, { flag: 'a' });
  const run = spawnCli(t, ['--config', file, '--listen', `127.0.0.1:${port}`, ...flags]);
  await run.waitFor(/modelswap listening/);
  return { url: `http://127.0.0.1:${port}`, run };
}

test('--log-format pretty: time, level, model and message on one line; the start-up line says what to try; /logs stays JSON', { timeout: 60_000 }, async (t) => {
  const { url, run } = await serve(t, '', ['--log-format', 'pretty']);
  const escaped = url.replaceAll('.', '\\.');
  assert.match(run.stdout(), new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  modelswap listening on ${escaped} — web UI: ${escaped}/ui/ — try: curl ${escaped}/v1/models url=${escaped} models=\\["a"\\] scheduler=serial\\n`));
  assert.equal((await fetch(`${url}/api/models/load/a`, { method: 'POST' })).status, 200);
  await run.waitFor(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[a\] model ready evicted=\[\] ms=\d+$/m);
  assert.match(run.stdout(), /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[a\] starting upstream pid=\d+ cmd=\[/m);
  assert.doesNotMatch(run.stdout(), /^\{/m, 'no JSON line on stdout');
  const history = await (await fetch(`${url}/logs`)).text();
  for (const line of history.trimEnd().split('\n')) assert.equal(typeof (JSON.parse(line) as { level: unknown }).level, 'number', line);
});

test('--log-format pretty shows the time in logTimeFormat\'s layout', { timeout: 60_000 }, async (t) => {
  const { run } = await serve(t, 'logTimeFormat: kitchen', ['--log-format=pretty']);
  assert.match(run.stdout(), /^\d{1,2}:\d\d[AP]M INFO  modelswap listening on /m);
});

test('auto on a pipe and --log-format json write JSON lines; a bad value exits 2', { timeout: 60_000 }, async (t) => {
  for (const flags of [[], ['-log-format', 'json']]) {
    const { url, run } = await serve(t, '', flags);
    const first = JSON.parse(run.stdout().split('\n')[0]!) as { msg: string; url: string };
    assert.equal(first.msg, `modelswap listening on ${url} — web UI: ${url}/ui/ — try: curl ${url}/v1/models`);
    assert.equal(first.url, url);
  }
  const bad = spawnCli(t, ['--config', 'x.yaml', '--log-format', 'fancy']);
  assert.equal(await bad.exited, 2);
  assert.match(bad.stderr(), /--log-format expects auto, pretty or json, got "fancy"/);
});

test('auto on a terminal: coloured readable lines', { timeout: 60_000, skip: HAS_SCRIPT ? false : 'util-linux script is not installed' }, async (t) => {
  const port = await freePortRange(3);
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  // CI=… makes Node report 2 colours (no colour) on any terminal: a terminal with colours is what this test is about.
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'NODE_DISABLE_COLORS', 'CI']) delete env[k];
  // `exec`: the proxy is script's own child, so the test can stop it by its pid.
  const cmd = `exec ${[process.execPath, CLI, '--config', configFile(port), '--listen', `127.0.0.1:${port}`].map(sq).join(' ')}`;
  const run = spawnWatched(t, 'script', ['-qec', cmd, '/dev/null'], { env });
  await run.waitFor(/\x1b\[2m\d\d:\d\d:\d\d\.\d{3}\x1b\[0m \x1b\[32mINFO \x1b\[0m modelswap listening on http:\/\/127\.0\.0\.1:\d+ — web UI: http:\/\/127\.0\.0\.1:\d+\/ui\/ — try: curl /);
  // Stopped directly: a terminal hang-up (SIGHUP) would only reload its config, as in llama-swap.
  const proxyPid = Number(readFileSync(`/proc/${run.child.pid}/task/${run.child.pid}/children`, 'utf8').trim());
  assert.ok(proxyPid > 0, 'script runs the proxy');
  process.kill(proxyPid, 'SIGTERM');
  assert.equal(await run.exited, 0, 'the proxy exits 0 and script with it');
  await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'the proxy is gone');
});
