/**
 * Peers: two modelswap instances on 127.0.0.1, each a peer of the other
 * ("one modelswap per GPU machine"), serving each other's models to the
 * official openai client, streaming included; and a peer that is a plain
 * HTTP server, to see exactly what a peer receives.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { parseConfig } from '../../src/config/load.ts';
import { startModelswap, type Modelswap } from '../../src/main.ts';
import { listen } from '../helpers/http-server.ts';
import { FAKE, postJson, startFromYaml } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';

/** One machine: its own key, one local fake model, the other machine as a peer. */
function machine(local: string, key: string, peer: { id: string; url: string; key: string; model: string }, startPort: number): string {
  return `
startPort: ${startPort}
apiKeys: [${key}]
models:
  ${local}:
    cmd: ${FAKE} --port \${PORT} --model-id \${MODEL_ID} --tokens 6
peers:
  ${peer.id}:
    proxy: ${peer.url}
    apiKey: ${peer.key}
    models: [${peer.model}]
`;
}

async function start(yaml: string, port: number): Promise<Modelswap> {
  return startModelswap({ config: parseConfig(yaml, { env: {} }), host: '127.0.0.1', port, stdout: () => undefined });
}

describe('two modelswap instances, each a peer of the other', () => {
  let a: Modelswap;
  let b: Modelswap;
  let viaA: OpenAI;
  let viaB: OpenAI;

  before(async () => {
    const ports = await freePortRange(5);
    // a's address is known before it starts, so b can name it as its peer.
    b = await start(machine('b-model', 'key-b', { id: 'gpu-a', url: `http://127.0.0.1:${ports}`, key: 'key-a', model: 'a-model' }, ports + 1), 0);
    a = await start(machine('a-model', 'key-a', { id: 'gpu-b', url: b.url, key: 'key-b', model: 'b-model' }, ports + 3), ports);
    viaA = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: 'key-a', maxRetries: 0, timeout: 30_000 });
    viaB = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: 'key-b', maxRetries: 0, timeout: 30_000 });
  });
  after(async () => {
    await Promise.all([a?.close(2000), b?.close(2000)]);
  });

  test("each serves the other's model, by its bare id and by <peer>/<model>, with the peer's key and without starting a local process", async () => {
    const r = await viaA.chat.completions.create({ model: 'b-model', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, 'b-model');
    assert.match(r.choices[0]?.message.content ?? '', /\[b-model@\d+\]/);
    assert.equal(a.router.status('a-model'), 'stopped', "a's own model was not started for its peer's");
    assert.equal(b.router.status('b-model'), 'ready');
    const full = await viaA.chat.completions.create({ model: 'gpu-b/b-model', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(full.model, 'b-model');
    const back = await viaB.chat.completions.create({ model: 'gpu-a/a-model', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(back.choices[0]?.message.content ?? '', /\[a-model@\d+\]/);
  });

  test("streams a peer's answer chunk by chunk", async () => {
    const stream = await viaA.chat.completions.create({ model: 'gpu-b/b-model', stream: true, messages: [{ role: 'user', content: 'stream' }] });
    let text = '';
    let chunks = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
    }
    assert.ok(chunks >= 6, `${chunks} chunks`);
    assert.match(text, /\[b-model@\d+\]/);
    assert.equal(finish, 'stop');
  });

  test('lists peer models in /v1/models and marks them as peer entries in /running', async () => {
    const list = await viaA.models.list();
    const byId = new Map(list.data.map((m) => [m.id, m as unknown as { meta: { llamaswap: Record<string, unknown> }; status: { value: string } }]));
    assert.deepEqual([...byId.keys()], ['a-model', 'gpu-b/b-model']);
    assert.deepEqual(byId.get('gpu-b/b-model')?.meta.llamaswap, { type: 'peer', peerID: 'gpu-b' });
    assert.equal(byId.get('gpu-b/b-model')?.status.value, 'unloaded');
    const running = (await (await fetch(`${a.url}/running`, { headers: { authorization: 'Bearer key-a' } })).json()) as { running: Record<string, unknown>[] };
    const peer = running.running.find((r) => r['model'] === 'gpu-b/b-model');
    assert.deepEqual(peer, { model: 'gpu-b/b-model', state: 'peer', peer: 'gpu-b', proxy: b.url, inFlight: 0, queued: 0 });
    assert.equal(Object.hasOwn(peer!, 'pid'), false);
  });

  test("/upstream/<peer>/<model>/<path> passes through to the peer, with the peer's key", async () => {
    const r = await fetch(`${a.url}/upstream/gpu-b/b-model/v1/models`, { headers: { authorization: 'Bearer key-a' } });
    assert.equal(r.status, 200, 'b accepted the request: a sent key-b');
    const list = (await r.json()) as { data: { id: string }[] };
    assert.deepEqual(list.data.map((m) => m.id), ['b-model', 'gpu-a/a-model']);
  });

  test('a peer model is not a local one: loading or unloading it is a 404 that says so', async () => {
    const r = await postJson(`${a.url}/api/models/unload/gpu-b/b-model`, {}, { authorization: 'Bearer key-a' });
    assert.equal(r.status, 404);
    assert.match(r.json.error.message, /model "b-model" of peer "gpu-b", not a local model/);
  });
});

describe('what a peer receives', () => {
  test('the peer model id, its filters, its key instead of the client\'s, under its base path', async (t) => {
    const seen: { url: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }[] = [];
    const peer = await listen(t, (req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(raw || '{}') as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    const app = await startFromYaml(t, `
apiKeys: [front]
models: {}
peers:
  cloud:
    proxy: ${peer}/api/
    apiKey: sk-cloud
    models: [vendor/big]
    filters: { stripParams: "temperature, top_p", setParams: { provider: { zdr: true } } }
`);
    const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'cloud/vendor/big', temperature: 2, top_p: 1, n: 1 }, { authorization: 'Bearer front', 'x-api-key': 'front' });
    assert.equal(r.status, 200);
    const [got] = seen;
    assert.equal(got?.url, '/api/v1/chat/completions');
    assert.equal(got?.headers.authorization, 'Bearer sk-cloud');
    assert.equal(got?.headers['x-api-key'], 'sk-cloud');
    assert.deepEqual(got?.body, { model: 'vendor/big', n: 1, provider: { zdr: true } });
  });

  test('an unreachable peer is a 502 naming the peer; one that sends no headers in timeouts.responseHeader is a 504', async (t) => {
    const closed = await freePortRange(1);
    const silent = await listen(t, () => undefined);
    const app = await startFromYaml(t, `
models: {}
peers:
  gone: { proxy: "http://127.0.0.1:${closed}", models: [m1] }
  slow: { proxy: "${silent}", models: [m2], timeouts: { responseHeader: 0.3 } }
`);
    const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'm1' });
    assert.equal(r.status, 502);
    assert.match(r.json.error.message, new RegExp(`peer "gone" \\(http://127.0.0.1:${closed}\\) for model "m1" failed: ECONNREFUSED`));
    const s = await postJson(`${app.url}/v1/chat/completions`, { model: 'slow/m2' });
    assert.equal(s.status, 504);
    assert.match(s.json.error.message, /peer "slow" .* no response headers \(timeouts\.responseHeader\) after 0\.3 s/);
  });

  test('an unknown peer model is a 404 listing the peer models too', async (t) => {
    const app = await startFromYaml(t, `models: { local: { cmd: "${FAKE} --port \${PORT}" } }\npeers: { p: { proxy: "http://127.0.0.1:9", models: [x] } }`);
    const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'p/y' });
    assert.equal(r.status, 404);
    assert.match(r.json.error.message, /available models: local, p\/x/);
  });
});
