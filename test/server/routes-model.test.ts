/** modelRoute: which requests are model-dispatched and the path each upstream receives, as a table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyError } from '../../src/errors.ts';
import { modelRoute } from '../../src/server/routes-model.ts';

const at = (path: string): URL => new URL(path, 'http://modelswap.invalid');
const forwarded = (method: string, path: string): string | undefined => {
  const u = modelRoute(method, at(path));
  return u === undefined ? undefined : u.pathname + u.search;
};

test('forwarded path per route: /v and /audioapi removed, query kept, other paths as they are', () => {
  const table: Array<[string, string, string | undefined]> = [
    ['POST', '/v1/chat/completions', '/v1/chat/completions'],
    ['POST', '/v/chat/completions', '/chat/completions'],
    ['POST', '/v/responses', '/responses'],
    ['POST', '/v/completions', '/completions'],
    ['POST', '/v/messages', '/messages'],
    ['POST', '/v/messages/count_tokens', '/messages/count_tokens'],
    ['POST', '/v/embeddings', '/embeddings'],
    ['POST', '/v/rerank', '/rerank'],
    ['POST', '/v/reranking', '/reranking'],
    ['POST', '/v/chat/completions?model=m&x=1', '/chat/completions?model=m&x=1'],
    ['POST', '/audioapi/v1/tasks/run', '/v1/tasks/run'],
    ['POST', '/v1/images/edits', '/v1/images/edits'],
    ['POST', '/v1/audio/voices', '/v1/audio/voices'],
    ['POST', '/sdapi/v1/txt2img', '/sdapi/v1/txt2img'],
    ['POST', '/sdapi/v1/img2img', '/sdapi/v1/img2img'],
    ['POST', '/v1/messages/count_tokens', '/v1/messages/count_tokens'],
    ['GET', '/props?model=m', '/props?model=m'],
    ['HEAD', '/props?model=m', '/props?model=m'],
    ['GET', '/v1/audio/voices?model=m', '/v1/audio/voices?model=m'],
    ['GET', '/sdapi/v1/loras?model=m', '/sdapi/v1/loras?model=m'],
    // Not model-dispatched: left to the other routes (or 404).
    ['GET', '/v/chat/completions', undefined],
    ['POST', '/v/models', undefined],
    ['POST', '/v2/chat/completions', undefined],
    ['POST', '/props', undefined],
    ['POST', '/sdapi/v1/loras', undefined],
    ['POST', '/audioapi/v1/other', undefined],
    ['PUT', '/v1/chat/completions', undefined],
    ['DELETE', '/props?model=m', undefined],
  ];
  for (const [method, path, want] of table) assert.equal(forwarded(method, path), want, `${method} ${path}`);
});

test('a GET route without ?model= (or with it empty) is NO_MODEL naming the parameter', () => {
  for (const path of ['/props', '/props?model=', '/v1/audio/voices?voice=x', '/sdapi/v1/loras']) {
    assert.throws(() => modelRoute('GET', at(path)), (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.code, 'NO_MODEL');
      assert.match(err.message, /\?model=<id>/);
      return true;
    }, path);
  }
});
