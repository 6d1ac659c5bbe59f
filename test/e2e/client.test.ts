/**
 * `modelswap ps|load|unload|logs` as a person and a script use them: the real
 * CLI as a child process against a real modelswap (in-process, with the fake
 * llama-server), outputs asserted as printed (tables and --json).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { freePortRange } from '../helpers/ports.ts';
import { startFromYaml } from '../helpers/modelswap.ts';
import { spawnCli } from '../helpers/spawned.ts';

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a client command to its end (bounded by the test's timeout). */
async function client(t: TestContext, args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  const e = { ...process.env, MODELSWAP_API_KEY: undefined, MODELSWAP_URL: undefined, ...env };
  const r = spawnCli(t, args, { env: Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv });
  const code = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

const YAML = `
models:
  a: { cmd: "\${fake} --port \${PORT} --model-id a", ttl: 300 }
  b: { cmd: "\${fake} --port \${PORT} --model-id b" }
`;

test('nothing listening: exit 1 and a message saying how to start modelswap or where to point', { timeout: 30_000 }, async (t) => {
  const port = await freePortRange(1);
  const r = await client(t, ['ps', '--url', `127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `modelswap: nothing is listening at http://127.0.0.1:${port} — start modelswap with \`modelswap --config <file>\` or pass --url\n`);
  // MODELSWAP_URL is the default of --url
  const viaEnv = await client(t, ['load', 'a'], { MODELSWAP_URL: `http://127.0.0.1:${port}` });
  assert.equal(viaEnv.code, 1);
  assert.match(viaEnv.stderr, new RegExp(`nothing is listening at http://127\\.0\\.0\\.1:${port} `));
});

test('load, then ps shows it ready with its pid and TTL left; unload stops it', { timeout: 60_000 }, async (t) => {
  const app = await startFromYaml(t, YAML);
  const url = ['--url', app.url];

  const empty = await client(t, ['ps', ...url]);
  assert.deepEqual([empty.code, empty.stdout], [0, 'no model is loaded\n']);

  const loaded = await client(t, ['load', 'a', ...url]);
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.match(loaded.stdout, /^a is ready \(\d+(ms|\.\ds)\)\n$/);
  assert.equal(app.router.status('a'), 'ready');
  const pid = app.router.running().find((r) => r.model === 'a')!.pid!;

  const table = await client(t, ['ps', ...url]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^MODEL +STATE +PID +IN-FLIGHT +QUEUED +TTL LEFT$/);
  assert.equal(lines.length, 2);
  const cells = lines[1]!.split(/ {3,}/);
  assert.deepEqual(cells.slice(0, 5), ['a', 'ready', String(pid), '0', '0']);
  assert.match(cells[5]!, /^4m5\ds$|^5m00s$/, 'ttl 300 s, counting down since the load');

  const json = await client(t, ['ps', '--json', ...url]);
  const running = (JSON.parse(json.stdout) as { running: Array<Record<string, unknown>> }).running;
  assert.equal(running.length, 1);
  assert.deepEqual([running[0]!.model, running[0]!.state, running[0]!.pid, running[0]!.inFlight, running[0]!.queued, running[0]!.ttl], ['a', 'ready', pid, 0, 0, 300]);
  assert.ok(typeof running[0]!.ttlLeft === 'number' && running[0]!.ttlLeft > 250 && running[0]!.ttlLeft <= 300);

  // b has no ttl: never unloaded for idleness
  assert.equal((await client(t, ['load', 'b', '--json', ...url])).stdout.includes('"model":"b"'), true);
  const both = await client(t, ['ps', ...url]);
  assert.match(both.stdout, /\nb +ready +\d+ +0 +0 +never\n/);

  const unloaded = await client(t, ['unload', 'a', ...url]);
  assert.deepEqual([unloaded.code, unloaded.stdout], [0, 'unloaded a\n']);
  assert.equal(app.router.status('a'), 'stopped');
  assert.throws(() => process.kill(pid, 0), 'its server process is gone');
  const all = await client(t, ['unload', '--json', ...url]);
  assert.deepEqual([all.code, JSON.parse(all.stdout)], [0, { msg: 'ok', unloaded: null }]);
  assert.equal((await client(t, ['ps', ...url])).stdout, 'no model is loaded\n');
});

test('an unknown model gets the server\'s own message and exit 1; bad usage exits 2 with the help', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, YAML);
  const r = await client(t, ['load', 'nope', '--url', app.url]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'modelswap: model "nope" not found; available models: a, b\n');
  const u = await client(t, ['unload', 'nope', '--url', app.url]);
  assert.match(u.stderr, /model "nope" not found/);
  const logs = await client(t, ['logs', 'nope', '--url', app.url]);
  assert.deepEqual([logs.code, logs.stderr], [1, 'modelswap: unknown log id "nope": use proxy, upstream, or a model id\n']);
  const usage = await client(t, ['load', '--url', app.url]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /modelswap load needs a model[\s\S]*Usage: modelswap ps/);
  const help = await client(t, ['--help']);
  for (const cmd of ['ps', 'load <model>', 'unload [<model>]', 'logs [-f] [<model>]', 'top']) assert.match(help.stdout, new RegExp(`^  modelswap ${cmd.replace(/[[\]]/g, '\\$&')}\\s`, 'm'), cmd);
  const own = await client(t, ['top', '--help']);
  assert.deepEqual([own.code, /--frames <n>/.test(own.stdout), /MODELSWAP_API_KEY/.test(own.stdout)], [0, true, true]);
});

test('with apiKeys set: no key or a wrong one says what to do about MODELSWAP_API_KEY; the right one works', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, `apiKeys: [sk-right]\n${YAML}`);
  const none = await client(t, ['ps', '--url', app.url]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, `modelswap: modelswap at ${app.url} needs an API key: set MODELSWAP_API_KEY to one of the apiKeys in its config\n`);
  const wrong = await client(t, ['logs', '--url', app.url], { MODELSWAP_API_KEY: 'sk-wrong' });
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stderr, `modelswap: modelswap at ${app.url} refused the API key in MODELSWAP_API_KEY: it is not one of the apiKeys in its config\n`);
  const right = await client(t, ['ps', '--url', app.url], { MODELSWAP_API_KEY: 'sk-right' });
  assert.deepEqual([right.code, right.stdout], [0, 'no model is loaded\n']);
});

test('logs prints the history, as served (JSON lines) or readable with --log-format pretty; one model\'s own output', { timeout: 30_000 }, async (t) => {
  const app = await startFromYaml(t, YAML);
  await client(t, ['load', 'a', '--url', app.url]);

  const raw = await client(t, ['logs', '--url', app.url]);
  assert.equal(raw.code, 0, raw.stderr);
  const records = raw.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { msg: string; model?: string });
  assert.ok(records.some((r) => r.msg.startsWith('modelswap listening on ')));
  assert.ok(records.some((r) => r.msg === 'model ready' && r.model === 'a'));

  const pretty = await client(t, ['logs', '--log-format', 'pretty', '--url', app.url]);
  assert.match(pretty.stdout, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}modelswap listening on http:\/\/127\.0\.0\.1:\d+ — web UI: http:\/\/127\.0\.0\.1:\d+\/ui\/ — try: curl http:\/\/127\.0\.0\.1:\d+\/v1\/models /m);
  assert.match(pretty.stdout, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[a\] model ready .*ms=\d+/m);
  assert.doesNotMatch(pretty.stdout, /^\{/m);

  const own = await client(t, ['logs', 'a', '--url', app.url]);
  assert.equal(own.code, 0, own.stderr);
  assert.match(own.stdout, /server is listening on http:\/\/127\.0\.0\.1:\d+/, 'the fake server\'s own start-up output');
  assert.doesNotMatch(own.stdout, /modelswap listening/);
});
