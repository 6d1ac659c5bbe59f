/**
 * The fewest swaps any one-model-at-a-time schedule of a trace can make
 * with every wait at most a given time (../lib/min-loads.ts: a lower bound,
 * whatever the scheduler knows of the future), to judge a scheduler's swaps
 * against what its waits allow.
 *
 *   node bench/tools/min-swaps.ts --trace bench/traces/bursty-3models.json \
 *     --load-ms 265 --max-wait 1000,1500,2000 [--step-ms 10]
 *
 * --load-ms: one swap, the resident's stop included. Prints one line per
 * maximum wait. A large maximum wait on a long trace takes minutes.
 */
import { parseArgs } from 'node:util';
import { minLoads } from '../lib/min-loads.ts';
import { readTrace } from '../lib/trace.ts';

const { values: args } = parseArgs({
  options: {
    trace: { type: 'string' },
    'load-ms': { type: 'string' },
    'max-wait': { type: 'string' },
    'step-ms': { type: 'string', default: '10' },
  },
  strict: true,
});
if (args.trace === undefined || args['load-ms'] === undefined || args['max-wait'] === undefined) {
  process.stderr.write('usage: node bench/tools/min-swaps.ts --trace FILE --load-ms MS --max-wait MS[,MS...] [--step-ms 10]\n');
  process.exit(2);
}
const trace = readTrace(args.trace);
const arrivals = new Map<string, number[]>();
for (const r of trace.requests) arrivals.set(r.model, [...(arrivals.get(r.model) ?? []), r.atMs]);
const loadMs = Number(args['load-ms']);
for (const maxWaitMs of args['max-wait'].split(',').map(Number)) {
  const n = minLoads({ arrivals, loadMs, maxWaitMs, stepMs: Number(args['step-ms']) });
  process.stdout.write(`${trace.name}, loads of ${loadMs} ms: every wait ≤ ${maxWaitMs} ms needs ${Number.isFinite(n) ? `≥ ${n} loads` : 'more than any schedule can give'}\n`);
}
