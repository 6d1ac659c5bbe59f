/**
 * The UI's HTTP side without a browser: `/` redirects, the page and its
 * modules are served open with a content security policy that admits the
 * inline import map, only known files are served, the UI's API endpoints
 * (`/api/ui/config`, `/api/events/recent`) need the key, and a 401 to a
 * script (X-Requested-With) carries no Basic challenge.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startFromYaml, type Started } from '../helpers/modelswap.ts';

const KEY = 'ui-key';
const AUTH = { authorization: `Bearer ${KEY}` };

const YAML = `
apiKeys: [${KEY}]
models:
  a:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
  b:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
`;

describe('UI routes', () => {
  let app: Started;
  before(async () => {
    app = await startFromYaml(undefined, YAML);
  });
  after(() => app.close(2000));

  test('GET / redirects to /ui/ with no key', async () => {
    const res = await fetch(`${app.url}/`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/ui/');
  });

  test('the page is open, and its policy admits exactly its inline import map', async () => {
    for (const path of ['/ui', '/ui/', '/ui/models']) {
      const res = await fetch(`${app.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const html = await res.text();
      const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];
      assert.ok(map !== undefined);
      const hash = createHash('sha256').update(map).digest('base64');
      assert.match(res.headers.get('content-security-policy') ?? '', new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}'`));
    }
  });

  test('modules, the stylesheet and the vendored Preact, hooks and htm are served with their types', async () => {
    for (const [path, type] of [['/ui/main.js', 'text/javascript'], ['/ui/pages/models.js', 'text/javascript'], ['/ui/style.css', 'text/css'],
      ['/ui/vendor/preact.js', 'text/javascript'], ['/ui/vendor/preact-hooks.js', 'text/javascript'], ['/ui/vendor/htm.js', 'text/javascript'], ['/ui/icon.svg', 'image/svg+xml']] as const) {
      const res = await fetch(`${app.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', new RegExp(`^${type.replace('+', '\\+')}`), path);
      assert.ok((await res.text()).length > 0);
    }
    const hooks = await (await fetch(`${app.url}/ui/vendor/preact-hooks.js`)).text();
    assert.match(hooks, /from\s*"preact"/, 'the hooks import "preact", which the import map resolves');
  });

  test('only known files: other names are 404, never a file outside ui/', async () => {
    for (const path of ['/ui/nope.js', '/ui/vendor/other.js', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/a/b/c.js', '/ui/index.html.bak', '/ui/Main.js']) {
      const res = await fetch(`${app.url}${path}`);
      // `%2e%2e` is `..` to the URL parser: that path leaves /ui/ and meets the key check instead
      assert.equal(res.status, path.startsWith('/ui/%2e%2e/') ? 401 : 404, path);
      assert.doesNotMatch(await res.text(), /devDependencies/);
    }
  });

  test('the UI API needs the key; a script gets a 401 without the Basic challenge', async () => {
    const plain = await fetch(`${app.url}/api/ui/config`);
    assert.equal(plain.status, 401);
    assert.match(plain.headers.get('www-authenticate') ?? '', /^Basic/);
    const script = await fetch(`${app.url}/api/ui/config`, { headers: { 'x-requested-with': 'modelswap-ui' } });
    assert.equal(script.status, 401);
    assert.equal(script.headers.get('www-authenticate'), null);
    assert.equal((await fetch(`${app.url}/api/events/recent`)).status, 401);
    const ok = await fetch(`${app.url}/api/ui/config`, { headers: AUTH });
    assert.equal(ok.status, 200);
    const body = await ok.json() as { models: { id: string }[]; apiKeys: boolean };
    assert.deepEqual(body.models.map((m) => m.id), ['a', 'b']);
    assert.equal(body.apiKeys, true);
  });

  test('GET /api/events/recent holds loads and state changes that happened before anyone listened', async () => {
    for (const m of ['a', 'b']) assert.equal((await fetch(`${app.url}/api/models/load/${m}`, { method: 'POST', headers: AUTH })).status, 200);
    const res = await fetch(`${app.url}/api/events/recent`, { headers: AUTH });
    assert.equal(res.status, 200);
    const body = await res.json() as { at: number; events: { type: string; model: string; phase?: string; evicting?: string[]; state?: string }[]; snapshot: { model: string; state: string }[] };
    const swap = body.events.find((e) => e.type === 'load' && e.phase === 'ready' && e.model === 'b');
    assert.deepEqual(swap?.evicting, ['a'], 'the swap from a to b');
    assert.ok(body.events.some((e) => e.type === 'model' && e.model === 'a' && e.state === 'stopped'));
    assert.ok(!body.events.some((e) => e.type === 'load' && e.phase === 'progress'));
    assert.equal(body.snapshot.find((s) => s.model === 'b')?.state, 'ready');
    const later = await (await fetch(`${app.url}/api/events/recent?since=${body.at + 1}`, { headers: AUTH })).json() as { events: unknown[] };
    assert.deepEqual(later.events, []);
  });
});
