/** "Port already used by another program" (src/process/port-check.ts), with real listeners on 127.0.0.1. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { test, type TestContext } from 'node:test';
import { ProxyError } from '../../src/errors.ts';
import { acceptsConnections, describeListener, portToCheck } from '../../src/process/port-check.ts';
import { fakeCmd, freePort, harness, modelConfig } from './helpers.ts';

const T = { timeout: 15_000 };

async function listener(t: TestContext): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { server, port: (server.address() as { port: number }).port };
}

test('portToCheck: only a loopback proxy port that the cmd itself names', () => {
  const check = (proxy: string, cmd: string[]) => portToCheck({ proxy, cmd });
  assert.deepEqual(check('http://127.0.0.1:5800', ['llama-server', '--port', '5800']), { host: '127.0.0.1', port: 5800 });
  assert.deepEqual(check('http://localhost:5800', ['llama-server', '--port=5800']), { host: 'localhost', port: 5800 });
  assert.deepEqual(check('http://[::1]:5800', ['docker', 'run', '-p', '5800:8080', 'img']), { host: '::1', port: 5800 });
  assert.deepEqual(check('http://127.0.0.2:5800', ['sh', '-c', 'exec llama-server --port 5800 -m x.gguf']), { host: '127.0.0.2', port: 5800 });
  assert.deepEqual(check('http://127.0.0.1', ['server', '--listen', ':80']), { host: '127.0.0.1', port: 80 });
  assert.equal(check('http://127.0.0.1:5800', ['wake-remote-server']), undefined, 'the cmd does not manage the port (external server)');
  assert.equal(check('http://127.0.0.1:5800', ['llama-server', '--port', '15800', '--ctx', '58001']), undefined, 'digits of a longer number do not count');
  assert.equal(check('http://10.0.0.5:5800', ['llama-server', '--port', '5800']), undefined, 'not loopback: not ours to start');
  assert.equal(check('http://gpu-box:5800', ['ssh', 'gpu-box', 'llama-server --port 5800']), undefined);
});

test('acceptsConnections: true while something listens, false once it is gone or when aborted', T, async (t) => {
  const { server, port } = await listener(t);
  const signal = new AbortController().signal;
  assert.equal(await acceptsConnections({ host: '127.0.0.1', port }, signal), true);
  assert.equal(await acceptsConnections({ host: 'localhost', port }, signal), true);
  const aborted = new AbortController();
  aborted.abort();
  assert.equal(await acceptsConnections({ host: '127.0.0.1', port }, aborted.signal), false);
  await new Promise<void>((r) => server.close(() => r()));
  assert.equal(await acceptsConnections({ host: '127.0.0.1', port }, signal), false);
});

test('describeListener names the process that listens', T, async (t) => {
  const { port } = await listener(t);
  assert.match(await describeListener({ host: '127.0.0.1', port }), new RegExp(`^pid ${process.pid}: ${process.execPath.replaceAll('/', '\\/')}`));
  const free = await freePort();
  assert.equal(await describeListener({ host: '127.0.0.1', port: free }), `it accepts connections on 127.0.0.1:${free}`, 'nobody found');
});

test('the port is taken: UPSTREAM_START_FAILED at once naming port, model and listener; nothing spawned; no sticky failure', T, async (t) => {
  const { server, port } = await listener(t);
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port) }));
  const started = performance.now();
  await assert.rejects(h.up.ensureReady(), (err: unknown) => {
    assert.ok(err instanceof ProxyError);
    assert.equal(err.code, 'UPSTREAM_START_FAILED');
    assert.ok(err.message.startsWith(`port ${port} of model "m" is already in use by another program (pid ${process.pid}: `), err.message);
    return true;
  });
  assert.ok(performance.now() - started < 2000, 'fails at once, not at healthCheckTimeout');
  assert.deepEqual(h.statuses, ['starting', 'stopped']);
  assert.deepEqual(h.exits, [], 'nothing was spawned');
  assert.equal(h.logs.history(), '');
  await new Promise<void>((r) => server.close(() => r()));
  await h.up.ensureReady();
  assert.equal(h.up.status(), 'ready');
});

test('stop() during the port check: nothing is spawned and the caller hears why', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port) }));
  const pending = h.up.ensureReady();
  assert.equal(h.up.status(), 'starting');
  assert.equal(h.up.pid(), undefined, 'still checking the port');
  await h.up.stop('unloaded');
  assert.equal(h.up.status(), 'stopped');
  await assert.rejects(pending, (e: unknown) => e instanceof ProxyError && e.code === 'MODEL_UNLOADED' && /stopped \(unloaded\) while starting/.test(e.message));
  assert.deepEqual(h.exits, []);
  assert.deepEqual(h.statuses, ['starting', 'stopped']);
});

test('a model whose cmd does not name its port is not checked: proxy to a server already running is legit', T, async (t) => {
  const { port } = await listener(t);
  const h = harness(t, modelConfig(port, { checkEndpoint: null, cmd: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] }));
  await h.up.ensureReady();
  assert.equal(h.up.status(), 'ready');
});

test('a prepared launch checks the port early: taken then (a server being evicted shares it) is checked again at launch', T, async (t) => {
  // The evicted server on the shared port, still listening while the next model's launch is prepared.
  const { server, port } = await listener(t);
  const h = harness(t, modelConfig(port, { cmd: fakeCmd(port) }));
  const checked = once(server, 'connection'); // the early check connects: it finds the port taken
  h.up.prepareLaunch();
  await checked;
  await new Promise<void>((r) => server.close(() => r())); // the evicted server is gone
  await h.up.ensureReady();
  assert.equal(h.up.status(), 'ready', 'the check at launch found the port free');
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);

  // Still taken at launch: the usual error, whoever holds it.
  await h.up.stop('unloaded');
  const other = await listener(t);
  const h2 = harness(t, modelConfig(other.port, { id: 'm2', cmd: fakeCmd(other.port) }));
  h2.up.prepareLaunch();
  await assert.rejects(h2.up.ensureReady(), (e: unknown) => e instanceof ProxyError && e.code === 'UPSTREAM_START_FAILED' && e.message.startsWith(`port ${other.port} of model "m2" is already in use`));
  h2.up.discardLaunch();
  assert.deepEqual(h2.exits, [], 'the server was never started');
});
