/**
 * Profiles and selectors over HTTP, with real fake-llama-server processes:
 * switching profiles, pins on inference and /upstream paths, and each
 * selector strategy choosing a real server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { parseConfig } from '../../src/config/load.ts';
import { freePortRange } from '../helpers/ports.ts';
import { FAKE, postJson, startFromYaml, until, type Started } from '../helpers/modelswap.ts';

const YAML = `
routing:
  scheduler: { use: fifo }
  router:
    settings:
      groups:
        pair: { swap: false, exclusive: false, members: [small, large, slow-1, slow-2] }
models:
  small:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 3 --echo-body
    aliases: [small-alias]
    filters: { setParamsByID: { "small:hot": { temperature: 1.5 } } }
  large:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 3 --ignore-sigterm
    unloadTimeout: 2
  slow-1:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 4 --token-ms 400
  slow-2:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 4 --token-ms 400
selectors:
  best-warm: { strategy: warm, targets: [small, large], name: Best warm, metadata: { purpose: chat } }
  always-large: { strategy: pin, targets: [large] }
  just-large: { strategy: spillover, targets: [large], settings: { spillover: 2 } }
  spread: { strategy: spillover, targets: [slow-1, slow-2] }
profiles:
  coding:
    description: Coding setup
    pins: { llm: small-alias, llm-hot: "small:hot", chooser: best-warm, large: "", gpt: large }
`;

describe('profiles and selectors', () => {
  let app: Started;
  let client: OpenAI;
  let yaml: string;
  const put = (body: string): Promise<Response> => fetch(`${app.url}/api/profiles/active`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });

  before(async () => {
    yaml = `startPort: ${await freePortRange(10)}\n${YAML}`;
    app = await startFromYaml(undefined, yaml);
    client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
  });
  after(() => app.close(3000));

  test('GET /api/profiles lists them with none active; PUT switches; bad bodies are 400 and unknown names 404', async () => {
    const listed = (await (await fetch(`${app.url}/api/profiles`)).json()) as unknown;
    assert.deepEqual(listed, {
      active: null,
      profiles: [{ id: 'coding', description: 'Coding setup', pins: { llm: 'small-alias', 'llm-hot': 'small:hot', chooser: 'best-warm', large: null, gpt: 'large' } }],
    });
    for (const [body, message] of [['{', /expected a JSON body/], ['{}', /profile name is required/], ['{"name":3}', /must be a string or null, got 3/]] as const) {
      const r = await put(body);
      assert.equal(r.status, 400, body);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, message);
    }
    const unknown = await put('{"name":"writing"}');
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /unknown profile "writing"; profiles: coding/);
    assert.deepEqual(await (await put('{"name":"coding"}')).json(), { active: 'coding' });
    assert.equal(((await (await fetch(`${app.url}/api/profiles`)).json()) as { active: string }).active, 'coding');
    assert.deepEqual(await (await put('{"name":null}')).json(), { active: null });
  });

  test('a config reload switches the active profile off', async () => {
    await put('{"name":"coding"}');
    await app.reload(parseConfig(yaml.replace('Coding setup', 'Coding setup, reloaded').replaceAll('${fake}', FAKE), { env: {} }));
    const listed = (await (await fetch(`${app.url}/api/profiles`)).json()) as { active: string | null; profiles: { description: string }[] };
    assert.equal(listed.active, null);
    assert.equal(listed.profiles[0]?.description, 'Coding setup, reloaded');
  });

  test('an active profile pins ids on inference routes and on /upstream, disables a pinned-away id, and lists its pins', async () => {
    await put('{"name":"coding"}');
    try {
      const r = await client.chat.completions.create({ model: 'llm', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(r.model, 'small');
      const hot = await postJson(`${app.url}/v1/chat/completions`, { model: 'llm-hot', temperature: 0.1 });
      assert.equal(hot.json.received_body.model, 'small:hot', 'the pinned name is what the model receives');
      assert.equal(hot.json.received_body.temperature, 1.5, "filters use the pinned name's setParamsByID");
      const off = await postJson(`${app.url}/v1/chat/completions`, { model: 'large' });
      assert.equal(off.status, 404);
      assert.match(off.json.error.message, /"large" is disabled by the active profile "coding"/);
      const up = await fetch(`${app.url}/upstream/llm/health`);
      assert.equal(up.status, 200);
      assert.equal(up.headers.get('x-served-by')?.split('@')[0], 'small');
      assert.equal((await fetch(`${app.url}/upstream/large/health`)).status, 404);
      const ids = (await client.models.list()).data.map((m) => [m.id, (m as unknown as { meta: { llamaswap: { type: string } } }).meta.llamaswap.type]);
      // Pins that are not already an id (large is a model; a pin to nothing is not listed).
      assert.deepEqual(ids.filter(([, type]) => type === 'profile').map(([id]) => id), ['chooser', 'gpt', 'llm', 'llm-hot']);
    } finally {
      await put('{"name":null}');
    }
  });

  test('selectors: listed with type selector; pin and warm choose a real server; not usable on /upstream', async () => {
    await app.router.unload(['small']);
    const list = (await client.models.list()).data as unknown as { id: string; name?: string; meta: { llamaswap: Record<string, unknown> } }[];
    const warm = list.find((m) => m.id === 'best-warm');
    assert.equal(warm?.name, 'Best warm');
    assert.deepEqual(warm?.meta.llamaswap, { purpose: 'chat', type: 'selector', strategy: 'warm', targets: ['small', 'large'] });
    assert.deepEqual(list.find((m) => m.id === 'just-large')?.meta.llamaswap, { type: 'selector', strategy: 'spillover', targets: ['large'], spillover: 2 });
    const pinned = await client.chat.completions.create({ model: 'always-large', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(pinned.model, 'large');
    assert.equal(app.router.status('small'), 'stopped');
    const chosen = await client.chat.completions.create({ model: 'best-warm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(chosen.model, 'large', 'large is ready, small is not: warm takes large');
    assert.equal(app.router.status('small'), 'stopped');
    assert.equal((await fetch(`${app.url}/upstream/best-warm/health`)).status, 404);
  });

  test('spillover: while a request holds its target, the next one goes to the next target', async () => {
    const stream = await client.chat.completions.create({ model: 'spread', stream: true, messages: [{ role: 'user', content: 'long' }] });
    const chunks = stream[Symbol.asyncIterator]();
    const first = await chunks.next(); // the first request is in flight: its reservation is held until its answer ends
    assert.ok(first.done !== true);
    const second = await client.chat.completions.create({ model: 'spread', messages: [{ role: 'user', content: 'next' }] });
    const served = first.value.model;
    while ((await chunks.next()).done !== true); // drain the first answer
    assert.deepEqual([served, second.model].sort(), ['slow-1', 'slow-2']);
  });

  test('a spillover selector whose every target is stopping answers 503', async () => {
    await client.chat.completions.create({ model: 'large', messages: [{ role: 'user', content: 'hi' }] });
    const unloading = app.router.unload(['large']); // large ignores SIGTERM: it stays stopping for unloadTimeout
    await until(() => app.router.status('large') === 'stopping', 2000, 'large to be stopping');
    const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'just-large' });
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'no_target_available');
    assert.match(r.json.error.message, /selector "just-large" has no target it can use now/);
    await unloading;
  });
});
