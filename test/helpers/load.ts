/**
 * A bounded load generator for end-to-end tests: `total` chat completions
 * through `concurrency` workers on one keep-alive undici Agent, streaming or
 * not, some aborted on purpose. Every response that was not aborted is checked
 * against what the fake llama-server (src/demo/fake-llama-server.ts) must say
 * for the model that was asked for; anything else is a failure, with its body.
 */
import { Agent, request } from 'undici';

/** When a client gives up: after `ms` from the start (queued, loading, or mid-body), or after `events` SSE events (or, not streaming, right after the headers). */
export type AbortPlan = { readonly kind: 'timer'; readonly ms: number } | { readonly kind: 'events'; readonly events: number };

export interface Plan {
  readonly model: string;
  readonly stream: boolean;
  readonly abort: AbortPlan | undefined;
}

export type Outcome =
  | { readonly kind: 'ok'; readonly plan: Plan }
  | { readonly kind: 'aborted'; readonly plan: Plan; readonly phase: 'before-headers' | 'in-body' }
  | { readonly kind: 'failed'; readonly plan: Plan; readonly status: number | undefined; readonly reason: string; readonly body: string };

export interface LoadOptions {
  /** Proxy base URL. */
  readonly url: string;
  readonly total: number;
  readonly concurrency: number;
  /** The i-th request issued (0-based, in issue order). */
  readonly plan: (i: number) => Plan;
  /** Completion tokens every model answers with (the fake's --tokens). */
  readonly tokens: number;
  /** A request not done by then is a failure ("timeout"). Default 15 s. */
  readonly timeoutMs?: number;
  /** No request is issued after this, and any still running is cut and counted as failed. Default 60 s. */
  readonly deadlineMs?: number;
}

export interface LoadResult {
  /** Issued; less than `total` when the deadline passed. */
  readonly requests: number;
  readonly ok: number;
  readonly aborted: number;
  readonly abortedBeforeHeaders: number;
  readonly streams: number;
  readonly failures: readonly Extract<Outcome, { kind: 'failed' }>[];
  readonly durationMs: number;
  readonly okByModel: ReadonlyMap<string, number>;
}

/** Deterministic PRNG (mulberry32): the same seed gives the same plans. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ connections: o.concurrency * 2, keepAliveTimeout: 10_000 });
  const deadline = AbortSignal.timeout(o.deadlineMs ?? 60_000);
  const outcomes: Outcome[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < o.total && !deadline.aborted; i = next++) outcomes.push(await one(agent, o, o.plan(i), deadline));
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    await agent.close();
  }
  const durationMs = performance.now() - started;
  const okByModel = new Map<string, number>();
  for (const x of outcomes) if (x.kind === 'ok') okByModel.set(x.plan.model, (okByModel.get(x.plan.model) ?? 0) + 1);
  const aborted = outcomes.filter((x) => x.kind === 'aborted');
  return {
    requests: outcomes.length,
    ok: outcomes.filter((x) => x.kind === 'ok').length,
    aborted: aborted.length,
    abortedBeforeHeaders: aborted.filter((x) => x.phase === 'before-headers').length,
    streams: outcomes.filter((x) => x.plan.stream).length,
    failures: outcomes.filter((x) => x.kind === 'failed'),
    durationMs,
    okByModel,
  };
}

/** One request, start to finish. Never rejects. */
async function one(agent: Agent, o: LoadOptions, plan: Plan, deadline: AbortSignal): Promise<Outcome> {
  const ac = new AbortController();
  let aborted = false;
  let headersSeen = false;
  const giveUp = (): void => {
    aborted = true;
    ac.abort();
  };
  const timer = plan.abort?.kind === 'timer' ? setTimeout(giveUp, plan.abort.ms) : undefined;
  const timeoutMs = o.timeoutMs ?? 15_000;
  const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(timeoutMs), deadline]);
  let status: number | undefined;
  let text = '';
  try {
    const res = await request(`${o.url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      signal,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: plan.model, stream: plan.stream, messages: [{ role: 'user', content: 'load' }] }),
    });
    headersSeen = true;
    status = res.statusCode;
    const cutAt = plan.abort?.kind === 'events' ? plan.abort.events : undefined;
    if (cutAt === 0 || (cutAt !== undefined && !plan.stream)) giveUp();
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      text += decoder.decode(chunk as Buffer, { stream: true });
      if (cutAt !== undefined && (text.match(/^data: /gm)?.length ?? 0) >= cutAt) {
        giveUp();
        break;
      }
    }
    if (aborted) return abortedAfterHeaders(plan, status, text);
    clearTimeout(timer);
    const problem = check(plan, o.tokens, status, String(res.headers['x-served-by'] ?? ''), text);
    return problem === undefined ? { kind: 'ok', plan } : { kind: 'failed', plan, status, reason: problem, body: text.slice(0, 2000) };
  } catch (err) {
    clearTimeout(timer);
    if (aborted) return headersSeen ? abortedAfterHeaders(plan, status, text) : { kind: 'aborted', plan, phase: 'before-headers' };
    const reason = deadline.aborted ? 'cut at the run deadline' : signal.aborted ? `timeout after ${timeoutMs} ms` : `client error: ${String(err)}`;
    return { kind: 'failed', plan, status, reason, body: text.slice(0, 2000) };
  }
}

/** A client that left after the headers still must have been given a 200 (a 5xx it did not read is still a 5xx). */
function abortedAfterHeaders(plan: Plan, status: number | undefined, text: string): Outcome {
  if (status === 200) return { kind: 'aborted', plan, phase: 'in-body' };
  return { kind: 'failed', plan, status, reason: `status ${status} (then aborted by the client)`, body: text.slice(0, 2000) };
}

/**
 * What is wrong with a finished response, or undefined if it is a complete,
 * correct answer from `plan.model`: status 200, `x-served-by: <model>@<port>`,
 * every JSON `model` field equal to the model, the text starting with
 * `[<model>@<port>]` and `tokens` tokens long, finish_reason "stop", and a
 * stream ending in `data: [DONE]`.
 */
export function check(plan: Plan, tokens: number, status: number, servedBy: string, body: string): string | undefined {
  if (status !== 200) return `status ${status}`;
  const m = /^(.+)@(\d+)$/.exec(servedBy);
  if (m?.[1] !== plan.model) return `x-served-by is ${JSON.stringify(servedBy)}, asked for ${plan.model}`;
  const tag = `[${servedBy}]`;
  let content = '';
  let finish: unknown;
  try {
    if (!plan.stream) {
      const json = JSON.parse(body) as { model?: unknown; choices?: Array<{ message?: { content?: string }; finish_reason?: unknown }> };
      if (json.model !== plan.model) return `model field is ${JSON.stringify(json.model)}, asked for ${plan.model}`;
      content = json.choices?.[0]?.message?.content ?? '';
      finish = json.choices?.[0]?.finish_reason;
    } else {
      if (!body.endsWith('data: [DONE]\n\n')) return 'stream does not end with data: [DONE]';
      const events = body.split('\n\n').filter((e) => e !== '');
      for (const e of events.slice(0, -1)) {
        if (!e.startsWith('data: ')) return `not an SSE data event: ${JSON.stringify(e.slice(0, 200))}`;
        const json = JSON.parse(e.slice(6)) as { model?: unknown; choices?: Array<{ delta?: { content?: string }; finish_reason?: unknown }> };
        if (json.model !== plan.model) return `chunk model field is ${JSON.stringify(json.model)}, asked for ${plan.model}`;
        content += json.choices?.[0]?.delta?.content ?? '';
        finish = json.choices?.[0]?.finish_reason ?? finish;
      }
    }
  } catch (err) {
    return `unparseable body: ${String(err)}`;
  }
  if (!content.startsWith(tag)) return `content does not start with ${tag}: ${JSON.stringify(content.slice(0, 200))}`;
  if (content.split(' ').length !== tokens) return `content has ${content.split(' ').length} tokens, expected ${tokens}`;
  if (finish !== 'stop') return `finish_reason ${JSON.stringify(finish)}`;
  return undefined;
}
