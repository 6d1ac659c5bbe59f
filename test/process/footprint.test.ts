/**
 * Measuring a server's footprint: the RSS of a real process group (a child
 * and its grandchild, each holding memory it touched), GPU usage per process
 * from nvidia-smi's output (parsed, from fixed text), budgets detected from
 * nvidia-smi / rocm-smi / the system, and the warnings for declarations that
 * are more than 20% off.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { totalmem } from 'node:os';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceNeed } from '../../src/config/types.ts';
import { footprintWarnings, measureFootprint, processRss } from '../../src/process/footprint.ts';
import { liveGroupMembers } from '../../src/process/kill-group.ts';
import { detectMemory, parseNvidiaApps, parseNvidiaGpus, parseRocmGpus } from '../../src/process/memory-probe.ts';

const MIB = 2 ** 20;
const G = 2 ** 30;

/**
 * Holds `mib` MiB it has written to, then prints "ready"; given `child` MiB,
 * first starts one more holder of that size (its own source is in $HOLDER),
 * in the same process group, and prints "ready" once that one is ready.
 */
const HOLDER = `
const [mib, child] = process.argv.slice(1).map(Number);
globalThis.keep = Buffer.alloc(mib * 1024 * 1024, 1);
const ready = () => process.stdout.write('ready\\n');
if (child > 0) {
  const c = require('node:child_process').spawn(process.execPath, ['-e', process.env.HOLDER, String(child), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  c.stdout.once('data', ready);
} else ready();
setInterval(() => {}, 1000);
`;

describe('measureFootprint on a real process group', () => {
  it('sums the RSS of every member, grandchild included', async (t) => {
    const child = spawn(process.execPath, ['-e', HOLDER, '120', '80'], { detached: true, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HOLDER } });
    const pgid = child.pid!;
    t.after(() => { try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ } });
    await once(child.stdout, 'data');

    const pids = (await liveGroupMembers(pgid)).sort((a, b) => a - b);
    assert.equal(pids.length, 2, `the child and its grandchild: ${pids.join(', ')}`);
    assert.ok(pids.includes(pgid));
    const fp = await measureFootprint(pgid, async () => new Map([[pids[1]!, new Map([['0', 3 * G]])], [999_999_999, new Map([['0', G]])]]));
    assert.deepEqual(fp.pids, pids);
    assert.ok(fp.rss >= 200 * MIB, `rss ${fp.rss / MIB} MiB`);
    assert.ok(fp.rss < 600 * MIB, `rss ${fp.rss / MIB} MiB`);
    assert.deepEqual(fp.vram, new Map([['0', 3 * G]]), 'only the group\'s own processes count');
    assert.equal((await measureFootprint(pgid, async () => undefined)).vram, undefined);
  });

  it('a group that does not exist measures empty', async () => {
    assert.deepEqual(await measureFootprint(2 ** 22 + 12345, async () => undefined), { pids: [], rss: 0, vram: undefined });
    assert.equal(processRss(2 ** 22 + 12345), 0);
  });
});

describe('GPU tools', () => {
  const gpus = '0, GPU-aaa, 24576\n1, GPU-bbb, 16384\n';
  it('parses nvidia-smi GPUs and per-process usage', () => {
    assert.deepEqual(parseNvidiaGpus(gpus), new Map([['0', { uuid: 'GPU-aaa', bytes: 24 * G }], ['1', { uuid: 'GPU-bbb', bytes: 16 * G }]]));
    const apps = '4242, GPU-aaa, 7680\n4242, GPU-bbb, 1024\n77, GPU-zzz, 5\nbad line\n';
    assert.deepEqual(parseNvidiaApps(apps, parseNvidiaGpus(gpus)), new Map([[4242, new Map([['0', 7.5 * G], ['1', G]])]]));
  });

  it('parses rocm-smi\'s JSON', () => {
    const json = JSON.stringify({ card0: { 'VRAM Total Memory (B)': '17163091968', 'VRAM Total Used Memory (B)': '1' }, card1: { 'VRAM Total Memory (B)': '8589934592' }, system: {} });
    assert.deepEqual(parseRocmGpus(json), new Map([['0', 17163091968], ['1', 8589934592]]));
    assert.deepEqual(parseRocmGpus('not json'), new Map());
  });

  it('detects nvidia first, then rocm, and always the system RAM', async () => {
    const calls: string[] = [];
    const nvidia = await detectMemory(async (file) => { calls.push(file); return file === 'nvidia-smi' ? gpus : undefined; });
    assert.deepEqual(nvidia, { devices: new Map([['0', 24 * G], ['1', 16 * G]]), ram: totalmem() });
    assert.deepEqual(calls, ['nvidia-smi']);
    const rocm = await detectMemory(async (file) => (file === 'rocm-smi' ? JSON.stringify({ card0: { 'VRAM Total Memory (B)': '1024' } }) : undefined));
    assert.deepEqual(rocm.devices, new Map([['0', 1024]]));
    const none = await detectMemory(async () => undefined);
    assert.deepEqual(none, { devices: new Map(), ram: totalmem() });
  });
});

describe('footprintWarnings', () => {
  const need = (vram: number, ram: number): ResourceNeed => ({ vram: vram * G, devices: undefined, ram: ram * G });
  const fp = (rss: number, vram?: number) => ({ pids: [1], rss: rss * G, vram: vram === undefined ? undefined : new Map([['0', vram * G]]) });
  const rows: ReadonlyArray<readonly [string, ResourceNeed, ReturnType<typeof fp>, RegExp[]]> = [
    ['within 20%: nothing', need(8, 0), fp(6, 9), []],
    ['GPU memory 25% over the declaration', need(8, 0), fp(6, 10), [/models\.m\.resources\.vram declares 8 GiB, the server uses 10 GiB \(25% more\): raise it/]],
    ['GPU memory far under the declaration', need(8, 0), fp(6, 4), [/\(50% less\): lower it/]],
    ['without nvidia-smi the GPU memory is not compared, and a GPU model\'s RSS is not either', need(8, 0), fp(30), []],
    ['a CPU model\'s RSS is compared with its ram', need(0, 4), fp(6), [/resources\.ram declares 4 GiB, the server uses 6 GiB \(50% more\)/]],
    ['a model declaring nothing that uses memory', need(0, 0), fp(1), [/declares 0 B, the server uses 1 GiB: raise it/]],
  ];
  for (const [scenario, declared, measured, want] of rows) {
    it(scenario, () => {
      const got = footprintWarnings('m', declared, measured);
      assert.equal(got.length, want.length, got.join('\n'));
      want.forEach((re, i) => assert.match(got[i] ?? '', re));
    });
  }
});
