/**
 * llama-swap's example configs run. First docker/config.example.yaml, unchanged, run by the real CLI:
 * it starts, logs a warning for each setting that has no effect (before it
 * says it is listening), lists the models, and fails the request for the
 * model that can never start with the reason.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Readable } from 'node:stream';
import { parseDocument, type Scalar, type YAMLMap } from 'yaml';
import { startCli } from '../helpers/cli-process.ts';
import { FAKE, FAKE_SERVER, postJson, startFromYaml, type Started } from '../helpers/modelswap.ts';
import { freePortRange } from '../helpers/ports.ts';

const DOCKER = readFileSync(new URL('../fixtures/llama-swap/docker/config.example.yaml', import.meta.url), 'utf8');

test("llama-swap's docker example config starts unchanged, with its warnings logged at start-up", async (t) => {
  const cli = await startCli(t, DOCKER, 3);
  const warnings = cli.stdout().split('\n').filter((l) => l.includes('"level":40') && l.includes('config: '));
  assert.deepEqual(warnings.map((l) => (JSON.parse(l) as { key: string }).key), ['logRequests', 'models.z-image.proxy']);

  const list = (await (await fetch(`${cli.url}/v1/models`)).json()) as { data: { id: string }[] };
  assert.deepEqual(list.data.map((m) => m.id), ['qwen2.5', 'smollm2', 'z-image']);
  const r = await postJson(`${cli.url}/v1/images/generations`, { model: 'dall-e-3', prompt: 'a llama' });
  assert.equal(r.status, 502);
  assert.match(String(r.json.error.message), /model "z-image" cannot start: its proxy defaults to http:\/\/localhost:\$\{PORT\}/);
});

/**
 * llama-swap's config.example.yaml, completed so it can run: stub models for
 * the names it uses but never defines (group1's `llama` member is one of its
 * selectors, so that member is dropped), every `cmd` replaced by the bundled
 * fake server on `${PORT}` (health on /health), and its two peers pointed at
 * 127.0.0.1: `llama-swap-peer` at a second modelswap, `openrouter` at a fake
 * server.
 */
describe("llama-swap's config.example.yaml, completed and run", () => {
  const STUBS = ['qwen-unlisted', 'modelA', 'modelB', 'forever-modelA', 'forever-modelB', 'forever-modelc', 'A', 'B', 'C', 'D'];
  const KEY = { authorization: 'Bearer sk-hunter2' };
  let app: Started;
  let peer: Started;
  let fake: ChildProcessByStdio<null, Readable, null> | undefined;

  before(async () => {
    peer = await startFromYaml(undefined, `models:\n${['model_a', 'model_b', 'embeddings/model_c'].map((m) => `  ${m}: { cmd: "\${fake} --port \${PORT} --model-id \${MODEL_ID}" }`).join('\n')}\n`);
    const doc = parseDocument(readFileSync(new URL('../fixtures/llama-swap/config.example.yaml', import.meta.url), 'utf8'));
    for (const name of STUBS) doc.setIn(['models', name], doc.createNode({}));
    doc.setIn(['routing', 'router', 'settings', 'groups', 'group1', 'members'], doc.createNode(['qwen-unlisted']));
    const models = doc.get('models') as YAMLMap<Scalar<string> | string>;
    for (const pair of models.items) {
      const id = typeof pair.key === 'string' ? pair.key : String(pair.key.value);
      doc.setIn(['models', id, 'cmd'], `${FAKE} --port \${PORT} --model-id \${MODEL_ID} --echo-body`);
      doc.setIn(['models', id, 'proxy'], 'http://127.0.0.1:${PORT}');
      doc.setIn(['models', id, 'checkEndpoint'], '/health');
      doc.deleteIn(['models', id, 'cmdStop']);
    }
    // The openrouter peer: a fake server on a free port, killed by its pid when the suite ends.
    const port = await freePortRange(1);
    fake = spawn(process.execPath, [FAKE_SERVER, '--port', String(port), '--model-id', 'openrouter-fake', '--echo-body'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      fake!.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/server is listening/.test(out)) resolve();
      });
      fake!.once('exit', (code) => reject(new Error(`fake openrouter exited ${code}`)));
    });
    doc.set('startPort', await freePortRange(40));
    doc.setIn(['peers', 'llama-swap-peer', 'proxy'], peer.url);
    doc.setIn(['peers', 'openrouter', 'proxy'], `http://127.0.0.1:${port}`);
    app = await startFromYaml(undefined, doc.toString(), { env: { HOME: '/home/u', API_KEY_1: 'k1', API_KEY_2: 'k2', OPENROUTER_API_KEY: 'sk-or' } });
  });
  after(async () => {
    await Promise.all([app?.close(3000), peer?.close(3000)]);
    if (fake !== undefined && fake.exitCode === null) {
      const exited = once(fake, 'exit');
      process.kill(fake.pid!, 'SIGKILL');
      await exited;
    }
  });

  const chat = (body: Record<string, unknown>) => postJson(`${app.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], ...body }, KEY);

  test('lists its models, peer models and selectors', async () => {
    const list = (await (await fetch(`${app.url}/v1/models`, { headers: KEY })).json()) as { data: { id: string; meta: { llamaswap: { type: string } } }[] };
    const type = new Map(list.data.map((m) => [m.id, m.meta.llamaswap.type]));
    assert.equal(type.get('gpt-oss-120b'), 'model');
    assert.equal(type.get('gpt-oss-120b:high'), 'alias');
    assert.equal(type.get('llama-swap-peer/embeddings/model_c'), 'peer');
    assert.equal(type.get('openrouter/z-ai/glm-4.7'), 'peer');
    for (const s of ['coding-model', 'llm-plan', 'llama']) assert.equal(type.get(s), 'selector', s);
    assert.equal(type.has('unlisted-model'), false);
  });

  test('serves a request through its filters, its selectors, a peer, and its profile pins', async () => {
    // filters: stripParams, setParams, setParamsByID for the requested alias, then useModelName
    const filtered = await chat({ model: 'gpt-oss-120b:high', temperature: 0.1, top_k: 5 });
    assert.equal(filtered.status, 200);
    assert.deepEqual({ ...filtered.json.received_body, messages: undefined }, {
      model: 'openai/gpt-oss-120B', temperature: 0.7, top_p: 0.9, chat_template_kwargs: { reasoning_effort: 'high' }, messages: undefined,
    });
    // selectors: warm takes the ready gpt-oss-120b; spillover starts its first target
    assert.equal((await chat({ model: 'coding-model' })).json.model, 'gpt-oss-120b');
    assert.equal((await chat({ model: 'llama' })).json.model, 'docker-llama');
    // peers: the second modelswap, and the fake openrouter with its filters
    assert.equal((await chat({ model: 'model_b' })).json.model, 'model_b');
    const routed = await chat({ model: 'z-ai/glm-4.7', temperature: 1, top_p: 1 });
    assert.equal(routed.json.model, 'openrouter-fake', JSON.stringify(routed));
    assert.deepEqual({ ...routed.json.received_body, messages: undefined }, { model: 'z-ai/glm-4.7', provider: { data_collection: 'deny', zdr: true }, messages: undefined });
    // the coding profile: llm-plan is pinned to qwen-unlisted before the llm-plan selector is seen
    assert.equal((await chat({ model: 'llm-plan' })).json.model, 'gpt-oss-120b', 'the pin selector, no profile');
    const on = await fetch(`${app.url}/api/profiles/active`, { method: 'PUT', headers: KEY, body: '{"name":"coding"}' });
    assert.equal(on.status, 200);
    assert.equal((await chat({ model: 'llm-plan' })).json.model, 'qwen-unlisted');
    assert.equal((await chat({ model: 'llm-code' })).json.model, 'gpt-oss-120b');
    const off = await chat({ model: 'image-gen' });
    assert.equal(off.status, 404);
    assert.match(off.json.error.message, /disabled by the active profile "coding"/);
  });
});
