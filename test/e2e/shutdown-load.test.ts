/**
 * Graceful shutdown under load, with the real CLI as a child process: while
 * requests are queued and streams are mid-flight, SIGTERM. Then
 *   - every queued request gets 503 `shutting_down`, before any in-flight
 *     stream has finished (they are failed at once, not held until the drain);
 *   - every in-flight stream finishes completely, ending with [DONE];
 *   - every upstream pid seen in /running is gone, process group included,
 *     and was stopped by the proxy (its SIGTERM handler ran), not by the
 *     exit hook's SIGKILL;
 *   - the CLI exits 0.
 * Once per scheduler: serial has one request in flight at a time (so one
 * stream, and the queue holds requests for every model). fifo serves many at
 * once: streams on m1 and m2 (a group that does not swap), m4 still loading
 * (its own group) with requests waiting for it, and requests for m3 queued
 * because loading it would evict the busy pair: three upstreams to stop.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Agent, request } from 'undici';
import { startCli } from '../helpers/cli-process.ts';
import { check, type Plan } from '../helpers/load.ts';
import { until } from '../helpers/modelswap.ts';
import { groupMembers, isAlive } from '../helpers/proc.ts';

const MODELS = ['m1', 'm2', 'm3', 'm4'] as const;
const TOKENS = 30;
const TOKEN_MS = 50; // a stream takes ~1.5 s, well inside the 30 s drain deadline

/** The four models; `extra` adds flags to one model's command. */
const modelsYaml = (extra: Partial<Record<string, string>> = {}): string => MODELS.map((m) => `
  ${m}:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens ${TOKENS} --token-ms ${TOKEN_MS}${extra[m] ?? ''}
    concurrencyLimit: 64`).join('');

type Row = { model: string; state: string; inFlight: number; queued: number; pid: number | undefined };

interface Stream {
  readonly plan: Plan;
  /** SSE events received so far. */
  events(): number;
  /** The full body, the served-by header and when it ended; a client-side error (reset, timeout) is in `error`. Never rejects. */
  readonly done: Promise<{ status: number; servedBy: string; text: string; endedAt: number; error: string | undefined }>;
}

function chat(agent: Agent, url: string, plan: Plan): Stream {
  let text = '';
  let status = 0;
  let servedBy = '';
  const done = (async () => {
    try {
      const res = await request(`${url}/v1/chat/completions`, {
        method: 'POST', dispatcher: agent, signal: AbortSignal.timeout(45_000),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: plan.model, stream: plan.stream, messages: [{ role: 'user', content: 'x' }] }),
      });
      status = res.statusCode;
      servedBy = String(res.headers['x-served-by'] ?? '');
      const decoder = new TextDecoder();
      for await (const chunk of res.body) text += decoder.decode(chunk as Buffer, { stream: true });
      return { status, servedBy, text, endedAt: performance.now(), error: undefined };
    } catch (err) {
      return { status, servedBy, text, endedAt: performance.now(), error: String(err) };
    }
  })();
  return { plan, events: () => text.match(/^data: /gm)?.length ?? 0, done };
}

interface Scenario {
  readonly yaml: string;
  /** Models of the streams to have in flight at SIGTERM. */
  readonly streams: readonly string[];
  /** Models of the requests to have waiting at SIGTERM (queued, or waiting for their model to load). */
  readonly queued: readonly string[];
  /** Upstreams alive at SIGTERM. */
  readonly upstreams: number;
}

/** The proxy's JSON log lines among the CLI's stdout (upstream output lines are not JSON). */
function proxyLog(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

async function shutdownUnderLoad(t: TestContext, s: Scenario): Promise<void> {
  const cli = await startCli(t, s.yaml, MODELS.length);
  const agent = new Agent({ connections: 128 });
  t.after(() => agent.destroy());
  const running = async (): Promise<Row[]> =>
    ((await (await fetch(`${cli.url}/running`, { signal: AbortSignal.timeout(5000) })).json()) as { running: Row[] }).running;

  // 1. Streams in flight, each past its first token.
  const streams = s.streams.map((model) => chat(agent, cli.url, { model, stream: true, abort: undefined }));
  await until(() => streams.every((x) => x.events() >= 2), 15_000, 'every stream to be past its first token');
  // 2. Requests queued behind them (half streaming: they fail before any header either way).
  const queued = s.queued.map((model, i) => chat(agent, cli.url, { model, stream: i % 2 === 0, abort: undefined }));
  let rows: Row[] = [];
  // (A model that is starting has a pid only once its spawn has gone through: wait for it too.)
  await until(async () => {
    rows = await running();
    return rows.reduce((n, r) => n + r.queued, 0) === queued.length && rows.filter((r) => r.pid !== undefined).length === s.upstreams;
  }, 10_000, `${queued.length} requests to queue and ${s.upstreams} upstreams to have a pid`)
    .catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(rows)}`));
  const pids = rows.flatMap((r) => (r.pid === undefined ? [] : [r.pid]));
  for (const pid of pids) cli.track(pid);
  assert.equal(rows.reduce((n, r) => n + r.inFlight, 0), s.streams.length, `streams in flight: ${JSON.stringify(rows)}`);
  assert.equal(pids.length, s.upstreams, `upstreams alive: ${JSON.stringify(rows)}`);
  const eventsAtSignal = streams.map((x) => x.events());
  assert.ok(eventsAtSignal.every((n) => n < TOKENS + 3), `streams are mid-flight at SIGTERM (events so far: ${eventsAtSignal.join(', ')})`);

  // 3. SIGTERM.
  const signalledAt = performance.now();
  cli.child.kill('SIGTERM');

  const q = await Promise.all(queued.map((x) => x.done));
  const st = await Promise.all(streams.map((x) => x.done));
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), 40_000);
  const code = await cli.exited;
  clearTimeout(timer);
  const firstStreamEnd = Math.min(...st.map((x) => x.endedAt));
  t.diagnostic(`at SIGTERM: ${rows.map((r) => `${r.model} ${r.state} (${r.inFlight} in flight, ${r.queued} waiting)`).join(', ')}`);
  t.diagnostic(`${streams.length} streams in flight (events at SIGTERM: ${eventsAtSignal.join(', ')}), ${queued.length} queued; ` +
    `queued answered within ${Math.round(Math.max(...q.map((x) => x.endedAt)) - signalledAt)} ms, streams ended after ` +
    `${Math.round(firstStreamEnd - signalledAt)}–${Math.round(Math.max(...st.map((x) => x.endedAt)) - signalledAt)} ms; upstream pids ${pids.join(', ')}; exit ${code}`);

  // 4. Queued: a clear 503, at once.
  for (const [i, r] of q.entries()) {
    assert.equal(r.error, undefined, `queued request ${i} (${s.queued[i]}) got no response: ${r.error}`);
    assert.equal(r.status, 503, `queued request ${i} (${s.queued[i]}): ${r.text}`);
    const body = JSON.parse(r.text) as { error?: { code?: string } };
    assert.equal(body.error?.code, 'shutting_down', r.text);
    assert.ok(r.endedAt < firstStreamEnd, `queued request ${i} was answered before the in-flight streams drained, not after`);
  }
  // 5. In flight: complete and correct.
  for (const [i, r] of st.entries()) {
    assert.equal(r.error, undefined, `stream ${i} was cut: ${r.error}; received:\n${r.text.slice(-300)}`);
    assert.equal(check(streams[i]!.plan, TOKENS, r.status, r.servedBy, r.text), undefined, `stream ${i}:\n${r.text.slice(-500)}`);
  }
  // 6. Exit 0, and every upstream gone, stopped by the proxy.
  assert.equal(code, 0, `exit code\n${cli.stderr()}`);
  // Zombies do not count: they have exited and wait for init, which reaps them
  // on an ordinary host (not in every sandbox; reported, not asserted).
  let zombies = 0;
  for (const pid of pids) {
    assert.ok(!isAlive(pid), `upstream ${pid} is still alive`);
    const members = groupMembers(pid);
    assert.deepEqual(members.filter((m) => m.state !== 'Z'), [], `process group ${pid} still has live members`);
    zombies += members.length;
    const stopped = proxyLog(cli.stdout()).some((l) => l.msg === 'upstream stopped' && l.pid === pid && l.reason === 'shutdown');
    assert.ok(stopped, `the proxy logged stopping upstream ${pid} for the shutdown`);
  }
  assert.equal(cli.stdout().match(/main: received SIGTERM, cleaning up/g)?.length, pids.length, 'each upstream got a graceful SIGTERM');
  if (zombies > 0) t.diagnostic(`${zombies} zombie(s) left in the upstream groups, waiting for init to reap them`);
}

test('serial: SIGTERM with a stream in flight and 24 requests queued for all models', { timeout: 90_000 }, async (t) => {
  await shutdownUnderLoad(t, {
    yaml: `logToStdout: both\nrouting: { scheduler: { use: serial } }\nmodels:${modelsYaml()}\n`,
    streams: ['m1'],
    queued: Array.from({ length: 24 }, (_, i) => MODELS[i % MODELS.length]!),
    upstreams: 1,
  });
});

test('fifo: SIGTERM with 6 streams on two models, one model loading, 24 requests waiting', { timeout: 90_000 }, async (t) => {
  await shutdownUnderLoad(t, {
    yaml: `logToStdout: both
routing: { scheduler: { use: fifo } }
groups:
  pair: { members: [m1, m2], swap: false, exclusive: false }
  slow: { members: [m4], exclusive: false }
models:${modelsYaml({ m4: ' --load-ms 60000' })}
`,
    streams: ['m1', 'm2', 'm1', 'm2', 'm1', 'm2'],
    queued: Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? 'm3' : 'm4')),
    upstreams: 3,
  });
});
