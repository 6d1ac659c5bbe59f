/**
 * Operations routes against a real modelswap with real fake-llama-server
 * children: /wol-health, POST /api/models/load/<model>, GET /upstream, and
 * the Ollama-style /api/tags and /api/ps.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NEVER_EXPIRES } from '../../src/server/ollama.ts';
import { startFromYaml, until, type Started } from '../helpers/modelswap.ts';

const KEY = 'ops-key';
const AUTH = { authorization: `Bearer ${KEY}` };

const YAML = `
apiKeys: [${KEY}]
healthCheckTimeout: 120
models:
  m1:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
    aliases: [first]
    name: Model One
  org/m2:
    cmd: \${fake} --port \${PORT} --model-id m2
    ttl: 300
  slow:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --load-ms 60000
  broken:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --exit-at-start 3
  hidden:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
    unlisted: true
`;

interface Row { model: string; state: string }

describe('operations routes', () => {
  let app: Started;
  before(async () => {
    app = await startFromYaml(undefined, YAML);
  });
  after(() => app.close(2000));

  const load = (name: string, init: RequestInit = {}) => fetch(`${app.url}/api/models/load/${name}`, { method: 'POST', headers: AUTH, ...init });
  const getJson = async (path: string): Promise<any> => {
    const r = await fetch(`${app.url}${path}`, { headers: AUTH });
    assert.equal(r.status, 200, path);
    return r.json();
  };
  const running = async (): Promise<Row[]> => ((await getJson('/running')) as { running: Row[] }).running;

  test('/wol-health answers OK without a key, GET and HEAD', async () => {
    const r = await fetch(`${app.url}/wol-health`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'OK');
    assert.equal((await fetch(`${app.url}/wol-health`, { method: 'HEAD' })).status, 200);
  });

  test('POST /api/models/load/<alias> answers once the model is ready, with a JSON body', async () => {
    const r = await load('first');
    assert.equal(r.status, 200);
    const body = (await r.json()) as { msg: string; model: string; state: string; ms: number };
    assert.deepEqual([body.msg, body.model, body.state], ['ok', 'm1', 'ready']);
    assert.ok(body.ms >= 0);
    assert.deepEqual((await running()).map((x) => [x.model, x.state]), [['m1', 'ready']]);
    // Loaded means serving at once: the passthrough reaches it.
    assert.equal((await fetch(`${app.url}/upstream/m1/health`, { headers: AUTH })).status, 200);
  });

  test('POST /api/models/load/<id with a slash> works; unknown model 404; a failed start is the usual 502 error', async () => {
    const ok = await load('org/m2');
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { model: string }).model, 'org/m2');
    const unknown = await load('nope');
    assert.equal(unknown.status, 404);
    const u = (await unknown.json()) as { error: { code: string; message: string } };
    assert.equal(u.error.code, 'model_not_found');
    assert.match(u.error.message, /available models: .*m1/);
    const failed = await load('broken');
    assert.equal(failed.status, 502);
    const f = (await failed.json()) as { error: { code: string; message: string } };
    assert.equal(f.error.code, 'upstream_start_failed');
    assert.match(f.error.message, /broken/);
  });

  test('a load whose client disconnects is withdrawn: the model stops loading', async () => {
    const ac = new AbortController();
    const pending = load('slow', { signal: ac.signal }).catch((err: unknown) => err);
    await until(async () => (await running()).some((x) => x.model === 'slow' && x.state === 'starting'), 20_000, 'slow starting');
    ac.abort();
    assert.equal(((await pending) as Error).name, 'AbortError');
    await until(async () => !(await running()).some((x) => x.model === 'slow'), 20_000, 'slow load cancelled');
  });

  test('GET /upstream lists listed models with their passthrough URL and state', async () => {
    assert.equal((await load('m1')).status, 200);
    const { models } = (await getJson('/upstream')) as { models: Array<{ model: string; name?: string; url: string; state: string; aliases: string[] }> };
    assert.deepEqual(models.map((m) => m.model), ['broken', 'm1', 'org/m2', 'slow'], 'sorted, unlisted left out');
    const m1 = models.find((m) => m.model === 'm1')!;
    assert.deepEqual([m1.url, m1.state, m1.name, m1.aliases], ['/upstream/m1/', 'ready', 'Model One', ['first']]);
    assert.equal(models.find((m) => m.model === 'org/m2')!.url, '/upstream/org/m2/');
    // The URL works as given.
    const health = await fetch(`${app.url}${models.find((m) => m.model === 'org/m2')!.url}health`, { headers: AUTH });
    assert.equal(health.status, 200);
    assert.equal(health.headers.get('x-served-by')?.split('@')[0], 'm2');
  });

  test('GET /api/tags lists the /v1/models models in Ollama\'s shape', async () => {
    const tags = (await getJson('/api/tags')) as { models: Array<{ name: string; model: string; modified_at: string; size: number; digest: string; details: { families: string[] } }> };
    const v1 = (await getJson('/v1/models')) as { data: Array<{ id: string }> };
    assert.deepEqual(tags.models.map((m) => m.name), v1.data.map((m) => m.id));
    for (const m of tags.models) {
      assert.equal(m.model, m.name);
      assert.ok(!Number.isNaN(Date.parse(m.modified_at)), m.modified_at);
      assert.equal(typeof m.size, 'number');
      assert.equal(typeof m.digest, 'string');
      assert.ok(Array.isArray(m.details.families));
    }
  });

  test('GET /api/ps lists loaded models; expires_at is the last grant + ttl (never for ttl 0)', async () => {
    const before = Date.now();
    assert.equal((await load('org/m2')).status, 200);
    const afterLoad = Date.now();
    const ps = (await getJson('/api/ps')) as { models: Array<{ name: string; expires_at: string; size_vram: number }> };
    assert.deepEqual(ps.models.map((m) => m.name), ['org/m2'], 'serial scheduler: loading org/m2 evicted m1');
    const expires = Date.parse(ps.models[0]!.expires_at);
    assert.ok(expires >= before + 300_000 && expires <= afterLoad + 300_000, ps.models[0]!.expires_at);
    assert.equal(ps.models[0]!.size_vram, 0);
    assert.equal((await load('m1')).status, 200);
    const ps2 = (await getJson('/api/ps')) as { models: Array<{ name: string; expires_at: string }> };
    assert.deepEqual(ps2.models.map((m) => [m.name, m.expires_at]), [['m1', NEVER_EXPIRES]]);
  });

  test('the new routes need the API key; /wol-health does not', async () => {
    for (const [method, path] of [['GET', '/upstream'], ['GET', '/api/tags'], ['GET', '/api/ps'], ['POST', '/api/models/load/m1']] as const) {
      const r = await fetch(`${app.url}${path}`, { method, headers: { authorization: 'Bearer wrong' } });
      assert.equal(r.status, 401, path);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'invalid_api_key', path);
    }
    assert.equal((await fetch(`${app.url}/wol-health`)).status, 200);
  });
});
