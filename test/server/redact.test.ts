import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { LOG_REDACT, redactUrl, SENSITIVE_HEADERS } from '../../src/server/redact.ts';

test('redactUrl hides credential-looking query values and keeps everything else byte for byte', () => {
  const cases: Array<[string, string]> = [
    ['/v1/models', '/v1/models'],
    ['/props?model=m1', '/props?model=m1'],
    ['/v1/models?api_key=sk-123&x=1', '/v1/models?api_key=[redacted]&x=1'],
    ['/x?key=a&token=b&access_token=c&password=d&auth=e&X-Api-Key=f&sig=g', '/x?key=[redacted]&token=[redacted]&access_token=[redacted]&password=[redacted]&auth=[redacted]&X-Api-Key=[redacted]&sig=[redacted]'],
    ['/x?%61pi_key=sk', '/x?%61pi_key=[redacted]'],
    ['/x?%E0=1&model=m', '/x?%E0=1&model=m'],
    ['/x?flag&model=a=b', '/x?flag&model=a=b'],
  ];
  for (const [url, want] of cases) assert.equal(redactUrl(url), want, url);
});

test('the pino redact paths cover every credential header', () => {
  for (const h of ['authorization', 'proxy-authorization', 'x-api-key', 'cookie']) {
    assert.ok(SENSITIVE_HEADERS.includes(h));
    assert.ok(LOG_REDACT.paths.includes(`req.headers["${h}"]`), h);
  }
});

test('pino with LOG_REDACT censors credential headers wherever a request or headers object is logged', () => {
  const out: string[] = [];
  const logger = pino({ base: undefined, redact: LOG_REDACT }, { write: (s: string) => void out.push(s) });
  const headers = { authorization: 'Bearer S1', 'x-api-key': 'S2', cookie: 'S3', 'proxy-authorization': 'S4', accept: 'text/plain' };
  logger.info({ req: { headers }, headers }, 'request');
  const text = out.join('');
  for (const s of ['S1', 'S2', 'S3', 'S4']) assert.ok(!text.includes(s), s);
  assert.match(text, /"accept":"text\/plain"/);
});
