/**
 * timeouts.responseHeader end to end: a real upstream child that answers its
 * health check but never answers a request gets the client a 504 once the
 * model's responseHeader time has passed, instead of a request that hangs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postJson, startFromYaml, type Started } from '../helpers/modelswap.ts';

const SILENT = `require('http').createServer((q, s) => { if (q.url === '/health') s.end('ok'); }).listen(Number(process.argv[1]), '127.0.0.1')`;

const YAML = `
models:
  silent:
    cmd: ${process.execPath} -e "${SILENT}" \${PORT}
    timeouts: { responseHeader: 0.3 }
`;

describe('timeouts.responseHeader', () => {
  let app: Started;
  before(async () => {
    app = await startFromYaml(undefined, YAML);
  });
  after(() => app.close(2000));

  test('an upstream that sends no headers in time gets the client a 504 naming the setting', async () => {
    const started = performance.now();
    const r = await postJson(`${app.url}/v1/chat/completions`, { model: 'silent', messages: [] });
    assert.equal(r.status, 504);
    assert.equal(r.json.error.code, 'upstream_timeout');
    assert.match(String(r.json.error.message), /no response headers \(timeouts\.responseHeader\) after 0\.3 s/);
    assert.ok(performance.now() - started < 15_000);
  });
});
