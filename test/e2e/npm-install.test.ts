/**
 * The documented install path, for real: `npm pack` (its prepack builds
 * dist/), `npm install` of the tarball into a fresh prefix, then the installed
 * `modelswap` bin on the demo config answers a chat request from the openai
 * client. The pack runs in a copy of the working tree, so this test never
 * rewrites the repository's own dist/ while another test may be using it.
 * Dependencies come from npm's cache when it has them (--prefer-offline).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import OpenAI from 'openai';
import { freePortRange } from '../helpers/ports.ts';
import { spawnWatched } from '../helpers/spawned.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The Node running the tests first on PATH: the bin's `#!/usr/bin/env node`, and the demo's `node`, use it. */
const PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;

test('npm pack, npm install of the tarball, and the installed bin serves the demo config', { timeout: 240_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'modelswap-pack-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  // 1. A copy of the working tree (tracked and new files, not ignored ones), sharing node_modules for the build.
  const tree = join(tmp, 'tree');
  const files = (await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })).stdout.split('\0').filter((f) => f !== '');
  for (const f of files) {
    mkdirSync(dirname(join(tree, f)), { recursive: true });
    cpSync(join(ROOT, f), join(tree, f), { force: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));

  // 2. Pack: what the registry would get.
  const env = { ...process.env, PATH, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const packed = await execa('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: tree, env, timeout: 120_000 });
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
  const paths = info.files.map((f) => f.path);
  for (const need of ['dist/cli.js', 'dist/cli-main.js', 'dist/demo/fake-llama-server.js', 'schema/config.schema.json', 'package.json', 'README.md', 'ui/index.html', 'ui/main.js', 'ui/pages/timeline.js']) {
    assert.ok(paths.includes(need), `${need} missing from the package: ${paths.join(' ')}`);
  }
  assert.deepEqual(paths.filter((p) => /^(src|test|bench|node_modules)\//.test(p)), [], 'only the build goes in');

  // 3. Install it into an empty prefix, as a user would.
  const prefix = join(tmp, 'prefix');
  await execa('npm', ['install', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(tmp, info.filename)], { cwd: tmp, env, timeout: 120_000 });
  const installed = join(prefix, 'node_modules', 'modelswap');
  const bin = join(prefix, 'node_modules', '.bin', 'modelswap');

  // `npx modelswap` finds the installed bin
  const version = await execa('npx', ['--no-install', 'modelswap', '--version'], { cwd: prefix, env, timeout: 60_000 });
  assert.match(version.stdout, /^modelswap \d+\.\d+\.\d+$/);

  // 4. The demo config, with its fake server taken from the package's dist/ and free ports.
  const [port, start] = [await freePortRange(1), await freePortRange(3)];
  const demo = readFileSync(join(ROOT, 'demo', 'config.yaml'), 'utf8');
  const config = demo
    .replace(/^(\s*fake:\s*)node src\/demo\/fake-llama-server\.ts\s*$/m, `$1node ${join(installed, 'dist', 'demo', 'fake-llama-server.js')}`)
    .replace(/^startPort: \d+$/m, `startPort: ${start}`);
  assert.notEqual(config, demo);
  assert.match(config, /dist\/demo\/fake-llama-server\.js/, 'the demo config names the fake server as this test expects');
  writeFileSync(join(tmp, 'demo.yaml'), config);

  const r = spawnWatched(t, bin, ['--config', join(tmp, 'demo.yaml'), '--listen', `127.0.0.1:${port}`], { cwd: tmp, env });
  await r.waitFor(/modelswap listening/, 30_000);
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
  const reply = await client.chat.completions.create({ model: 'chat-small', messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(reply.model, 'chat-small');
  assert.match(reply.choices[0]?.message.content ?? '', /chat-small@/);
  // the web UI: its page, its own modules, and Preact, hooks and htm from the installed dependencies
  const root = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/ui/');
  assert.match(await (await fetch(`http://127.0.0.1:${port}/ui/`)).text(), /<script type="importmap">/);
  for (const path of ['/ui/main.js', '/ui/style.css', '/ui/vendor/preact.js', '/ui/vendor/preact-hooks.js', '/ui/vendor/htm.js']) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    assert.equal(res.status, 200, path);
    assert.ok((await res.text()).length > 100, path);
  }
  r.child.kill('SIGTERM');
  assert.equal(await r.exited, 0, r.stderr());
});
