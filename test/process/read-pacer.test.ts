/**
 * A ready server's output is read in batches (src/process/read-pacer.ts):
 * many small writes arrive complete and in order in the model's log ring
 * (what /logs and /logs/stream read), in a bounded number of reads; a server
 * that writes fast is never held behind a full pipe; while starting, output
 * is read as it comes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnChild } from '../../src/process/spawn.ts';
import { PACE_DELAY_MS } from '../../src/process/read-pacer.ts';
import { freePort, harness, modelConfig, NODE } from './helpers.ts';

const T = { timeout: 30_000 };
const LINES = 2000;

/** A server on argv[1]: /health is 200; GET /go makes it write LINES lines, one write per turn of its event loop, then "done". */
const SERVER = `
const http = require('node:http');
const write = (i) => {
  if (i === ${LINES}) return process.stdout.write('done\\n');
  process.stdout.write('line ' + i + '\\n');
  setImmediate(write, i + 1);
};
http.createServer((req, res) => {
  if (req.url === '/go') setImmediate(write, 0);
  res.end('ok');
}).listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

test('once ready, many small writes reach the log ring complete and in order, in few reads', T, async (t) => {
  const port = await freePort();
  const h = harness(t, modelConfig(port, { cmd: [NODE, '-e', SERVER, String(port)] }));
  await h.up.ensureReady();
  await h.until(() => h.logs.history().includes('listening\n'));
  let reads = 0;
  let first = 0;
  let last = 0;
  h.logs.subscribe(() => {
    last = performance.now();
    if (reads++ === 0) first = last;
  });
  const res = await fetch(`http://127.0.0.1:${port}/go`);
  await res.text();
  await h.until(() => h.logs.history().includes('done\n'));
  const expected = `${Array.from({ length: LINES }, (_, i) => `line ${i}\n`).join('')}done\n`;
  assert.ok(h.logs.history().endsWith(expected), 'every line, in order, nothing doubled');
  // Each read that brought little is followed by a pause: at most one read per pause, plus the first.
  const bound = Math.ceil((last - first) / PACE_DELAY_MS) + 2;
  assert.ok(reads <= bound, `${reads} reads for ${LINES} writes over ${Math.round(last - first)} ms (at most ${bound})`);
  assert.ok(reads < LINES / 10, `${reads} reads for ${LINES} writes`);
});

test('a server writing fast is not held behind a full pipe; batching off reads as it comes', T, async () => {
  // 8 MiB in 64 KiB writes. Were every read followed by a pause, each pipe-full
  // (64 KiB) would wait PACE_DELAY_MS: 128 × 20 ms = 2.6 s at least.
  const script = `const b = Buffer.alloc(65536, 120); const t0 = performance.now(); for (let i = 0; i < 128; i++) require('node:fs').writeSync(1, b); process.stderr.write('wrote in ' + Math.round(performance.now() - t0) + ' ms\\n');`;
  let bytes = 0;
  let stderr = '';
  const child = spawnChild([NODE, '-e', script], {
    env: {},
    onOutput: (text) => {
      if (text.startsWith('wrote in')) stderr += text;
      else bytes += Buffer.byteLength(text);
    },
  });
  child.batchOutput(true);
  await child.exited;
  await child.closed;
  assert.equal(bytes, 128 * 65536, 'every byte arrived');
  const ms = Number(/wrote in (\d+) ms/.exec(stderr)?.[1]);
  assert.ok(ms < 1300, `the writer took ${ms} ms: it was held behind a full pipe`);

  // Off: every small write is read on its own turn (the start's health-check wake-ups rely on it).
  let chunks = 0;
  const lines = spawnChild([NODE, '-e', `let i = 0; const w = () => { if (i++ < 20) { process.stdout.write('x\\n'); setTimeout(w, 5); } }; w();`], { env: {}, onOutput: (text) => void (chunks += text === '' ? 0 : 1) });
  await lines.exited;
  await lines.closed;
  assert.ok(chunks >= 15, `${chunks} reads for 20 writes 5 ms apart`);
});
