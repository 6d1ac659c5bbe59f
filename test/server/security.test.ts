/**
 * Security of the HTTP layer against a real modelswap: the API key guards
 * every route but /health (and CORS preflights), without side effects for
 * refused requests; keys never reach a log; /upstream reaches configured
 * models only; nothing from a request reaches a shell.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PACE_DELAY_MS } from '../../src/process/read-pacer.ts';
import { MODEL_ROUTES } from '../../src/server/app.ts';
import { startFromYaml, type Started } from '../helpers/modelswap.ts';
import { raw, request, running } from './raw-http.ts';

const KEY = 'sk-KEY-7f3a9c1e5b';
const AUTH = { authorization: `Bearer ${KEY}` };
const YAML = `
apiKeys: [${KEY}]
logLevel: debug
logToStdout: both
routing: { scheduler: { use: fifo } }
groups:
  all: { members: [m1, m2], swap: false, exclusive: false }
models:
  m1:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 3
  m2:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 3
`;

describe('security', () => {
  let app: Started;
  before(async () => {
    app = await startFromYaml(undefined, YAML);
  });
  after(() => app.close(2000));

  const call = (method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> =>
    fetch(`${app.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body, redirect: 'manual', signal: AbortSignal.timeout(10_000) });

  test('every route but /health, /wol-health and OPTIONS needs the key; a refused request changes nothing', async () => {
    assert.equal((await call('POST', '/v1/chat/completions', AUTH, '{"model":"m1"}')).status, 200, 'm1 is loaded');
    const routes: Array<[string, string]> = [
      ...[...MODEL_ROUTES].map((p): [string, string] => ['POST', p]),
      ['GET', '/v1/models'], ['GET', '/models'], ['GET', '/running'], ['GET', '/unload'], ['HEAD', '/unload'],
      ['GET', '/metrics'], ['HEAD', '/metrics'], ['GET', '/api/events'],
      ['POST', '/api/models/unload'], ['POST', '/api/models/unload/m1'],
      ['GET', '/logs'], ['GET', '/logs/stream'], ['GET', '/logs/stream/proxy'], ['GET', '/logs/stream/m1'],
      ['GET', '/upstream/m1/health'], ['POST', '/upstream/m2/v1/chat/completions'], ['PUT', '/upstream/m2/x'], ['GET', '/upstream/m2'],
      ['GET', '/upstream/nope/x'], ['GET', '/nope'], ['GET', '/v1/chat/completions'], ['DELETE', '/running'],
      ['GET', '/props?model=m2'], ['GET', '/v1/audio/voices?model=m2'], ['GET', '/sdapi/v1/loras?model=m2'], ['GET', '/props'],
      ['GET', '/upstream'], ['GET', '/api/tags'], ['GET', '/api/ps'], ['POST', '/api/models/load/m2'], ['POST', '/api/models/load/nope'],
    ];
    const basicWrong = `Basic ${Buffer.from(`user:${KEY}x`).toString('base64')}`;
    for (const [method, path] of routes) {
      const refused: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { 'x-api-key': KEY.slice(0, -1) }, { authorization: basicWrong }];
      for (const headers of refused) {
        const r = await call(method, path, headers, method === 'GET' || method === 'HEAD' ? undefined : '{"model":"m2"}');
        const what = `${method} ${path} ${JSON.stringify(headers)}`;
        assert.equal(r.status, 401, what);
        assert.equal(r.headers.get('www-authenticate'), 'Basic realm="modelswap"', what);
        if (method !== 'HEAD') assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'invalid_api_key', what);
      }
    }
    assert.equal((await call('GET', '/health', {})).status, 200);
    assert.equal((await call('GET', '/wol-health', {})).status, 200);
    assert.equal((await call('OPTIONS', '/v1/chat/completions', { 'access-control-request-method': 'POST' })).status, 204);
    const rows = await running(app.url, AUTH);
    assert.deepEqual(rows.map((r) => [r.model, r.state]), [['m1', 'ready']], 'm1 not unloaded, m2 never started');
  });

  test('keys and credentials never reach a log (access log at debug, upstream logs, stdout)', async () => {
    const secrets = [KEY, 'sk-WRONG-4d2b8e', 'COOKIE-SECRET-91', 'PROXY-SECRET-37', 'QUERY-SECRET-55'];
    const basic = Buffer.from(`user:${KEY}`).toString('base64');
    const headerSets: Array<Record<string, string>> = [
      AUTH, { 'x-api-key': KEY }, { authorization: `Basic ${basic}` },
      { authorization: 'Bearer sk-WRONG-4d2b8e' }, { ...AUTH, cookie: 'session=COOKIE-SECRET-91', 'proxy-authorization': 'Basic PROXY-SECRET-37' },
    ];
    const requests: Array<[string, string, string | undefined]> = [
      ['POST', '/v1/chat/completions', '{"model":"m1","messages":[{"role":"user","content":"x"}]}'],
      ['POST', '/v1/chat/completions', '{"model":"m1","stream":true,"messages":[{"role":"user","content":"x"}]}'],
      ['POST', '/v1/chat/completions', '{"model":"nope"}'], ['GET', '/upstream/m1/health', undefined], ['GET', '/running', undefined],
      ['GET', '/v1/models?api_key=QUERY-SECRET-55', undefined], ['GET', '/upstream/m2/v1/models?key=QUERY-SECRET-55', undefined],
    ];
    for (const headers of headerSets) for (const [method, path, body] of requests) await (await call(method, path, headers, body)).arrayBuffer();
    await new Promise((r) => setTimeout(r, 4 * PACE_DELAY_MS)); // a ready server's last lines are read in batches, this far apart at most
    const logs = await (await call('GET', '/logs', AUTH)).text();
    assert.match(logs, /"url":"\/v1\/models\?api_key=\[redacted\]"/, 'the access log ran, with the query value redacted');
    const everything: Array<[string, string]> = [
      ['/logs', logs], ['stdout', app.output.join('')], ['proxy ring', app.logs.proxy.history()],
      ['upstream ring', app.logs.upstream.history()], ['m1 ring', app.logs.model('m1').history()], ['m2 ring', app.logs.model('m2').history()],
    ];
    for (const [where, text] of everything) {
      for (const s of [...secrets, basic]) assert.ok(!text.includes(s), `${where} contains ${s}`);
    }
  });

  test('/upstream reaches configured models only: not a host, not a URL, not an absolute-form request target', async () => {
    let hits = 0;
    const sentinel = createServer((_req, res) => {
      hits++;
      res.end('sentinel');
    });
    sentinel.listen(0, '127.0.0.1');
    await once(sentinel, 'listening');
    try {
      const hp = `127.0.0.1:${(sentinel.address() as AddressInfo).port}`;
      const h = { Authorization: AUTH.authorization };
      const notFound = [
        `/upstream/${hp}/health`, `/upstream/http:%2f%2f${hp}/health`, `/upstream/http:/${hp}/health`,
        `/upstream/${encodeURIComponent(`http://${hp}`)}/health`, '/upstream/localhost/health',
      ];
      for (const p of notFound) {
        const r = await raw(app.url, [request('GET', p, { headers: h })]);
        assert.equal(r.status, 404, p);
      }
      const toM1 = [`/upstream/m1//${hp}/health`, `/upstream/m1/@${hp}/health`, `http://${hp}/upstream/m1/health`];
      for (const p of toM1) {
        const r = await raw(app.url, [request('GET', p, { headers: { ...h, Host: hp } })]);
        assert.equal(r.headers['x-served-by']?.split('@')[0], 'm1', `${p}: ${r.raw.toString().slice(0, 200)}`);
      }
      const own = await raw(app.url, [request('GET', `http://${hp}/health`, { headers: { Host: hp } })]);
      assert.deepEqual([own.status, own.headers['x-served-by']], [200, undefined], 'absolute-form is routed on its path');
      assert.match(own.body.toString(), /\bOK\b/);
      assert.equal(hits, 0, 'nothing reached the sentinel server');
    } finally {
      sentinel.close();
    }
  });

  test('no request string reaches a process: the HTTP layer imports nothing that spawns', () => {
    // Review (not testable from here): commands come from config only, are split without a shell
    // (config/command.ts) and spawned with an argv; process/launch.ts's `sh -c` runs a fixed script
    // that ends in `exec "$@"`, so argv is passed as positional parameters, never interpolated.
    const dir = fileURLToPath(new URL('../../src/server', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    assert.ok(files.includes('app.ts'));
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      assert.doesNotMatch(text, /from '(node:)?child_process'|from 'execa'|from '\.\.\/process\//, f);
    }
  });
});
