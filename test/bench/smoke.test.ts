/**
 * The benchmark's smoke run (`node bench/run.ts --smoke`, a few seconds):
 * every scenario runs against real processes and writes well-formed results.
 * It asserts shape and sanity, never speed (speed is `npm run bench`'s job).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import type { Results } from '../../bench/lib/results.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

test('npm run bench -- --smoke runs every scenario and writes JSON, Markdown and an SVG chart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-bench-smoke-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const report = join(dir, 'BENCHMARKS.md');
  const run = await execa(process.execPath, [join(ROOT, 'bench/run.ts'), '--smoke', '--results', dir, '--report', report], {
    cwd: ROOT, reject: false, timeout: 110_000, env: { LLAMA_SERVER: '' },
  });
  assert.equal(run.exitCode, 0, `bench failed:\n${run.stdout}\n${run.stderr}`);

  const r = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as Results;
  assert.equal(r.schema, 1);
  assert.equal(r.mode, 'smoke');
  assert.ok(!Number.isNaN(Date.parse(r.date)));
  assert.equal(r.machine.node, process.version);
  assert.ok(r.machine.cpus >= 1);

  const s = r.scenarios;
  const oh = s.overhead!.summary;
  assert.equal(oh.errors, 0, 'no failed request in the overhead phases');
  for (const row of [oh.c1, oh.c32]) {
    assert.ok(row.directP50Ms > 0 && row.proxyP50Ms > 0, 'latencies measured');
  }
  assert.ok(oh.c64.directReqPerSec > 0 && oh.c64.proxyReqPerSec > 0);
  assert.ok(oh.proxyCpuUsPerReq > 0, 'proxy CPU per request read from /proc');
  assert.ok(oh.rssMb.idle > 10 && oh.rssMb.peak >= oh.rssMb.idle);
  assert.ok(oh.floor !== undefined && Number.isFinite(oh.floor.c1AddedP50Ms) && oh.floor.c64Ratio > 0, 'the bare node:http forwarder was measured too');
  assert.ok(s.overhead!.rounds.every((pairs) => pairs.every((p) => (p.bare === undefined) === (p.concurrency === 32))), 'at concurrency 1 and 64 only');
  assert.ok(oh.recording !== undefined && oh.recording.c64.offCpuUsPerReq > 0 && oh.recording.c64.cpuRatio > 0 && oh.recording.c64.throughputRatio > 0, 'modelswap with recording off was measured too');
  assert.ok(s.overhead!.rounds.every((pairs) => pairs.every((p) => (p.unrecorded === undefined) === (p.concurrency === 32))), 'recording off at concurrency 1 and 64 only');

  assert.equal(s.streaming!.rows.length, 2, 'one stream, then several at once');
  for (const row of s.streaming!.rows) {
    assert.equal(row.errors, 0);
    assert.ok(row.events > 0 && row.reads > 0);
    assert.ok(Number.isFinite(row.directDelayP50Ms) && Number.isFinite(row.proxyDelayP50Ms), 'every event carried a send stamp');
    assert.ok(row.proxyCoalescedReads <= row.proxyMultiEventReads);
  }
  for (const pair of s.streaming!.raw) {
    for (const r of [pair.direct, pair.proxy]) assert.ok(r.idleHelpers?.ok === true, `load generator's V8 helpers under SCHED_IDLE: ${JSON.stringify(r.idleHelpers)}`);
  }

  const cs = s.coldStart!;
  assert.equal(cs.rounds.length, 1);
  assert.ok(cs.summary.ownReadyMs >= cs.loadMs, 'the upstream answers 503 for its load time');
  assert.ok(cs.summary.coldTtfbMs >= cs.loadMs && cs.summary.swapTtfbMs >= cs.loadMs, 'a cold start or swap cannot beat the load');

  assert.deepEqual(s.traces!.map((x) => x.runner), ['serial', 'fifo', 'batch']);
  for (const run of s.traces!) {
    assert.equal(run.failed, 0, run.firstFailure ?? '');
    assert.equal(run.ok, 4);
    assert.ok(run.swaps !== null && run.swaps >= 2, 'both models were loaded');
    assert.ok(run.makespanMs > 0 && run.waitMaxMs >= run.waitP99Ms! && run.waitP99Ms! >= run.waitP50Ms);
    assert.equal(run.proxy?.granted, 4, 'the proxy\'s event feed was read before it stopped');
    assert.ok(run.proxy!.loadMaxMs >= 50, 'the fake\'s load time is in the feed\'s loads');
    assert.equal(run.proxy!.bound === undefined, run.runner !== 'batch', 'the bound is checked for batch only');
  }
  const bound = s.traces!.find((x) => x.runner === 'batch')!.proxy!.bound!;
  assert.equal(bound.over, 0);
  assert.ok(bound.tightest.boundMs > bound.tightest.waitMs && bound.tightest.waitMs >= 0);

  assert.equal(s.scale!.raw.proxy.errors, 0);
  assert.equal(s.scale!.maxOpen, s.scale!.streams, 'every stream was open at once');
  assert.ok(s.scale!.rssMb.peakDuring >= s.scale!.rssMb.idle);
  assert.equal(s.real!.skipped, 'smoke run');

  const ids = r.targets.map((x) => x.id);
  for (const id of ['c1-added-p50', 'c64-throughput', 'recording-cpu', 'recording-throughput', 'recording-c1-p50', 'chunk-added-p50', 'coalesced', 'cold-overhead', 'swap-overhead', 'bursty-swaps', 'blocking-bounded', 'batch-bound', 'scale-errors', 'scale-rss', 'router-makespan-fifo', 'real-c8-throughput', 'real-cpu-c1', 'real-batch-swaps-vs-router-bursty-3models', 'real-batch-p99-alternating-ab']) {
    assert.ok(ids.includes(id), `target ${id} reported`);
  }
  for (const target of r.targets) assert.ok(target.met === null || typeof target.met === 'boolean');
  assert.equal(r.targets.find((x) => x.id === 'bursty-swaps')!.met, null, 'the smoke trace is not the bursty one');
  assert.equal(r.targets.find((x) => x.id === 'batch-bound')!.met, true, 'batch\'s waits on the smoke trace are within its bound');

  const md = readFileSync(report, 'utf8');
  assert.match(md, /^# modelswap benchmarks/);
  assert.match(md, /## Targets\n\n\| scenario \| target \| goal \| measured \|/);
  for (const h of ['## 1. Request overhead', '## 2. Streaming', '## 3. Cold start and swap', '## 4. Scheduling traces', '## 5. Scale', '## 6. Real upstream']) assert.ok(md.includes(h), h);
  assert.match(md, /Skipped: smoke run/);
  assert.match(md, /\| modelswap fifo \| skipped: smoke run \|/, 'the side-by-side rows say why they are skipped');
  assert.match(md, /\| smoke \| batch \| 4 \| 0 \| \d+ \| [\d.]+ \| \d+ \| \d+ \| \d+ \| \d+ \| \d+ ≤ \d+ \|/, 'batch\'s row shows its wait against its bound');
  assert.match(md, /!\[[^\]]*\]\(chart\.svg\)/, 'the chart is linked relative to the report');

  const svg = readFileSync(join(dir, 'chart.svg'), 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  const bars = r.targets.filter((x) => x.budgetUsed !== null && x.met !== null).length;
  assert.ok(bars > 0);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, bars, 'one bar per numeric target');
});
