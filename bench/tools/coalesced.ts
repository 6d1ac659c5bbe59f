/**
 * What held an SSE event back: streams 500 stamped events (2 ms apart) from
 * the fake upstream through modelswap (or directly), as scenario 2 does, and
 * for every coalesced read prints what each CPU ran meanwhile, from
 * `perf sched record` of the whole machine (root, linux-perf).
 *
 *   node bench/tools/coalesced.ts [--streams 30] [--warmup 64] [--direct]
 *     [--cli /other/checkout/src/cli.ts] [--no-perf] [--noisy]
 *
 * --cli runs another checkout's modelswap (A/B of two versions, alternating
 * runs); --noisy leaves the instruments' V8 helper threads at their default
 * policy (scenario 2 runs them under SCHED_IDLE). Found with it: BENCHMARKS.md,
 * findings, "Coalesced reads".
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import type { CoalescedRead, StreamJob, StreamResult } from '../lib/client.ts';
import { buildCli, runInClient, startLoadedProxy } from '../lib/processes.ts';
import { fake } from '../lib/upstreams.ts';
import { streamBody } from '../scenarios/streaming.ts';

const { values: args } = parseArgs({
  options: {
    streams: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '64' },
    direct: { type: 'boolean', default: false },
    cli: { type: 'string' },
    'no-perf': { type: 'boolean', default: false },
    noisy: { type: 'boolean', default: false },
  },
  strict: true,
});

const TOKENS = 500;
const quiet = !args.noisy;
const hi = { model: 'stream', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] };
if (args.cli === undefined) await buildCli(); // the default entry is dist/cli.js
const { proxy, direct } = await startLoadedProxy('stream', (port) => fake.argv(port, 'stream', { tokens: TOKENS, tokenMs: 2, stamp: true, idleHelpers: quiet }), hi, { cli: args.cli });
const upstreamPort = new URL(direct).port;
const fakePid = readdirSync('/proc')
  .filter((p) => /^\d+$/.test(p))
  .find((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv[0] === process.execPath && argv.some((a) => a.endsWith('fake-llama-server.ts')) && argv.includes(upstreamPort);
    } catch {
      return false;
    }
  });

const dir = mkdtempSync(join(tmpdir(), 'modelswap-coalesced-'));
const perfData = join(dir, 'sched.data');
const perf = args['no-perf'] ? null : execa('perf', ['sched', 'record', '-k', 'CLOCK_MONOTONIC', '-o', perfData], { reject: false, stdin: 'ignore' });
try {
  const job: StreamJob = {
    kind: 'stream', origin: args.direct ? direct : proxy.origin, path: '/v1/chat/completions', body: streamBody(TOKENS), streams: Number(args.streams), concurrency: 1, deadlineMs: 600_000,
    warmup: Number(args.warmup), warmupConcurrency: 32, idleHelpers: quiet, detail: true,
  };
  const r = await runInClient<StreamResult>(job);
  if (perf !== null) {
    perf.kill('SIGINT');
    const p = await perf;
    // perf ends on our SIGINT (by the signal itself or with exit 0)
    if (p.signal !== 'SIGINT' && p.exitCode !== 0) process.stdout.write(`perf sched record failed (exit ${p.exitCode}): ${p.stderr.slice(-500)}\n`);
  }
  const roles = new Map<string, string>([[String(proxy.pid), 'modelswap'], [fakePid ?? '?', 'upstream'], [String(r.pid ?? '?'), 'client']]);
  process.stdout.write(`${args.direct ? 'direct' : `modelswap${args.cli === undefined ? '' : ` (${args.cli})`}`}: ${r.streams} streams, ${r.reads} reads, ${r.coalescedReads} coalesced; pids: ${[...roles].map(([pid, role]) => `${role} ${pid}`).join(', ')}\n`);
  if (perf !== null && (r.coalesced?.length ?? 0) > 0) {
    const th = await execa('perf', ['sched', 'timehist', '-i', perfData, '--state', '-w'], { reject: false });
    const lines = th.stdout.split('\n');
    for (const c of r.coalesced ?? []) printWindow(c, lines, roles);
  }
} finally {
  await proxy.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** timehist lines from just before the first event was sent to the read, each task tagged with its process's role. */
function printWindow(c: CoalescedRead, lines: readonly string[], roles: ReadonlyMap<string, string>): void {
  const from = (Math.min(...c.sentMs) - 0.3) / 1000;
  const to = (c.readMs + 0.1) / 1000;
  process.stdout.write(`\n=== events sent at ${c.sentMs.map((t) => (t / 1000).toFixed(6)).join(', ')}; read at ${(c.readMs / 1000).toFixed(6)} (s, CLOCK_MONOTONIC)\n`);
  for (const line of lines) {
    const t = Number.parseFloat(line);
    if (!(t >= from && t <= to)) continue;
    process.stdout.write(`${line.trimEnd().replace(/\[(\d+)(?:\/(\d+))?\]/g, (m, tid: string, pid?: string) => `${m}${roles.has(pid ?? tid) ? `<${roles.get(pid ?? tid)}>` : ''}`)}\n`);
  }
}
