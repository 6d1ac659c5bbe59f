/**
 * A/B of two modelswap builds' CPU per request in front of a real
 * llama-server: each build (its `dist/cli.js`) runs under fifo with its own
 * llama-server, and in alternating rounds (A first in even rounds, B first
 * in odd ones) each serves closed-loop small chat completions at every
 * concurrency; the proxy's CPU time over the phase (every thread's
 * /proc/<pid>/task/<tid>/schedstat, in ns), warm-up included, and its main
 * thread's context switches (its wake-ups) are divided by the requests it
 * served.
 *
 *   LLAMA_SERVER=… [LLAMA_MODEL=…] node bench/tools/cpu-ab.ts \
 *     --a /path/to/a/dist/cli.js --b /path/to/b/dist/cli.js [--rounds 6] [--phase-ms 3000] [--c 1,8]
 *
 * With --fake, each build fronts the project's fake llama-server instead (no
 * LLAMA_SERVER needed): the proxy's own cost, as in the overhead scenario.
 * With --a-unrecorded or --b-unrecorded, that side runs with `recording:
 * false` (A and B may then be the same build: what recording costs; swap the
 * sides to see any bias of the slots).
 *
 * Prints every round and the medians; B ÷ A per round for CPU and req/s.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { ClosedJob, ClosedResult } from '../lib/client.ts';
import { readThreads, runInClient, startLoadedProxy, type Proxy } from '../lib/processes.ts';
import { median } from '../lib/stats.ts';
import { fake, llamaServer } from '../lib/upstreams.ts';
import { DEFAULT_GGUF } from '../scenarios/real.ts';
import { overheadBody } from '../scenarios/overhead.ts';

const { values: args } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    rounds: { type: 'string', default: '6' },
    'phase-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '500' },
    c: { type: 'string', default: '1,8' },
    fake: { type: 'boolean', default: false },
    'a-unrecorded': { type: 'boolean', default: false },
    'b-unrecorded': { type: 'boolean', default: false },
  },
  strict: true,
});
const bin = process.env.LLAMA_SERVER;
if (args.a === undefined || args.b === undefined || (bin === undefined && !args.fake)) {
  process.stderr.write('usage: LLAMA_SERVER=… node bench/tools/cpu-ab.ts --a A/dist/cli.js --b B/dist/cli.js [--rounds N] [--phase-ms MS] [--c 1,8] [--fake]\n');
  process.exit(2);
}
const kind = args.fake ? fake : llamaServer(bin!, process.env.LLAMA_MODEL ?? DEFAULT_GGUF);
const body = overheadBody(kind);
const first = JSON.parse(body) as Record<string, unknown>;
const concurrencies = args.c.split(',').map(Number);
const rounds = Number(args.rounds);

interface Sample { readonly cpuUs: number; readonly rps: number; readonly p50: number; readonly wakeups: number }

async function phase(proxy: Proxy, c: number): Promise<Sample> {
  const job: ClosedJob = { kind: 'closed', origin: proxy.origin, path: '/v1/chat/completions', body, concurrency: c, warmupMs: Number(args['warmup-ms']), durationMs: Number(args['phase-ms']) };
  const before = readThreads(proxy.pid);
  const res = await runInClient<ClosedResult>(job);
  const after = readThreads(proxy.pid);
  const n = Math.max(1, res.totalRequests);
  return { cpuUs: (after.cpuUs - before.cpuUs) / n, rps: res.reqPerSec, p50: res.latencyMs.p50, wakeups: (after.switches - before.switches) / n };
}

const log = (s: string): void => void process.stdout.write(`${s}\n`);
log(`${new Date().toISOString()} ${cpus()[0]?.model ?? ''}, ${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const a = await startLoadedProxy('bench', (port) => kind.argv(port, 'bench', { tokens: 8 }), first, { cli: args.a, ...(args['a-unrecorded'] ? { recording: false } : {}) });
const b = await startLoadedProxy('bench', (port) => kind.argv(port, 'bench', { tokens: 8 }), first, { cli: args.b, ...(args['b-unrecorded'] ? { recording: false } : {}) });
const samples = new Map<string, Sample[]>();
const push = (key: string, s: Sample): void => void samples.set(key, [...(samples.get(key) ?? []), s]);
try {
  for (let r = 0; r < rounds; r++) {
    for (const c of concurrencies) {
      const order = r % 2 === 0 ? [['A', a], ['B', b]] as const : [['B', b], ['A', a]] as const;
      const got: Record<string, Sample> = {};
      for (const [name, x] of order) got[name] = await phase(x.proxy, c);
      push(`A c${c}`, got.A!);
      push(`B c${c}`, got.B!);
      log(`round ${r + 1} c${c} (load ${loadavg()[0]!.toFixed(2)}): A ${Math.round(got.A!.cpuUs)} µs/req ${got.A!.wakeups.toFixed(1)} wake-ups/req ${Math.round(got.A!.rps)} req/s p50 ${got.A!.p50.toFixed(2)} ms | B ${Math.round(got.B!.cpuUs)} µs/req ${got.B!.wakeups.toFixed(1)} wake-ups/req ${Math.round(got.B!.rps)} req/s p50 ${got.B!.p50.toFixed(2)} ms | B÷A CPU ${(got.B!.cpuUs / got.A!.cpuUs).toFixed(3)}`);
    }
  }
} finally {
  await a.proxy.stop();
  await b.proxy.stop();
}
for (const c of concurrencies) {
  const [sa, sb] = [samples.get(`A c${c}`)!, samples.get(`B c${c}`)!];
  const ratio = median(sa.map((x, i) => sb[i]!.cpuUs / x.cpuUs));
  log(`c${c}: median CPU/req A ${Math.round(median(sa.map((x) => x.cpuUs)))} µs, B ${Math.round(median(sb.map((x) => x.cpuUs)))} µs; median per-round B÷A ${ratio.toFixed(3)}; B lower in ${sa.filter((x, i) => sb[i]!.cpuUs < x.cpuUs).length} of ${sa.length}; wake-ups/req A ${median(sa.map((x) => x.wakeups)).toFixed(1)} B ${median(sb.map((x) => x.wakeups)).toFixed(1)}; req/s A ${Math.round(median(sa.map((x) => x.rps)))} B ${Math.round(median(sb.map((x) => x.rps)))}`);
}
log(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
