/**
 * The CLI as a llama-swap user runs it, as a real process on 127.0.0.1:
 * Go-style flags, --config-dir (with --watch-config), HTTPS, and the exit
 * code 2 for every kind of bad input. The client is the official `openai` package.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseConfig } from '../../src/config/load.ts';
import { startModelswap, TlsError } from '../../src/main.ts';
import { FAKE, until } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';
import { spawnCli, spawnWatched } from '../helpers/spawned.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'modelswap-cli-ls-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
/** A fresh folder with these YAML files (`${fake}` expanded). */
function folder(files: Record<string, string>): string {
  const dir = join(tmp, `d${n++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text.replaceAll('${fake}', FAKE));
  return dir;
}
const fakeModel = (id: string): string => `models:\n  ${id}:\n    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}\n`;
const client = (baseURL: string, fetchOptions?: Record<string, unknown>) =>
  new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 20_000, ...(fetchOptions === undefined ? {} : { fetch: undiciFetch as never, fetchOptions }) });
const modelIds = async (c: OpenAI): Promise<string[]> => (await c.models.list()).data.map((m) => m.id).sort();

test('llama-swap\'s single-dash flags start it: -config, -listen, -watch-config', async (t) => {
  const [port, start] = [await freePortRange(1), await freePortRange(2)];
  const dir = folder({ 'config.yaml': `startPort: ${start}\n${fakeModel('one')}` });
  const r = spawnCli(t, ['-config', join(dir, 'config.yaml'), `-listen=127.0.0.1:${port}`, '-watch-config']);
  await r.waitFor(/modelswap listening/);
  const c = client(`http://127.0.0.1:${port}`);
  const reply = await c.chat.completions.create({ model: 'one', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(reply.model, 'one');
  r.child.kill('SIGTERM');
  assert.equal(await r.exited, 0, r.stderr());
});

test('-version prints the version from package.json', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['-version', '--version', '-v']) {
    const r = spawnCli(t, [flag]);
    assert.equal(await r.exited, 0);
    assert.equal(r.stdout(), `modelswap ${pkg.version}\n`);
  }
});

test('-config-dir merges the folder after -config, and -watch-config follows files added and removed', async (t) => {
  const [port, start] = [await freePortRange(1), await freePortRange(4)];
  const main = join(folder({ 'main.yaml': `startPort: ${start}\n${fakeModel('base')}` }), 'main.yaml');
  const dir = folder({ '10-a.yaml': fakeModel('a'), 'README.md': 'not read' });
  const r = spawnCli(t, ['-config', main, '-config-dir', dir, '-listen', `127.0.0.1:${port}`, '-watch-config']);
  await r.waitFor(/modelswap listening/);
  const c = client(`http://127.0.0.1:${port}`);
  assert.deepEqual(await modelIds(c), ['a', 'base']);
  const reply = await c.chat.completions.create({ model: 'a', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(reply.model, 'a');

  writeFileSync(join(dir, '20-b.yml'), fakeModel('b').replaceAll('${fake}', FAKE));
  await until(async () => (await modelIds(c)).includes('b'), 10_000, 'model b from the added file');
  rmSync(join(dir, '10-a.yaml'));
  await until(async () => !(await modelIds(c)).includes('a'), 10_000, 'model a gone with its file');
  assert.deepEqual(await modelIds(c), ['b', 'base']);
  // a bad file is rejected; the running config stays
  writeFileSync(join(dir, '30-dup.yaml'), fakeModel('b').replaceAll('${fake}', FAKE));
  await r.waitFor(/config reload rejected/, 10_000);
  assert.deepEqual(await modelIds(c), ['b', 'base']);
  r.child.kill('SIGTERM');
  assert.equal(await r.exited, 0, r.stderr());
});

test('HTTPS with -tls-cert-file and -tls-key-file: the openai client talks to it over TLS', async (t) => {
  const dir = folder({ 'config.yaml': fakeModel('secure') });
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  const [port, start] = [await freePortRange(1), await freePortRange(1)];
  writeFileSync(join(dir, 'config.yaml'), `startPort: ${start}\n${fakeModel('secure').replaceAll('${fake}', FAKE)}`);
  const r = spawnCli(t, ['--config', join(dir, 'config.yaml'), '--tls-cert-file', cert, '--tls-key-file', key, '--listen', `127.0.0.1:${port}`]);
  await r.waitFor(/modelswap listening/);
  assert.match(r.stdout(), new RegExp(`"url":"https://127\\.0\\.0\\.1:${port}"`));
  const agent = new Agent({ connect: { ca: readFileSync(cert) } });
  t.after(() => agent.close());
  const c = client(`https://127.0.0.1:${port}`, { dispatcher: agent });
  const reply = await c.chat.completions.create({ model: 'secure', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(reply.model, 'secure');
  // a client that does not trust the certificate is refused, and plain HTTP gets no answer
  await assert.rejects(client(`https://127.0.0.1:${port}`).models.list(), /Connection error/);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/health`));
  r.child.kill('SIGTERM');
  assert.equal(await r.exited, 0, r.stderr());

  // a key that is not the certificate's is refused before anything starts
  const other = join(dir, 'other-key.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', other], { stdio: 'ignore' });
  const config = parseConfig('models: {}\n', { env: {} });
  await assert.rejects(startModelswap({ config, port: 0, tls: { cert: readFileSync(cert), key: readFileSync(other) } }), (err: unknown) => {
    assert.ok(err instanceof TlsError, String(err));
    assert.match(err.message, /cannot use the TLS certificate and key: .*key values mismatch/);
    return true;
  });
});

test('bad input exits 2 with a message that says what is wrong', async (t) => {
  const good = join(folder({ 'config.yaml': 'models: {}\n' }), 'config.yaml');
  const dup = folder({ 'a.yaml': fakeModel('x'), 'b.yaml': fakeModel('x') });
  const garbage = join(tmp, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  const cases: [string[], RegExp][] = [
    [['-nope'], /Unknown option '-n'/],
    [['--nope'], /Unknown option '--nope'/],
    [['-config'], /argument missing/],
    [['-listen', ':1'], /--config or --config-dir is required/],
    [['-config', good, '-tls-cert-file', garbage], /--tls-cert-file and --tls-key-file go together/],
    [['-config', good, '-tls-key-file', garbage], /--tls-cert-file and --tls-key-file go together/],
    [['-config', good, '-tls-cert-file', join(tmp, 'none.pem'), '-tls-key-file', garbage], /--tls-cert-file: cannot read .*none\.pem/],
    [['-config', good, '-tls-cert-file', garbage, '-tls-key-file', garbage, '-listen', '127.0.0.1:0'], /cannot use the TLS certificate and key/],
    [['-config-dir', join(tmp, 'missing')], /missing[^]*cannot read config directory/],
    [['-config-dir', folder({ 'notes.txt': '' })], /no \*\.yml or \*\.yaml file/],
    [['-config-dir', dup], new RegExp(`models "x" is defined in both ${join(dup, 'a.yaml')} and ${join(dup, 'b.yaml')}`)],
    [['-config', join(dup, 'a.yaml'), '-config-dir', dup], /also in --config-dir/],
  ];
  for (const [argv, re] of cases) {
    const r = spawnCli(t, argv);
    assert.equal(await r.exited, 2, `${argv.join(' ')}: ${r.stderr()}`);
    assert.match(r.stderr(), re, argv.join(' '));
    assert.match(r.stderr(), /^modelswap: /);
  }
});

test('npm start -- --config X runs X (a later --config wins over the script\'s), and npm start -- --help lists the flags', async (t) => {
  const [port, start] = [await freePortRange(1), await freePortRange(1)];
  const dir = folder({ 'mine.yaml': `startPort: ${start}\n${fakeModel('mine')}` });
  const help = spawnWatched(t, 'npm', ['start', '--silent', '--', '--help'], { cwd: ROOT, group: true });
  assert.equal(await help.exited, 0, help.stderr());
  assert.match(help.stdout(), /--config-dir/);
  const r = spawnWatched(t, 'npm', ['start', '--silent', '--', '--config', join(dir, 'mine.yaml'), '--listen', `127.0.0.1:${port}`], { cwd: ROOT, group: true });
  await r.waitFor(/modelswap listening/);
  assert.deepEqual(await modelIds(client(`http://127.0.0.1:${port}`)), ['mine']);
});
