import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { test, type TestContext } from 'node:test';
import { FAKE, freePort, NODE } from './helpers.ts';

const T = { timeout: 15_000 };

interface Fake {
  readonly port: number;
  readonly proc: ChildProcess;
  readonly base: string;
  output(): string;
  /** Resolves when stdout+stderr so far match `re` (event-driven). */
  until(re: RegExp): Promise<void>;
}

async function startFake(t: TestContext, ...flags: string[]): Promise<Fake> {
  const port = await freePort();
  const proc = spawn(NODE, [FAKE, '--port', String(port), '--model-id', 'fm', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  let out = '';
  const onData = (d: Buffer): void => {
    out += d.toString();
    proc.emit('output');
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const until = (re: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (re.test(out)) {
          proc.off('output', check);
          proc.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (): void => (re.test(out) ? resolve() : reject(new Error(`exited before ${re}: ${out}`)));
      proc.on('output', check);
      proc.once('exit', onExit);
      check();
    });
  const fake = { port, proc, base: `http://127.0.0.1:${port}`, output: () => out, until };
  if (!flags.includes('--exit-at-start')) await until(/server is listening/);
  return fake;
}

// Test-only: response bodies are checked field by field, so a loose type is fine here.
const json = (r: Response): Promise<any> => r.json();

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Stream a POST and return each network read separately. */
async function streamReads(url: string, body: unknown): Promise<string[]> {
  const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } });
  req.end(JSON.stringify(body));
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/event-stream/);
  const reads: string[] = [];
  res.on('data', (d: Buffer) => reads.push(d.toString()));
  await once(res, 'end');
  return reads;
}

test('health answers the llama-server loading 503, then 200 {"status":"ok"}', T, async (t) => {
  const f = await startFake(t, '--load-ms', '300');
  const loading = await fetch(`${f.base}/health`);
  assert.equal(loading.status, 503);
  assert.equal(await loading.text(), '{"error":{"message":"Loading model","type":"unavailable_error","code":503}}');
  assert.equal((await post(`${f.base}/v1/chat/completions`, { messages: [] })).status, 503);
  await f.until(/model loaded/);
  const ok = await fetch(`${f.base}/health`);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { status: 'ok' });
});

test('streams chunks in separate reads: role, deltas, finish, usage, [DONE]', T, async (t) => {
  const f = await startFake(t, '--token-ms', '15', '--tokens', '5');
  const reads = await streamReads(`${f.base}/v1/chat/completions`, {
    model: 'asked',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'hi' }],
  });
  const events = reads.join('').split('\n\n').filter((e) => e !== '');
  assert.equal(events.length, 1 + 5 + 1 + 1 + 1);
  assert.ok(reads.length >= 5, `expected the deltas in separate reads, got ${reads.length} reads`);
  assert.equal(events.at(-1), 'data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.ok(text.startsWith(`[fm@${f.port}]`), text);
  assert.equal(chunks[6].choices[0].finish_reason, 'stop');
  assert.deepEqual(chunks[7].usage, { prompt_tokens: chunks[7].usage.prompt_tokens, completion_tokens: 5, total_tokens: chunks[7].usage.prompt_tokens + 5 });
  for (const c of chunks) {
    assert.equal(c.model, 'fm');
    assert.equal(c.requested_model, 'asked');
  }
  // max_tokens smaller than --tokens is honoured, finish_reason "length"; no usage chunk unless asked.
  const short = (await streamReads(`${f.base}/v1/chat/completions`, { stream: true, max_tokens: 2 })).join('').split('\n\n').filter((e) => e !== '');
  assert.equal(short.length, 1 + 2 + 1 + 1);
  assert.match(short.at(-2)!, /"finish_reason":"length"/);
});

test('says who served it: x-served-by, model, [id@port] text, requested_model', T, async (t) => {
  const f = await startFake(t, '--tokens', '3');
  const res = await post(`${f.base}/v1/chat/completions`, { model: 'rewritten', messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(res.headers.get('x-served-by'), `fm@${f.port}`);
  const body = await json(res);
  assert.equal(body.object, 'chat.completion');
  assert.equal(body.model, 'fm');
  assert.equal(body.requested_model, 'rewritten');
  assert.match(body.choices[0].message.content, new RegExp(`^\\[fm@${f.port}\\]`));
  assert.equal(body.usage.completion_tokens, 3);
  assert.equal(body.timings.predicted_n, 3);

  const emb = await json(await post(`${f.base}/v1/embeddings`, { model: 'e', input: ['a', 'b', 'a'] }));
  assert.equal(emb.data.length, 3);
  assert.deepEqual(emb.data[0].embedding, emb.data[2].embedding);
  assert.notDeepEqual(emb.data[0].embedding, emb.data[1].embedding);
  assert.equal((await json(await post(`${f.base}/v1/embeddings`, { input: 'one' }))).data.length, 1);

  const form = new FormData();
  form.set('model', 'whisper-x');
  form.set('file', new Blob([new Uint8Array(1234)]), 'a.wav');
  const tr = await json(await fetch(`${f.base}/v1/audio/transcriptions`, { method: 'POST', body: form }));
  assert.match(tr.text, /1234 bytes/);
  assert.match(tr.text, /whisper-x/);

  const echo = await json(await post(`${f.base}/v1/rerank`, { model: 'r' }));
  assert.deepEqual([echo.path, echo.model, echo.requested_model, echo.port], ['/v1/rerank', 'fm', 'r', f.port]);
  const models = await json(await fetch(`${f.base}/v1/models`));
  assert.equal(models.data[0].id, 'fm');
  assert.match(f.output(), /request: POST \/v1\/chat\/completions 127\.0\.0\.1 200/);
});

test('--crash-after-chunks cuts the stream without [DONE] and exits 1', T, async (t) => {
  const f = await startFake(t, '--crash-after-chunks', '3', '--tokens', '10');
  const exited = once(f.proc, 'exit');
  const req = request(`${f.base}/v1/chat/completions`, { method: 'POST' });
  req.end(JSON.stringify({ stream: true }));
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let body = '';
  res.on('data', (d: Buffer) => (body += d.toString()));
  await Promise.race([once(res, 'close'), once(res, 'error')]).catch(() => {});
  assert.deepEqual(await exited, [1, null]);
  assert.equal(body.split('\n\n').filter((e) => e !== '').length, 3);
  assert.doesNotMatch(body, /\[DONE\]/);
});

test('--exit-at-start prints the load error and exits with the code', T, async (t) => {
  const f = await startFake(t, '--exit-at-start', '4');
  const [code] = await once(f.proc, 'exit');
  assert.equal(code, 4);
  await f.until(/error: failed to load model 'fm'/);
});

test('SIGTERM exits 0; --ignore-sigterm keeps running', T, async (t) => {
  const a = await startFake(t);
  a.proc.kill('SIGTERM');
  assert.deepEqual(await once(a.proc, 'exit'), [0, null]);
  const b = await startFake(t, '--ignore-sigterm');
  b.proc.kill('SIGTERM');
  await b.until(/received SIGTERM, ignoring it/);
  assert.equal((await fetch(`${b.base}/health`)).status, 200);
});
