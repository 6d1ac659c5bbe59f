/**
 * Requests that must not start a model: `/upstream` paths listed in
 * upstream.ignorePaths (409 until the model is ready), and a model whose
 * default proxy needs a ${PORT} its cmd never gets (accepted with a
 * warning, as llama-swap's own examples contain one; its requests fail at
 * once with the reason). Real modelswap, real fake-llama-server children.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postJson, startFromYaml, type Started } from '../helpers/modelswap.ts';

const YAML = `
upstream:
  ignorePaths: ['.*\\.(js|css)$', '^/ws$']
models:
  m:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
  broken:
    cmd: \${fake} --port 1 --model-id \${MODEL_ID}
`;

describe('requests that may not start a model', () => {
  let app: Started;

  before(async () => {
    app = await startFromYaml(undefined, YAML);
  });
  after(() => app.close(2000));

  test('an ignored /upstream path gets 409 while the model is stopped, and reaches it once ready', async () => {
    const stopped = await fetch(`${app.url}/upstream/m/assets/app.js`);
    assert.equal(stopped.status, 409);
    const body = (await stopped.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'model_not_ready');
    assert.match(body.error.message, /upstream\.ignorePaths/);
    assert.equal(app.router.status('m'), 'stopped');
    const ws = await fetch(`${app.url}/upstream/m/ws`);
    assert.equal(ws.status, 409);

    const started = await postJson(`${app.url}/v1/chat/completions`, { model: 'm', messages: [] });
    assert.equal(started.status, 200);
    const ready = await fetch(`${app.url}/upstream/m/assets/app.js`);
    assert.equal(ready.status, 404, 'the fake server answered (it has no such file)');
    assert.equal(ready.headers.get('x-served-by')?.startsWith('m@'), true);
    const other = await fetch(`${app.url}/upstream/m/health`);
    assert.equal(other.status, 200);
  });

  test('a model whose default proxy has no port loads with a warning and fails its requests at once', async () => {
    const logged = app.output.join('').split('\n').filter((l) => l.includes('models.broken.proxy'));
    assert.equal(logged.length, 1, app.output.join(''));
    assert.match(logged[0] ?? '', /"level":40.*cannot start: its proxy defaults to http:\/\/localhost:\$\{PORT\}/);
    for (const url of [`${app.url}/v1/chat/completions`, `${app.url}/upstream/broken/v1/chat/completions`]) {
      const r = await postJson(url, { model: 'broken', messages: [] });
      assert.equal(r.status, 502, url);
      assert.match(String(r.json.error.message), /model "broken" cannot start/);
    }
    assert.equal(app.router.status('broken'), 'stopped');
  });
});
