/**
 * The benchmark's load generator. It runs in its own process
 * (bench/lib/client-process.ts), so its CPU is never the proxy's, and the
 * same code drives the direct and the proxied target.
 *
 * - `closed`: N keep-alive connections each send the next small chat request
 *   as soon as the last one ended (undici Pool), for a fixed time after a
 *   warm-up; latency is request start to body end.
 * - `stream`: SSE requests over node:http. A second 'data' listener on the
 *   socket sees every read as the kernel handed it over, so "reads holding
 *   more than one event" is counted on real reads, not on parsed HTTP chunks.
 *   Each event carries the upstream's send time (fake --stamp-chunks); the
 *   delay is receive time minus send time. Both clocks are
 *   performance.timeOrigin + now() in two processes of one machine: their
 *   constant skew cancels when the proxy's delay is compared to the direct one
 *   measured by the same two processes.
 * - `trace`: open-loop replay, each request sent at its recorded offset.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, Pool } from 'undici';
import { setV8HelperPolicy, type HelperPolicyResult } from '../../src/helper-threads.ts';
import { summarize, type Summary } from './stats.ts';

export interface ClosedJob {
  readonly kind: 'closed';
  readonly origin: string;
  readonly path: string;
  readonly body: string;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Return every measured latency too (for pooling several short phases). */
  readonly samples?: boolean;
}

export interface ClosedResult {
  readonly kind: 'closed';
  /** Measured (after the warm-up). */
  readonly requests: number;
  /** Warm-up included: what the server saw, for CPU per request. */
  readonly totalRequests: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly latencyMs: Summary;
  readonly reqPerSec: number;
  readonly durationMs: number;
  /** Every measured latency, ms, when the job asked for them. */
  readonly latencies?: readonly number[];
}

export interface StreamJob {
  readonly kind: 'stream';
  readonly origin: string;
  readonly path: string;
  readonly body: string;
  /** How many streams in all, and how many open at once. */
  readonly streams: number;
  readonly concurrency: number;
  /** Streams still open then are cut and counted as errors. */
  readonly deadlineMs: number;
  /** Streams run before measuring (not counted), and how many of them open at once. */
  readonly warmup: number;
  readonly warmupConcurrency: number;
  /** Run this process's V8 helper threads under SCHED_IDLE first (src/helper-threads.ts). */
  readonly idleHelpers: boolean;
  /** Record when each coalesced read happened (bench/tools/coalesced.ts). */
  readonly detail?: boolean;
}

/** A coalesced read on CLOCK_MONOTONIC (the clock of `perf sched -k CLOCK_MONOTONIC`), in ms. */
export interface CoalescedRead {
  readonly readMs: number;
  /** The upstream's send stamps of the events in it, moved to the same clock. */
  readonly sentMs: readonly number[];
}

export interface StreamResult {
  readonly kind: 'stream';
  readonly streams: number;
  readonly errors: number;
  readonly firstError: string | null;
  /** Request sent → first body byte. */
  readonly ttfbMs: Summary;
  /** Upstream write → client read, every stamped event of every stream. */
  readonly delayMs: Summary;
  /**
   * Per stream, the time from its first event to its last divided by the
   * events between them: the mean time per token as the client sees it.
   * Needs no stamps, so it is the per-token figure for a real server. Absent
   * in results saved before it was recorded.
   */
  readonly perTokenMs?: Summary;
  readonly events: number;
  readonly reads: number;
  /** Socket reads that held more than one SSE event (events the upstream writes back to back, like the last token, the finish chunk and [DONE], count too). */
  readonly multiEventReads: number;
  /**
   * Coalescing: reads holding events the upstream wrote at least
   * COALESCED_GAP_MS apart (by their stamps) — held back somewhere and
   * delivered together.
   */
  readonly coalescedReads: number;
  /** Most open at one moment. */
  readonly maxOpen: number;
  readonly durationMs: number;
  /** What idleHelpers did (null: not asked). */
  readonly idleHelpers: HelperPolicyResult | null;
  /** With `detail`: every coalesced read, and the load generator's pid. */
  readonly coalesced?: readonly CoalescedRead[];
  readonly pid?: number;
}

export interface TraceRequest {
  readonly atMs: number;
  readonly client: string;
  readonly model: string;
  readonly stream: boolean;
  readonly maxTokens: number;
}

export interface TraceJob {
  readonly kind: 'trace';
  readonly origin: string;
  readonly requests: readonly TraceRequest[];
  /** Added to every request body (e.g. llama-server's ignore_eos). */
  readonly bodyExtra: Readonly<Record<string, unknown>>;
  readonly deadlineMs: number;
}

export interface TraceOutcome {
  readonly i: number;
  readonly model: string;
  readonly status: number;
  /** Scheduled send → first body byte (the wait, load included). */
  readonly waitMs: number;
  /** Scheduled send → last byte. */
  readonly doneMs: number;
  readonly endAtMs: number;
  readonly servedBy: string | null;
  readonly error: string | null;
}

export interface TraceResult {
  readonly kind: 'trace';
  readonly outcomes: readonly TraceOutcome[];
  readonly makespanMs: number;
}

export type Job = ClosedJob | StreamJob | TraceJob;
export type JobResult = ClosedResult | StreamResult | TraceResult;

export function runJob(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case 'closed':
      return runClosed(job);
    case 'stream':
      return runStreams(job);
    case 'trace':
      return runTrace(job);
  }
}

const describe = (err: unknown): string => (err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err));

async function runClosed(job: ClosedJob): Promise<ClosedResult> {
  const pool = new Pool(job.origin, { connections: job.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const headers = { 'content-type': 'application/json' };
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let measuring = false;
  let stop = false;
  let total = 0;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: job.path, method: 'POST', headers, body: job.body });
        await res.body.dump();
        total += 1;
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        if (measuring && !stop) latencies.push(performance.now() - t0);
      } catch (err) {
        if (measuring && !stop) {
          errors += 1;
          firstError ??= describe(err);
        }
      }
    }
  };
  const workers = Array.from({ length: job.concurrency }, worker);
  await sleep(job.warmupMs);
  measuring = true;
  const t0 = performance.now();
  await sleep(job.durationMs);
  stop = true;
  const durationMs = performance.now() - t0;
  await Promise.all(workers);
  await pool.close();
  return { kind: 'closed', requests: latencies.length, totalRequests: total, errors, firstError, latencyMs: summarize(latencies), reqPerSec: latencies.length / (durationMs / 1000), durationMs, ...(job.samples === true ? { latencies } : {}) };
}

const EVENT_START = Buffer.from('data: ');
/** Half the benchmark's 2 ms token interval. */
export const COALESCED_GAP_MS = 1;
const STAMP = /"sent_ms":([0-9.e+]+)/g;

/** The send stamps of one read when they are at least COALESCED_GAP_MS apart (a coalesced read), else null. */
function coalescedStamps(chunk: Buffer): number[] | null {
  const stamps = [...chunk.toString('latin1').matchAll(STAMP)].map((m) => Number(m[1]));
  return stamps.length > 1 && Math.max(...stamps) - Math.min(...stamps) >= COALESCED_GAP_MS ? stamps : null;
}

const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function countOccurrences(buf: Buffer, needle: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(needle); i !== -1; i = buf.indexOf(needle, i + needle.length)) n += 1;
  return n;
}

interface OneStream {
  readonly ttfbMs: number;
  readonly events: number;
  /** (last event − first event) ÷ (events − 1); NaN with fewer than two events. */
  readonly perTokenMs: number;
}

let idlePolicy: Promise<HelperPolicyResult> | undefined;

async function runStreams(job: StreamJob): Promise<StreamResult> {
  const url = new URL(job.path, job.origin);
  // Once per process: a worker (client-process.ts --serve) runs many stream jobs.
  const idleHelpers = job.idleHelpers ? await (idlePolicy ??= setV8HelperPolicy('idle')) : null;
  // A connection per stream: llama-server (cpp-httplib) may close a kept-alive connection after a stream, which a reused socket sees as a hang-up.
  const agent = new HttpAgent({ keepAlive: false, maxSockets: Math.max(job.concurrency, job.warmupConcurrency) });
  const ttfbs: number[] = [];
  const perToken: number[] = [];
  const delays: number[] = [];
  let events = 0;
  let reads = 0;
  let multi = 0;
  let coalescedReads = 0;
  const detail: CoalescedRead[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let open = 0;
  let maxOpen = 0;
  const deadline = AbortSignal.timeout(job.deadlineMs);

  const one = (measure: boolean): Promise<OneStream> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      let ttfb = -1;
      let count = 0;
      let firstEventAt = -1;
      let lastEventAt = -1;
      let pending = '';
      const onRead = (chunk: Buffer): void => {
        if (!measure) return;
        reads += 1;
        if (countOccurrences(chunk, EVENT_START) > 1) {
          multi += 1;
          const stamps = coalescedStamps(chunk);
          if (stamps !== null) {
            coalescedReads += 1;
            if (job.detail === true) {
              const readMs = monotonicMs();
              const wallMinusMonotonic = performance.timeOrigin + performance.now() - readMs;
              detail.push({ readMs, sentMs: stamps.map((t) => t - wallMinusMonotonic) });
            }
          }
        }
      };
      let socket: Socket | undefined;
      const req = httpRequest(url, { method: 'POST', agent, signal: deadline, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(job.body) } });
      req.on('socket', (s) => {
        socket = s;
        s.on('data', onRead);
      });
      const detach = (): void => void socket?.off('data', onRead);
      req.on('error', (err) => {
        detach();
        reject(err);
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (s: string) => void (text += s));
          res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`)));
          res.on('error', reject);
          return detach();
        }
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          const now = performance.timeOrigin + performance.now();
          if (ttfb < 0) ttfb = performance.now() - t0;
          pending += text;
          let end = pending.indexOf('\n\n');
          while (end !== -1) {
            const event = pending.slice(0, end);
            pending = pending.slice(end + 2);
            count += 1;
            if (firstEventAt < 0) firstEventAt = now;
            lastEventAt = now;
            const m = /"sent_ms":([0-9.e+]+)/.exec(event);
            if (measure && m !== null) delays.push(now - Number(m[1]));
            end = pending.indexOf('\n\n');
          }
        });
        res.on('end', () => {
          detach();
          if (!res.complete) return reject(new Error('stream cut before its end'));
          resolve({ ttfbMs: ttfb, events: count, perTokenMs: count > 1 ? (lastEventAt - firstEventAt) / (count - 1) : Number.NaN });
        });
        res.on('error', (err) => {
          detach();
          reject(err);
        });
      });
      req.end(job.body);
    });

  // Warm-up: V8 compiles the hot paths of all three processes during the first ~10,000 events (--trace-opt); open many streams at once to get there fast.
  let warmed = 0;
  const warmer = async (): Promise<void> => {
    while (warmed++ < job.warmup) await one(false).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.max(1, job.warmupConcurrency) }, warmer));
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < job.streams; i = next++) {
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      try {
        const s = await one(true);
        ttfbs.push(s.ttfbMs);
        if (Number.isFinite(s.perTokenMs)) perToken.push(s.perTokenMs);
        events += s.events;
      } catch (err) {
        errors += 1;
        firstError ??= describe(err);
      } finally {
        open -= 1;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const durationMs = performance.now() - t0;
  agent.destroy();
  return { kind: 'stream', streams: job.streams, errors, firstError, ttfbMs: summarize(ttfbs), delayMs: summarize(delays), perTokenMs: summarize(perToken), events, reads, multiEventReads: multi, coalescedReads, maxOpen, durationMs, idleHelpers, ...(job.detail === true ? { coalesced: detail, pid: process.pid } : {}) };
}

async function runTrace(job: TraceJob): Promise<TraceResult> {
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
  const deadline = AbortSignal.timeout(job.deadlineMs);
  const t0 = performance.now();
  const one = async (r: TraceRequest, i: number): Promise<TraceOutcome> => {
    const wait = r.atMs - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
    const sent = t0 + r.atMs;
    const body = JSON.stringify({ model: r.model, stream: r.stream, max_tokens: r.maxTokens, messages: [{ role: 'user', content: `trace request ${i} from ${r.client}` }], ...job.bodyExtra });
    let waitMs = -1;
    try {
      const res = await agent.request({ origin: job.origin, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: deadline });
      let text = '';
      for await (const chunk of res.body) {
        if (waitMs < 0) waitMs = performance.now() - sent;
        if (res.statusCode !== 200 && text.length < 300) text += String(chunk);
      }
      const end = performance.now();
      if (waitMs < 0) waitMs = end - sent;
      const servedBy = res.headers['x-served-by'];
      const error = res.statusCode === 200 ? null : `HTTP ${res.statusCode}: ${text.slice(0, 300)}`;
      return { i, model: r.model, status: res.statusCode, waitMs, doneMs: end - sent, endAtMs: end - t0, servedBy: typeof servedBy === 'string' ? servedBy : null, error };
    } catch (err) {
      const end = performance.now();
      return { i, model: r.model, status: 0, waitMs: waitMs < 0 ? end - sent : waitMs, doneMs: end - sent, endAtMs: end - t0, servedBy: null, error: describe(err) };
    }
  };
  const outcomes = await Promise.all(job.requests.map(one));
  await agent.close();
  const makespanMs = Math.max(0, ...outcomes.map((o) => o.endAtMs)) - Math.min(...job.requests.map((r) => r.atMs));
  return { kind: 'trace', outcomes, makespanMs };
}
