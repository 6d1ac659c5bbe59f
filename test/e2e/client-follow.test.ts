/**
 * The client commands that follow a stream: `modelswap logs -f` and
 * `modelswap top` (plain frames, since stdout is a pipe here), as real child
 * processes against a real modelswap. Each waits on output lines, never on
 * sleeps, and ends by SIGINT (exit 0) or by the server going away (exit 1).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { postJson, startFromYaml, type Started } from '../helpers/modelswap.ts';
import { CLI, spawnCli, spawnWatched, type Spawned } from '../helpers/spawned.ts';

/** util-linux `script` runs a command on a pseudo-terminal: how a test sees what a person sees. */
const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

const YAML = `
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a --load-ms 700" }
  b: { cmd: "\${fake} --port \${PORT} --model-id b" }
`;

/** A duration as the client prints it: 905ms, 1.2s. */
const D = '(?:\\d+ms|\\d+\\.\\ds)';

function follow(t: TestContext, app: Started, args: readonly string[]): Spawned {
  const env = { ...process.env };
  delete env.MODELSWAP_API_KEY;
  return spawnCli(t, [...args, '--url', app.url], { env });
}

async function load(app: Started, model: string): Promise<void> {
  const r = await postJson(`${app.url}/api/models/load/${model}`, {});
  assert.equal(r.status, 200, JSON.stringify(r.json));
}

test('logs -f prints the history, then follows new lines until Ctrl-C (exit 0)', { timeout: 60_000 }, async (t) => {
  const app = await startFromYaml(t, YAML);
  const r = follow(t, app, ['logs', '-f']);
  await r.waitFor(/"msg":"modelswap listening on /);
  assert.doesNotMatch(r.stdout(), /"msg":"model ready"/);
  await load(app, 'b');
  await r.waitFor(/"model":"b".*"msg":"model ready"/);
  r.child.kill('SIGINT');
  assert.equal(await r.exited, 0);
  assert.equal(r.stderr(), '');
});

test('logs -f <model> follows that model\'s output only (plain lines pass --log-format pretty unchanged); the server going away ends it with exit 1', { timeout: 60_000 }, async (t) => {
  const app = await startFromYaml(t, YAML);
  await load(app, 'a');
  const r = follow(t, app, ['logs', '-f', 'b', '--log-format', 'pretty']);
  const other = follow(t, app, ['logs', '-f', 'a']);
  await other.waitFor(/server is listening/);
  await load(app, 'b');
  await r.waitFor(/fake llama-server pid \d+, model 'b'\n.*server is listening/);
  assert.doesNotMatch(r.stdout(), /model 'a'|modelswap listening/);
  await app.close(2000);
  assert.equal(await r.exited, 1);
  assert.equal(r.stderr(), `modelswap: the connection to modelswap at ${app.url} ended (it stopped or restarted)\n`);
  assert.equal(await other.exited, 1);
});

test('top shows a load happening: progress against the estimate, then ready with its pid; Ctrl-C exits 0', { timeout: 60_000 }, async (t) => {
  const app = await startFromYaml(t, YAML);
  await load(app, 'a'); // an earlier load gives the estimate
  await app.router.unload(['a']);
  const r = follow(t, app, ['top']);
  await r.waitFor(/^a +stopped +- +0 +0 *$/m);
  assert.match(r.stdout(), /^modelswap top — http:\/\/127\.0\.0\.1:\d+ — \d\d:\d\d:\d\d\n\nMODEL +STATE +PID +IN-FLIGHT +QUEUED +LOAD\n/);
  const loading = load(app, 'a');
  await r.waitFor(new RegExp(`^a +\\w+ +\\S+ +0 +1 +${D} of ~${D} \\[[#-]{10}\\]$`, 'm'));
  await r.waitFor(/^a +starting /m);
  await r.waitFor(new RegExp(`^a +ready +\\d+ +0 +0 +loaded in ${D}$`, 'm'));
  await loading;
  const pid = app.router.running().find((x) => x.model === 'a')!.pid!;
  assert.match(r.stdout(), new RegExp(`^a +ready +${pid} `, 'm'));
  assert.match(r.stdout(), /^Recent:\n(?: {2}.*\n)*? {2}\d\d:\d\d:\d\d load a started\n/m);
  assert.match(r.stdout(), new RegExp(`^ {2}\\d\\d:\\d\\d:\\d\\d load a ready after ${D}$`, 'm'));
  r.child.kill('SIGINT');
  assert.equal(await r.exited, 0);
  assert.equal(r.stderr(), '');
});

test('top --once prints one frame; --json prints events as JSON lines; top ends with exit 1 when the server goes away', { timeout: 60_000 }, async (t) => {
  const app = await startFromYaml(t, YAML);
  await load(app, 'b');
  const once = follow(t, app, ['top', '--once']);
  assert.equal(await once.exited, 0);
  assert.equal(once.stdout().match(/^modelswap top — /gm)?.length, 1);
  assert.match(once.stdout(), /^a +stopped +- +0 +0\n^b +ready +\d+ +0 +0\n/m);

  const json = follow(t, app, ['top', '--json', '--frames', '1']);
  assert.equal(await json.exited, 0);
  const lines = json.stdout().trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; data: { models: Array<{ model: string; state: string }> } });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.event, 'snapshot');
  assert.deepEqual(lines[0]!.data.models.map((m) => [m.model, m.state]), [['a', 'stopped'], ['b', 'ready']]);

  const live = follow(t, app, ['top']);
  await live.waitFor(/^b +ready/m);
  await app.close(2000);
  assert.equal(await live.exited, 1);
  assert.equal(live.stderr(), `modelswap: the connection to modelswap at ${app.url} ended (it stopped or restarted)\n`);
});

test('top on a terminal redraws in place on the alternate screen and restores the screen on exit', { timeout: 60_000, skip: HAS_SCRIPT ? false : 'util-linux script is not installed' }, async (t) => {
  const app = await startFromYaml(t, YAML);
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.MODELSWAP_API_KEY;
  const cmd = [process.execPath, CLI, 'top', '--frames', '2', '--url', app.url].map((a) => `'${a}'`).join(' ');
  const r = spawnWatched(t, 'script', ['-qec', cmd, '/dev/null'], { env });
  assert.equal(await r.exited, 0, r.stderr());
  const out = r.stdout();
  assert.ok(out.startsWith('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2Jmodelswap top — '), JSON.stringify(out.slice(0, 60)));
  assert.equal(out.split('\x1b[H\x1b[2J').length - 1, 2, 'two frames, each drawn over the last');
  assert.ok(out.trimEnd().endsWith('\x1b[?25h\x1b[?1049l'), JSON.stringify(out.slice(-40)));
});
