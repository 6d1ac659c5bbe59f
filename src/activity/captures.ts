/**
 * Request/response captures for debugging (`captureBuffer` MB; 0 turns them
 * off and nothing below runs). A capture keeps the request's headers and
 * body and the answer's status, headers and body, with the headers that
 * carry credentials replaced by `[REDACTED]`.
 *
 * Memory is bounded twice: one capture never holds more than the whole
 * buffer (a long stream stops being kept there, and is marked truncated),
 * and the cache drops its oldest captures once their sum passes the buffer.
 * Chunks are kept by reference while the answer streams and joined once at
 * its end, so the bytes to the client are never delayed.
 *
 * A capture is made on the HTTP path, where the request's router id is
 * known, and `hold` there; the recorder then `claim`s it under the row id
 * it gives the request.
 */
import type { IncomingMessage } from 'node:http';

/** Replaced by `[REDACTED]` in captured headers. */
export const REDACTED_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);

/** Captures made but not yet claimed by a row: a few at most (claimed within the same event-loop turn). */
const MAX_HELD = 64;

export interface Capture {
  readonly reqPath: string;
  readonly reqHeaders: Readonly<Record<string, string>>;
  readonly reqBody: Buffer;
  readonly status: number;
  readonly respHeaders: Readonly<Record<string, string>>;
  readonly respBody: Buffer;
  /** A body was cut at the buffer size. */
  readonly truncated: boolean;
  /** What it holds, in bytes (approximate for headers). */
  readonly bytes: number;
}

/** A `rawHeaders` list as one object (repeats joined by ", "), secrets redacted. */
export function redactedHeaders(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = REDACTED_HEADERS.has(name) ? '[REDACTED]' : raw[i + 1]!;
    out[name] = Object.hasOwn(out, name) ? `${out[name]}, ${value}` : value;
  }
  return out;
}

const headerBytes = (h: Readonly<Record<string, string>>): number => Object.entries(h).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);

/** One request's capture in progress. */
export class CaptureTap {
  readonly #limit: number;
  readonly #path: string;
  readonly #reqHeaders: Record<string, string>;
  readonly #reqBody: Buffer;
  #status = 0;
  #respHeaders: Record<string, string> = {};
  readonly #chunks: Buffer[] = [];
  #bytes: number;
  #truncated: boolean;

  constructor(limit: number, path: string, rawHeaders: readonly string[], body: Buffer) {
    this.#limit = limit;
    this.#path = path;
    this.#reqHeaders = redactedHeaders(rawHeaders);
    this.#truncated = body.length > limit;
    this.#reqBody = this.#truncated ? body.subarray(0, limit) : body;
    this.#bytes = this.#reqBody.length + headerBytes(this.#reqHeaders);
  }

  /** Give to forward(): keeps the answer's head and, up to the limit, its body. */
  readonly onAnswer = (answer: IncomingMessage): void => {
    this.#status = answer.statusCode ?? 0;
    this.#respHeaders = redactedHeaders(answer.rawHeaders);
    this.#bytes += headerBytes(this.#respHeaders);
    answer.on('data', (chunk: Buffer) => {
      if (this.#truncated) return;
      const room = this.#limit - this.#bytes;
      if (chunk.length > room) {
        this.#truncated = true;
        if (room > 0) this.#chunks.push(chunk.subarray(0, room));
        this.#bytes = this.#limit;
        return;
      }
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
    });
  };

  finish(): Capture {
    return {
      reqPath: this.#path, reqHeaders: this.#reqHeaders, reqBody: this.#reqBody, status: this.#status,
      respHeaders: this.#respHeaders, respBody: Buffer.concat(this.#chunks), truncated: this.#truncated, bytes: this.#bytes,
    };
  }
}

export class CaptureStore {
  readonly #maxBytes: number;
  readonly #held = new Map<number, Capture>();
  /** Row id → capture, oldest first. */
  readonly #byRow = new Map<number, Capture>();
  #bytes = 0;

  /** `maxBytes` > 0. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Starts capturing a request (`path` as the client asked for it). */
  begin(path: string, rawHeaders: readonly string[], body: Buffer): CaptureTap {
    return new CaptureTap(this.#maxBytes, path, rawHeaders, body);
  }

  /** Keeps `capture` for router request `requestId` until its row claims it. */
  hold(requestId: number, capture: Capture): void {
    this.#held.set(requestId, capture);
    if (this.#held.size > MAX_HELD) this.#held.delete(this.#held.keys().next().value!);
  }

  /** Files the capture held for `requestId` (if any) under `rowId`. */
  claim(requestId: number, rowId: number): void {
    const c = this.#held.get(requestId);
    if (c === undefined) return;
    this.#held.delete(requestId);
    this.#byRow.set(rowId, c);
    this.#bytes += c.bytes;
    for (const [id, old] of this.#byRow) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#byRow.delete(id);
      this.#bytes -= old.bytes;
    }
  }

  get(rowId: number): Capture | undefined {
    return this.#byRow.get(rowId);
  }

  has(rowId: number): boolean {
    return this.#byRow.has(rowId);
  }

  /** Bytes held by claimed captures. */
  get bytes(): number {
    return this.#bytes;
  }
}

/** llama-swap's `/api/captures/{id}` body: the byte fields in base64. */
export function captureJson(id: number, c: Capture): Record<string, unknown> {
  return {
    id, req_path: c.reqPath, req_headers: c.reqHeaders, req_body: c.reqBody.toString('base64'),
    resp_status_code: c.status, resp_headers: c.respHeaders, resp_body: c.respBody.toString('base64'), truncated: c.truncated,
  };
}
