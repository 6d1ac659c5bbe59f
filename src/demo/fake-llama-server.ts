/**
 * A small, realistic stand-in for llama.cpp's `llama-server`: the demo upstream
 * (`npm start`) and the test fixture. node:http only. It behaves as the real
 * llama-server does at start: the port is bound at once, everything
 * answers 503 "Loading model" for --load-ms, then /health is 200.
 *
 *   node src/demo/fake-llama-server.ts --port N [--host 127.0.0.1] [--model-id ID]
 *     [--load-ms 0] [--token-ms 0] [--tokens 16] [--crash-after-chunks N]
 *     [--error-after-chunks N] [--exit-at-start CODE] [--ignore-sigterm] [--fork-grandchild]
 *     [--stamp-chunks] [--idle-helpers] [--echo-body]
 *
 * --error-after-chunks N fails generation like llama-server does: a stream
 * gets N token chunks, then `data: {"error":{…}}` and ends WITHOUT [DONE]; a
 * non-streaming request gets HTTP 500 with the same error body.
 *
 * --crash-after-chunks N counts every SSE event written (the role chunk is
 * the first), then exits 1 without [DONE], like a segfaulting server.
 *
 * --stamp-chunks adds `"sent_ms": <performance.timeOrigin + performance.now()>`
 * to every SSE event as it is written, for the benchmark's per-chunk delay.
 * --idle-helpers runs this process's V8 helper threads under SCHED_IDLE, so
 * the instrument's own JIT threads do not delay its writes (src/helper-threads.ts).
 *
 * --echo-body adds `"received_body": <the parsed request body>` to every
 * non-streaming JSON answer to a POST, so a test can see what the proxy
 * forwarded (filters, useModelName).
 *
 * Every response names who served it: JSON `model` is --model-id, generated
 * text contains `[<id>@<port>]`, header `x-served-by: <id>@<port>`; the
 * request's own `model` comes back as `requested_model`.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import busboy from 'busboy';
import { setV8HelperPolicy } from '../helper-threads.ts';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'model-id': { type: 'string', default: 'fake-model' },
    'load-ms': { type: 'string', default: '0' },
    'token-ms': { type: 'string', default: '0' },
    tokens: { type: 'string', default: '16' },
    'crash-after-chunks': { type: 'string' },
    'error-after-chunks': { type: 'string' },
    'exit-at-start': { type: 'string' },
    'ignore-sigterm': { type: 'boolean', default: false },
    'fork-grandchild': { type: 'boolean', default: false },
    'stamp-chunks': { type: 'boolean', default: false },
    'idle-helpers': { type: 'boolean', default: false },
    'echo-body': { type: 'boolean', default: false },
  },
  strict: true,
});

function intArg(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`error: --${name} must be a non-negative integer, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const host = args.host;
const port = intArg('port', args.port, -1);
const modelId = args['model-id'];
const loadMs = intArg('load-ms', args['load-ms'], 0);
const tokenMs = intArg('token-ms', args['token-ms'], 0);
const maxTokens = intArg('tokens', args.tokens, 16);
const crashAfter = args['crash-after-chunks'] === undefined ? undefined : intArg('crash-after-chunks', args['crash-after-chunks'], 0);
const errorAfter = args['error-after-chunks'] === undefined ? undefined : intArg('error-after-chunks', args['error-after-chunks'], 0);
const servedBy = `${modelId}@${port}`;
const stamp = args['stamp-chunks'];
/** With --echo-body: the request body, to add to a JSON answer. */
const echoed = (body: Json): Json => (args['echo-body'] ? { received_body: body } : {});
const GENERATION_ERROR = { code: 500, message: `[${modelId}] failed to decode: the KV cache is full (fake failure)`, type: 'server_error' };

if (port < 0) {
  process.stderr.write('error: --port is required\n');
  process.exit(2);
}
log(`main: fake llama-server pid ${process.pid}, model '${modelId}'`);
if (args['idle-helpers']) {
  void setV8HelperPolicy('idle').then((r) => log(r.ok ? `main: ${r.threads} V8 helper threads under SCHED_IDLE` : `main: warning: --idle-helpers: ${r.reason}`));
}
if (args['exit-at-start'] !== undefined) {
  const code = intArg('exit-at-start', args['exit-at-start'], 1);
  log(`llama_model_load: loading model '${modelId}'`);
  process.stderr.write(`error: failed to load model '${modelId}'\n`);
  process.exit(code);
}

let loaded = loadMs === 0;
if (!loaded) {
  log(`main: loading model (${loadMs} ms)`);
  setTimeout(() => {
    loaded = true;
    log('main: model loaded');
  }, loadMs);
}

process.on('SIGTERM', () => {
  if (args['ignore-sigterm']) return log('main: received SIGTERM, ignoring it');
  log('main: received SIGTERM, cleaning up before exit...');
  process.exit(0);
});
process.on('SIGINT', () => process.exit(0));

if (args['fork-grandchild']) {
  // Same process group (not detached), ignores SIGTERM, holds our stdout: the worst case for tree killing.
  const gc = spawn(process.execPath, ['-e', "process.on('SIGTERM',()=>console.log('grandchild: ignoring SIGTERM'));console.log('grandchild: pid '+process.pid+' running, ignores SIGTERM');setInterval(()=>{},1000)"], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  log(`main: forked grandchild pid ${gc.pid}`);
}

// ---------------------------------------------------------------- generation

const WORDS = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'a', 'lazy', 'dog', 'while', 'llamas', 'swap', 'models'];
const tokenAt = (i: number): string => (i === 0 ? `[${servedBy}]` : ` ${WORDS[(i - 1) % WORDS.length]}`);
const text = (n: number): string => Array.from({ length: n }, (_, i) => tokenAt(i)).join('');
const countPrompt = (body: Json): number => Math.max(1, Math.ceil(JSON.stringify(body.messages ?? body.prompt ?? '').length / 4));
const nowSec = (): number => Math.floor(Date.now() / 1000);

type Json = Record<string, unknown>;

function tokenBudget(body: Json): { n: number; finish: 'stop' | 'length' } {
  const cap = [body.max_tokens, body.max_completion_tokens].find((v) => typeof v === 'number' && v >= 0) as number | undefined;
  return cap !== undefined && cap < maxTokens ? { n: cap, finish: 'length' } : { n: maxTokens, finish: 'stop' };
}

function usageOf(promptN: number, n: number): Json {
  return { prompt_tokens: promptN, completion_tokens: n, total_tokens: promptN + n };
}

function timingsOf(promptN: number, n: number): Json {
  const predictedMs = Math.max(0.001, n * tokenMs);
  return {
    prompt_n: promptN,
    prompt_ms: promptN * 0.1,
    prompt_per_token_ms: 0.1,
    prompt_per_second: 10000,
    predicted_n: n,
    predicted_ms: predictedMs,
    predicted_per_token_ms: n === 0 ? 0 : predictedMs / n,
    predicted_per_second: n === 0 ? 0 : (n * 1000) / predictedMs,
  };
}

/** Chat and text completions, streaming or not. */
async function complete(kind: 'chat' | 'text', body: Json, res: ServerResponse): Promise<void> {
  const { n, finish } = tokenBudget(body);
  const promptN = countPrompt(body);
  const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${Math.random().toString(36).slice(2, 12)}`;
  const base = { id, created: nowSec(), model: modelId, system_fingerprint: 'fake-b1', requested_model: body.model ?? null };
  const choice = (content: string | null, role: boolean, finishReason: string | null): Json =>
    kind === 'chat'
      ? { index: 0, delta: content === null && !role ? {} : { ...(role ? { role: 'assistant' } : {}), content }, finish_reason: finishReason }
      : { index: 0, text: content ?? '', logprobs: null, finish_reason: finishReason };

  if (body.stream !== true) {
    if (errorAfter !== undefined) return sendJson(res, 500, { error: GENERATION_ERROR });
    if (tokenMs > 0) await sleep(n * tokenMs);
    const content = text(n);
    const c = kind === 'chat'
      ? { index: 0, message: { role: 'assistant', content }, finish_reason: finish }
      : { index: 0, text: content, logprobs: null, finish_reason: finish };
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    return sendJson(res, 200, { ...base, object, choices: [c], usage: usageOf(promptN, n), timings: timingsOf(promptN, n), ...echoed(body) });
  }

  const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let gone = false;
  res.once('close', () => (gone = !res.writableFinished)); // client went away: stop generating (frees the "slot")
  let sent = 0;
  const send = (payload: Json | '[DONE]'): void => {
    const data = payload === '[DONE]' ? payload : JSON.stringify(stamp ? { ...payload, sent_ms: performance.timeOrigin + performance.now() } : payload);
    const line = `data: ${data}\n\n`;
    sent += 1;
    if (crashAfter !== undefined && sent >= crashAfter) {
      res.write(line, () => process.exit(1));
      log(`srv: crashing after ${sent} chunks`);
      return;
    }
    res.write(line);
  };
  const crashed = (): boolean => crashAfter !== undefined && sent >= crashAfter;

  if (kind === 'chat') send({ ...base, object, choices: [choice('', true, null)] });
  for (let i = 0; i < n && !gone && !crashed(); i++) {
    if (tokenMs > 0) await sleep(tokenMs);
    else await new Promise((r) => setImmediate(r));
    if (gone || crashed()) break;
    if (errorAfter !== undefined && i >= errorAfter) {
      send({ error: GENERATION_ERROR });
      log(`srv  send_error: task failed after ${i} tokens`);
      return void res.end();
    }
    send({ ...base, object, choices: [choice(tokenAt(i), false, null)] });
  }
  if (gone) return log('srv  cancel_tasks: client disconnected, cancelling the task');
  if (crashed()) return;
  send({ ...base, object, choices: [choice(null, false, finish)], timings: timingsOf(promptN, n) });
  const opts = body.stream_options as Json | undefined;
  if (!crashed() && opts?.include_usage === true) send({ ...base, object, choices: [], usage: usageOf(promptN, n) });
  if (!crashed()) send('[DONE]');
  if (!crashed()) res.end();
}

function embedding(input: string, dims = 8): number[] {
  let h = 2166136261;
  for (const ch of input) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619) >>> 0;
  const v = Array.from({ length: dims }, () => ((h = (Math.imul(h, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

function embeddings(body: Json, res: ServerResponse): void {
  const raw = body.input ?? body.content;
  const inputs = Array.isArray(raw) ? raw : [raw];
  if (raw === undefined || inputs.length === 0) return sendError(res, 400, '"input" is required', 'invalid_request_error');
  const data = inputs.map((inp, index) => ({ object: 'embedding', index, embedding: embedding(typeof inp === 'string' ? inp : JSON.stringify(inp)) }));
  const tokens = inputs.reduce<number>((a, inp) => a + Math.max(1, Math.ceil(String(inp).length / 4)), 0);
  sendJson(res, 200, { object: 'list', data, model: modelId, requested_model: body.model ?? null, usage: { prompt_tokens: tokens, total_tokens: tokens }, ...echoed(body) });
}

/** Multipart uploads (audio transcriptions, image edits): fields and file size echoed back. */
function transcription(req: IncomingMessage, res: ServerResponse): void {
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers });
  } catch (err) {
    return sendError(res, 400, `expected multipart/form-data: ${(err as Error).message}`, 'invalid_request_error');
  }
  const fields: Record<string, string> = {};
  let bytes = 0;
  let filename: string | undefined;
  bb.on('field', (name, value) => (fields[name] = value));
  bb.on('file', (_name, stream, info) => {
    filename = info.filename;
    stream.on('data', (d: Buffer) => (bytes += d.length));
  });
  bb.on('error', (err) => sendError(res, 400, (err as Error).message, 'invalid_request_error'));
  bb.on('close', () => {
    const requested = fields.model ?? null;
    const out = `[${servedBy}] received ${bytes} bytes (${filename ?? 'no file'}) for model ${requested}`;
    sendJson(res, 200, { text: out, model: modelId, requested_model: requested, bytes, filename: filename ?? null, path: req.url ?? '/' });
  });
  req.pipe(bb);
}

// ---------------------------------------------------------------- HTTP

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function sendError(res: ServerResponse, status: number, message: string, type: string): void {
  sendJson(res, status, { error: { code: status, message, type } });
}

async function readJson(req: IncomingMessage): Promise<{ body: Json; bytes: number } | Error> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  if (raw.length === 0) return { body: {}, bytes: 0 };
  try {
    const body: unknown = JSON.parse(raw.toString('utf8'));
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return new Error('request body must be a JSON object');
    return { body: body as Json, bytes: raw.length };
  } catch (err) {
    return new Error(`invalid JSON: ${(err as Error).message}`);
  }
}

/** POST paths answered with an echo of what arrived (path, model, body size) instead of a real result. */
const ECHO = new Set([
  '/v1/responses', '/responses', '/v1/rerank', '/v1/reranking', '/rerank', '/reranking', '/infill', '/completion',
  '/v1/images/generations', '/v1/audio/speech', '/v1/audio/voices', '/v1/messages', '/messages',
  '/v1/messages/count_tokens', '/messages/count_tokens', '/sdapi/v1/txt2img', '/sdapi/v1/img2img', '/v1/tasks/run',
]);

/** GET paths (model in the query) answered with an echo: `url` is the path and query that arrived. */
const GET_ECHO = new Set(['/props', '/v1/audio/voices', '/sdapi/v1/loras']);

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const method = req.method ?? 'GET';
  res.setHeader('x-served-by', servedBy);
  if (path !== '/health') {
    // Health polls are not logged, so failure messages quoting the last lines stay useful.
    const remote = req.socket.remoteAddress ?? '-'; // read now: the socket may be gone by 'close'
    res.once('close', () => log(`srv  log_server_r: request: ${method} ${path} ${remote} ${res.statusCode}`));
  }
  if (!loaded) {
    req.resume();
    // Byte-for-byte llama-server's loading body (key order included).
    return sendJson(res, 503, { error: { message: 'Loading model', type: 'unavailable_error', code: 503 } });
  }
  if (method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok' });
  if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
    const meta = { n_vocab: 32000, n_ctx_train: 2048, n_embd: 256, n_params: 9_000_000, size: 9_437_184 };
    return sendJson(res, 200, {
      models: [{ name: modelId, model: modelId, modified_at: '', size: '', digest: '', type: 'model', description: '', tags: [''], capabilities: ['completion'], parameters: '', details: { parent_model: '', format: 'gguf', family: '', families: [''], parameter_size: '', quantization_level: '' } }],
      object: 'list',
      data: [{ id: modelId, object: 'model', created: nowSec(), owned_by: 'llamacpp', meta }],
    });
  }
  if (method === 'POST' && (path === '/v1/audio/transcriptions' || path === '/v1/images/edits')) return transcription(req, res);
  if ((method === 'GET' || method === 'HEAD') && GET_ECHO.has(path)) {
    req.resume();
    const requested = new URL(req.url ?? '/', 'http://fake.invalid').searchParams.get('model');
    return sendJson(res, 200, { object: 'echo', method, path, url: req.url ?? '/', model: modelId, port, served_by: servedBy, requested_model: requested });
  }
  if (method === 'GET' && path === '/') return sendJson(res, 200, { object: 'echo', method, path, model: modelId, port, served_by: servedBy });
  if (method !== 'POST') {
    req.resume();
    return sendError(res, 404, 'File Not Found', 'not_found_error');
  }
  const parsed = await readJson(req);
  if (parsed instanceof Error) return sendError(res, 400, parsed.message, 'invalid_request_error');
  const { body } = parsed;
  if (path === '/v1/chat/completions' || path === '/chat/completions') return complete('chat', body, res);
  if (path === '/v1/completions' || path === '/completions') return complete('text', body, res);
  if (path === '/v1/embeddings' || path === '/embeddings') return embeddings(body, res);
  if (ECHO.has(path)) {
    return sendJson(res, 200, { object: 'echo', method, path, model: modelId, port, served_by: servedBy, requested_model: body.model ?? null, body_bytes: parsed.bytes, text: `[${servedBy}] ${path}`, ...echoed(body) });
  }
  sendError(res, 404, 'File Not Found', 'not_found_error');
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => sendError(res, 500, (err as Error).message, 'server_error'));
});
server.listen(port, host, () => log(`main: server is listening on http://${host}:${port} - starting the main loop`));
server.on('error', (err) => {
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
});
