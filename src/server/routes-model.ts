/**
 * The model-dispatched routes: which method and path name a model, and the
 * path the upstream is sent. Two prefixes are removed before forwarding:
 * `/v` of the versionless routes (`/v/chat/completions` reaches the upstream
 * as `/chat/completions`, for clients configured with a base URL that has no
 * `/v1`), and `/audioapi` (`/audioapi/v1/tasks/run` reaches it as
 * `/v1/tasks/run`, audio.cpp's task API).
 */
import { ProxyError } from '../errors.ts';
import { quote } from './quote.ts';

/** Versionless routes: the same requests as their `/v1` twins, the `/v` removed before forwarding. */
const VERSIONLESS = [
  '/v/chat/completions', '/v/responses', '/v/completions', '/v/messages', '/v/messages/count_tokens',
  '/v/embeddings', '/v/rerank', '/v/reranking',
];

/** POST paths whose model comes from the body (JSON or form) or `?model=`. */
export const MODEL_ROUTES: ReadonlySet<string> = new Set([
  '/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses',
  '/v1/rerank', '/v1/reranking', '/rerank', '/reranking',
  '/v1/audio/speech', '/v1/audio/voices', '/v1/audio/transcriptions', '/v1/audio/translations',
  '/v1/images/generations', '/v1/images/edits', '/sdapi/v1/txt2img', '/sdapi/v1/img2img',
  '/v1/messages', '/v1/messages/count_tokens', '/infill', '/completion',
  '/audioapi/v1/tasks/run', ...VERSIONLESS,
]);

/** GET (and HEAD) paths whose model comes from `?model=`, which they require. */
export const MODEL_GET_ROUTES: ReadonlySet<string> = new Set(['/v1/audio/voices', '/sdapi/v1/loras', '/props']);

/** The prefixes removed before forwarding (see the file comment). */
const STRIPPED_PREFIXES = ['/v/', '/audioapi/'];

/**
 * The request URL to forward when `method` and `url` name a model-dispatched
 * route (its path without a stripped prefix, its query kept), or undefined
 * for any other route. A GET route without `?model=` is a NO_MODEL error
 * that says so: unlike a POST, it has no body to name the model in.
 */
export function modelRoute(method: string, url: URL): URL | undefined {
  const path = url.pathname;
  if (method === 'POST') {
    if (!MODEL_ROUTES.has(path)) return undefined;
  } else if (method === 'GET' || method === 'HEAD') {
    if (!MODEL_GET_ROUTES.has(path)) return undefined;
    if ((url.searchParams.get('model') ?? '') === '') {
      throw new ProxyError('NO_MODEL', `no model specified: ${method} ${quote(path)} takes the model as ?model=<id>`);
    }
  } else {
    return undefined;
  }
  const prefix = STRIPPED_PREFIXES.find((p) => path.startsWith(p));
  if (prefix === undefined) return url;
  const out = new URL(url.href);
  out.pathname = path.slice(prefix.length - 1);
  return out;
}
