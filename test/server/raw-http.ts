/**
 * Raw HTTP/1.1 over `net` sockets, for requests fetch and node:http refuse
 * to send (bogus framing, raw paths, stalls, disconnects at a chosen byte),
 * plus reads of /running for leak checks. Everything on 127.0.0.1, bounded.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '../helpers/modelswap.ts';

export interface RawResponse {
  /** 0 when no complete status line arrived. */
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Bytes after the head (not de-chunked). */
  readonly body: Buffer;
  /** Everything received. */
  readonly raw: Buffer;
  /** ms from the first byte written to the socket closing. */
  readonly ms: number;
}

/** Parse the first response head out of raw bytes. */
export function parseResponse(raw: Buffer, ms: number): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = (end < 0 ? raw : raw.subarray(0, end)).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, body: end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4), raw, ms };
}

/** A step of a raw exchange: bytes to write, or a pause. */
export type Step = string | Buffer | { readonly pauseMs: number };

/**
 * Write `steps` on a fresh connection, half-close nothing, and collect what
 * comes back until the server closes the connection (or `timeoutMs`, then the
 * socket is destroyed and what arrived is returned). Use `Connection: close`
 * in complete requests so the server ends the exchange.
 */
export async function raw(url: string, steps: readonly Step[], timeoutMs = 10_000): Promise<RawResponse> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => void chunks.push(d));
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.on('error', () => undefined); // resets are an answer too
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const started = performance.now();
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  for (const s of steps) {
    if (socket.destroyed) break;
    if (typeof s === 'object' && !Buffer.isBuffer(s)) await sleep(s.pauseMs);
    else socket.write(s);
  }
  await closed;
  clearTimeout(timer);
  return parseResponse(Buffer.concat(chunks), performance.now() - started);
}

/** An open connection driven step by step, for disconnect-at-a-moment tests. */
export async function openRaw(url: string): Promise<{ socket: Socket; received: () => Buffer }> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => void chunks.push(d));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => Buffer.concat(chunks) };
}

/** A complete request with `Connection: close` and a content-length for `body`. */
export function request(method: string, path: string, o: { headers?: Record<string, string>; body?: string | Buffer } = {}): Buffer {
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`${k}: ${v}`);
  if (body !== undefined) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
}

export type RunningRow = { model: string; state: string; inFlight: number; queued: number; proxy: string };

export async function running(url: string, headers: Record<string, string> = {}): Promise<RunningRow[]> {
  const r = await fetch(`${url}/running`, { headers, signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200, '/running answers');
  return ((await r.json()) as { running: RunningRow[] }).running;
}

/** Wait until no model has a request in flight or queued (the leak check); fails with the last rows. */
export async function assertIdle(url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<void> {
  let rows: RunningRow[] = [];
  try {
    await until(async () => {
      rows = await running(url, headers);
      return rows.every((r) => r.inFlight === 0 && r.queued === 0);
    }, timeoutMs, 'no request in flight or queued');
  } catch (err) {
    assert.fail(`${(err as Error).message}: ${JSON.stringify(rows)}`);
  }
}

/** The parsed OpenAI error of a raw response (content-length framed). */
export function errorOf(r: RawResponse): { message: string; type: string; code: string } {
  const parsed = JSON.parse(r.body.toString('utf8')) as { error: { message: string; type: string; code: string } };
  return parsed.error;
}

/**
 * The body of a response as the client would read it: de-chunked when
 * `transfer-encoding: chunked`, cut at content-length otherwise. Leading 1xx
 * interim responses are skipped by `finalResponse` first.
 */
export function bodyOf(r: RawResponse): Buffer {
  if (/chunked/i.test(r.headers['transfer-encoding'] ?? '')) {
    const out: Buffer[] = [];
    let at = 0;
    while (at < r.body.length) {
      const eol = r.body.indexOf('\r\n', at);
      if (eol < 0) break;
      const size = parseInt(r.body.subarray(at, eol).toString('latin1'), 16);
      if (!Number.isFinite(size) || size === 0) break;
      out.push(r.body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    return Buffer.concat(out);
  }
  const len = Number(r.headers['content-length'] ?? NaN);
  return Number.isFinite(len) ? r.body.subarray(0, len) : r.body;
}

/** The response after any `HTTP/1.1 1xx` interim responses (100 Continue). */
export function finalResponse(r: RawResponse): RawResponse {
  let rest = r.raw;
  while (/^HTTP\/1\.[01] 1\d\d /.test(rest.subarray(0, 16).toString('latin1'))) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    rest = rest.subarray(end + 4);
  }
  return rest === r.raw ? r : parseResponse(rest, r.ms);
}
