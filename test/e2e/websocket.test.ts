/**
 * WebSocket passthrough on /upstream/<model>/<path> and /comfyui/, with a
 * real WebSocket client (Node's built-in one) and a small echo server
 * speaking the WebSocket protocol upstream: the model is acquired like a
 * request and stays in flight while the socket is open;
 * compat.ignoreWebsockets never starts or counts it; the key is required.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { startFromYaml, until } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';

/** A WebSocket echo server (text frames under 126 bytes, enough here); returns its port. */
async function echoServer(t: TestContext): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((_req, res) => res.writeHead(426).end('upgrade required'));
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    paths.push(req.url ?? '');
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on('data', (frame: Buffer) => {
      const opcode = frame[0]! & 0x0f;
      if (opcode === 0x8) return void socket.end(Buffer.from([0x88, 0]));
      const len = frame[1]! & 0x7f;
      const mask = frame.subarray(2, 6);
      const payload = Buffer.from(frame.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4]!));
      const reply = Buffer.from(`echo: ${payload.toString()}`);
      socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, paths };
}

/** Open a WebSocket, send `text`, return the reply and the socket (still open). */
async function roundTrip(url: string, text: string, protocols?: string[]): Promise<{ reply: string; ws: WebSocket }> {
  const ws = new WebSocket(url, protocols);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error('websocket failed to open')), { once: true });
  });
  const reply = new Promise<string>((resolve) => ws.addEventListener('message', (e) => resolve(String(e.data)), { once: true }));
  ws.send(text);
  return { reply: await reply, ws };
}

/** The status an upgrade request gets (no WebSocket client: it only reports failure). */
async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const req = request(url, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers } });
  req.end();
  const [res, socket] = (await Promise.race([once(req, 'response'), once(req, 'upgrade')])) as [IncomingMessage, Socket | undefined];
  (socket ?? res.socket)?.destroy();
  res.resume();
  return res.statusCode ?? 0;
}

async function setup(t: TestContext, extra = ''): Promise<{ url: string; ws: string; paths: string[]; app: Awaited<ReturnType<typeof startFromYaml>> }> {
  const echo = await echoServer(t);
  const port = await freePortRange(2);
  // The model's "server" is the echo server; its command is a fake llama-server on another port, so there is a process to start.
  const app = await startFromYaml(t, `
${extra}
models:
  ui:
    cmd: \${fake} --port ${port}
    proxy: http://127.0.0.1:${echo.port}
    checkEndpoint: none
  quiet:
    cmd: \${fake} --port ${port + 1}
    proxy: http://127.0.0.1:${echo.port}
    checkEndpoint: none
    compat: { ignoreWebsockets: true }
`);
  return { url: app.url, ws: app.url.replace('http', 'ws'), paths: echo.paths, app };
}

test('a websocket on /upstream/<model>/ starts the model, echoes through, and keeps it in flight until closed', { timeout: 30_000 }, async (t) => {
  const s = await setup(t);
  const { reply, ws } = await roundTrip(`${s.ws}/upstream/ui/ws?clientId=1`, 'hello');
  assert.equal(reply, 'echo: hello');
  assert.deepEqual(s.paths, ['/ws?clientId=1'], 'the upstream sees its own path and query');
  const row = s.app.router.running().find((r) => r.model === 'ui');
  assert.equal(row?.state, 'ready');
  assert.equal(row?.inFlight, 1, 'an open socket is in flight: its model is not evicted under it');
  ws.close();
  await until(() => s.app.router.running().find((r) => r.model === 'ui')?.inFlight === 0, 5000, 'the socket to be released');
});

test('compat.ignoreWebsockets: 409 while the model is not ready (it never starts it); once ready, served and not counted', { timeout: 30_000 }, async (t) => {
  const s = await setup(t);
  assert.equal(await upgradeStatus(`${s.url}/upstream/quiet/ws`), 409);
  assert.equal(s.app.router.status('quiet'), 'stopped');
  const lease = await s.app.router.acquire('quiet');
  lease.release();
  const { reply, ws } = await roundTrip(`${s.ws}/upstream/quiet/ws`, 'hi');
  assert.equal(reply, 'echo: hi');
  assert.equal(s.app.router.running().find((r) => r.model === 'quiet')?.inFlight, 0, 'not counted');
  ws.close();
});

test('upgrades need the API key; unknown models and other paths are refused with the usual errors', { timeout: 30_000 }, async (t) => {
  const s = await setup(t, 'apiKeys: [sekret]');
  assert.equal(await upgradeStatus(`${s.url}/upstream/ui/ws`), 401);
  assert.equal(await upgradeStatus(`${s.url}/upstream/ui/ws`, { authorization: 'Bearer sekret' }), 101);
  assert.equal(await upgradeStatus(`${s.url}/upstream/nope/ws`, { authorization: 'Bearer sekret' }), 404);
  assert.equal(await upgradeStatus(`${s.url}/v1/chat/completions`, { authorization: 'Bearer sekret' }), 404);
});

test('/comfyui/ serves comfyui_auto: the page starts it, other paths wait for it (409) and reach it once it is ready', { timeout: 30_000 }, async (t) => {
  const port = await freePortRange(1);
  const app = await startFromYaml(t, `
models:
  comfyui_auto:
    cmd: \${fake} --port ${port}
    proxy: http://127.0.0.1:${port}
`);
  const redirect = await fetch(`${app.url}/comfyui`, { redirect: 'manual' });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/comfyui/');
  assert.equal((await fetch(`${app.url}/comfyui/assets/x.js`)).status, 409, 'an asset never starts it');
  const page = await fetch(`${app.url}/comfyui/`);
  assert.equal(page.status, 200, 'the page itself starts the model and reaches it');
  await page.arrayBuffer();
  assert.equal(app.router.status('comfyui_auto'), 'ready');
  assert.equal((await fetch(`${app.url}/comfyui/assets/x.js`)).status, 404, 'once ready, other paths reach the server (which has no such file)');
});

test('the active profile pins upgrades as it pins requests (a pin disabling an id gives 404); a peer model is refused by name', { timeout: 30_000 }, async (t) => {
  const s = await setup(t, `
profiles:
  p:
    pins: { board: ui, quiet: ~ }
peers:
  box:
    proxy: http://127.0.0.1:9
    models: [far]`);
  assert.equal(await upgradeStatus(`${s.url}/upstream/board/ws`), 404, 'no profile active: "board" names nothing');
  const on = await fetch(`${s.url}/api/profiles/active`, { method: 'PUT', body: JSON.stringify({ name: 'p' }), headers: { 'content-type': 'application/json' } });
  assert.equal(on.status, 200);
  const { reply, ws } = await roundTrip(`${s.ws}/upstream/board/ws?x=1`, 'pinned');
  assert.equal(reply, 'echo: pinned');
  assert.deepEqual(s.paths, ['/ws?x=1'], 'the pin is the first segment; the rest is the path on the server');
  assert.equal(s.app.router.running().find((r) => r.model === 'ui')?.inFlight, 1, 'the pinned model is the one acquired');
  ws.close();
  assert.equal(await upgradeStatus(`${s.url}/upstream/quiet/ws`), 404, 'disabled by the profile');
  const peer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${s.url}/upstream/far/ws`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(peer.status, 404);
  assert.match(peer.body, /peer's model: upgrades are not forwarded to peers/);
});
