/**
 * Finding the model a request names: JSON body `model`, multipart or
 * urlencoded form field `model`, or `?model=`. The body is never altered here;
 * `rewriteModel` produces a new body for `useModelName`.
 */
import busboy from 'busboy';
import { ProxyError } from '../errors.ts';
import { replaceTopLevelValue } from './json-model.ts';
import { describeJsonValue } from './quote.ts';
import { firstInvalidUtf8 } from './utf8.ts';

export type BodyKind = 'json' | 'multipart' | 'form' | 'other';

export interface Extracted {
  readonly model: string;
  readonly kind: BodyKind;
  /** The parsed JSON object, for kind 'json'. */
  readonly json: Record<string, unknown> | undefined;
}

const NO_MODEL = 'no model specified: set "model" in the JSON body, in the form data, or as ?model=';

/**
 * How to read the model from a body:
 * 1. multipart/form-data -> the form field;
 * 2. any content type naming json -> JSON;
 * 3. any other body whose first non-blank byte is `{` -> JSON. `curl -d '{…}'`
 *    without -H sends application/x-www-form-urlencoded, and SDKs sometimes
 *    send text/plain; llama-swap reads `model` with gjson whatever the
 *    content type, so these must work here too. A urlencoded form never
 *    starts with `{` in practice;
 * 4. urlencoded -> the form field;
 * 5. no content type and a body -> JSON (so a garbled body gets "not valid JSON");
 * 6. otherwise nothing: `?model=` or NO_MODEL.
 */
export function bodyKind(contentType: string | undefined, body: Buffer): BodyKind {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.startsWith('multipart/form-data')) return 'multipart'; // (1)
  if (ct.includes('json')) return 'json'; // (2)
  if (startsWithBrace(body)) return 'json'; // (3)
  if (ct.startsWith('application/x-www-form-urlencoded')) return 'form'; // (4)
  if (ct === '' && body.length > 0) return 'json'; // (5)
  return 'other'; // (6)
}

function startsWithBrace(body: Buffer): boolean {
  for (const c of body) {
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x7b;
  }
  return false;
}

/** `query` is read only when the body names no model (a URL's `searchParams` is built on first use). */
export async function extractModel(contentType: string | undefined, body: Buffer, query: Pick<URLSearchParams, 'get'>): Promise<Extracted> {
  const kind = bodyKind(contentType, body);
  let fromBody: unknown;
  let json: Record<string, unknown> | undefined;
  switch (kind) {
    case 'json': {
      if (body.length === 0) break;
      rejectInvalidUtf8(body);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new ProxyError('BAD_REQUEST', `request body is not valid JSON: ${(err as Error).message}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new ProxyError('BAD_REQUEST', 'request body must be a JSON object');
      }
      json = parsed as Record<string, unknown>;
      fromBody = json['model'];
      break;
    }
    case 'multipart':
      fromBody = await multipartField(contentType!, body, 'model');
      break;
    case 'form':
      fromBody = new URLSearchParams(body.toString('utf8')).get('model') ?? undefined;
      break;
    case 'other':
      break;
  }
  const model = fromBody ?? query.get('model') ?? undefined;
  if (model === undefined || model === '') throw new ProxyError('NO_MODEL', NO_MODEL);
  if (typeof model !== 'string') {
    throw new ProxyError('BAD_REQUEST', `"model" must be a string, got ${describeJsonValue(model)}`);
  }
  return { model, kind, json };
}

/**
 * JSON bodies must be UTF-8 (RFC 8259 §8.1). `toString('utf8')` would turn
 * bad bytes into U+FFFD and JSON.parse would accept the result, so the model
 * name routed on could differ from the bytes sent, and the upstream would
 * get bytes its own parser rejects (llama-server answers those with a 500).
 * Refuse them here with 400 and the offset instead. Multipart and `/upstream`
 * bodies are never decoded, so they pass untouched.
 */
function rejectInvalidUtf8(body: Buffer): void {
  const at = firstInvalidUtf8(body);
  if (at < 0) return;
  const bytes = [...body.subarray(at, at + 4)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
  throw new ProxyError(
    'BAD_REQUEST',
    `request body is not valid UTF-8 (JSON must be UTF-8): invalid byte sequence at byte offset ${at} (${bytes})`,
  );
}

function multipartField(contentType: string, body: Buffer, name: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let value: string | undefined;
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: { 'content-type': contentType }, limits: { fieldSize: 64 * 1024 } });
    } catch (err) {
      reject(new ProxyError('BAD_REQUEST', `bad multipart request: ${(err as Error).message}`));
      return;
    }
    bb.on('field', (field, v) => {
      if (field === name && value === undefined) value = v;
    });
    bb.on('file', (_field, stream) => {
      // A truncated upload errors the file stream too; unhandled, that error crashed the proxy.
      // The same failure reaches `bb`'s 'error' below, which answers it.
      stream.on('error', () => undefined);
      stream.resume();
    });
    bb.on('close', () => resolve(value));
    bb.on('error', (err) => reject(new ProxyError('BAD_REQUEST', `bad multipart request: ${(err as Error).message}`)));
    bb.end(body);
  });
}

/**
 * The body to forward with `model` replaced by `name` (useModelName). `ex`
 * must come from `extractModel` on this same `body` and `contentType`.
 * - json: the value of the top-level "model" member is spliced in place
 *   (json-model.ts): nested "model" keys, big integers, key order and
 *   whitespace are forwarded byte-for-byte. Duplicate top-level "model"
 *   members are all replaced. With no top-level "model" (the name came from
 *   `?model=`) the body is returned as is; nothing is added.
 * - form: re-encoded by URLSearchParams; `set` keeps one `model` field, at
 *   the first one's position, with the new value.
 * - multipart: the first `model` part's value is spliced; other parts,
 *   files included, are untouched.
 * Returns `body` itself when there is nothing to replace.
 */
export function rewriteModel(ex: Extracted, contentType: string | undefined, body: Buffer, name: string): Buffer {
  switch (ex.kind) {
    case 'json':
      return ex.json === undefined ? body : replaceTopLevelValue(body, 'model', JSON.stringify(name));
    case 'form': {
      const params = new URLSearchParams(body.toString('utf8'));
      if (!params.has('model')) return body;
      params.set('model', name);
      return Buffer.from(params.toString());
    }
    case 'multipart':
      return rewriteMultipartField(contentType ?? '', body, 'model', name);
    case 'other':
      return body;
  }
}

/** Replace one text field's value in a multipart body, leaving every other byte as it was. */
function rewriteMultipartField(contentType: string, body: Buffer, field: string, value: string): Buffer {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (boundary === undefined) return body;
  const text = body.toString('latin1'); // byte-preserving
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(
    `(--${esc(boundary)}\\r\\nContent-Disposition: form-data; name="${esc(field)}"\\r\\n(?:[^\\r\\n]+\\r\\n)*\\r\\n)([\\s\\S]*?)(\\r\\n--${esc(boundary)})`,
    'i',
  );
  const hit = re.exec(text);
  if (hit === null) return body;
  const start = hit.index + hit[1]!.length;
  const end = start + hit[2]!.length;
  return Buffer.concat([body.subarray(0, start), Buffer.from(value, 'utf8'), body.subarray(end)]);
}
