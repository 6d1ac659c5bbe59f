/**
 * Shared fixtures for process tests: a free loopback port, a ModelConfig for
 * the bundled fake llama-server, and an UpstreamProcess wired to a recorder
 * whose `until(cond)` waits on events (status, exit, output), never on sleeps.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import type { ModelConfig } from '../../src/config/types.ts';
import { LogRing } from '../../src/log/ring.ts';
import { parseStat, signalGroup } from '../../src/process/kill-group.ts';
import { WATCHDOG_NAME } from '../../src/process/launch.ts';
import { watchdogPid, watchedGroups } from '../../src/process/watchdog.ts';
import type { ExitInfo, ProcessStatus } from '../../src/process/types.ts';
import type { SparePool } from '../../src/process/spare-pool.ts';
import type { GroupStateFile } from '../../src/process/state-file.ts';
import { UpstreamProcess } from '../../src/process/upstream-process.ts';

export const NODE = process.execPath;
export const FAKE = fileURLToPath(new URL('../../src/demo/fake-llama-server.ts', import.meta.url));

/** A port that was free a moment ago (listen on 0, close). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

export function fakeCmd(port: number, ...flags: string[]): string[] {
  return [NODE, FAKE, '--port', String(port), '--model-id', 'm', ...flags];
}

export function modelConfig(port: number, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    id: 'm',
    cmd: fakeCmd(port),
    cmdStop: undefined,
    proxy: `http://127.0.0.1:${port}`,
    checkEndpoint: '/health',
    env: {},
    ttlMs: 0,
    unloadTimeoutMs: 2000,
    healthCheckTimeoutMs: 10_000,
    aliases: [],
    useModelName: undefined,
    unlisted: false,
    name: undefined,
    description: undefined,
    metadata: undefined,
    concurrencyLimit: 10,
    filters: { stripParams: [], setParams: undefined, setParamsByID: new Map() },
    timeouts: { connectMs: 30_000, responseHeaderMs: 0 },
    capabilities: undefined,
    ignoreWebsockets: false,
    sendLoadingState: false,
    startError: undefined,
    simulate: { loadMs: 10_000, stopMs: 1000 },
    ...over,
  };
}

export interface Harness {
  readonly up: UpstreamProcess;
  readonly logs: LogRing;
  readonly statuses: ProcessStatus[];
  readonly exits: ExitInfo[];
  /** Resolves once `cond()` holds, re-checked on every status, exit and output event. */
  until(cond: () => boolean): Promise<void>;
  /** Every pgid this harness ever saw; killed with SIGKILL in `t.after`. */
  readonly pgids: Set<number>;
}

/** An UpstreamProcess for `model`, shut down (and its groups SIGKILLed) after the test. `device`: its placement, asked at each spawn. */
export function harness(t: TestContext, model: ModelConfig, opts: { readonly device?: () => string | undefined; readonly spares?: SparePool; readonly groups?: GroupStateFile } = {}): Harness {
  const ee = new EventEmitter();
  const logs = new LogRing();
  const statuses: ProcessStatus[] = [];
  const exits: ExitInfo[] = [];
  const pgids = new Set<number>();
  const changed = (): void => {
    const pid = up.pid(); // spawned after the port check: seen by the first output or status change
    if (pid !== undefined) pgids.add(pid);
    ee.emit('change');
  };
  const up = new UpstreamProcess(model, {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    logs,
    healthIntervalMs: 20,
    onStatus: (s) => {
      statuses.push(s);
      changed();
    },
    onExit: (info) => {
      exits.push(info);
      changed();
    },
    onOutput: changed,
    device: opts.device,
    spares: opts.spares,
    groups: opts.groups,
  });
  logs.subscribe(changed);
  const until = (cond: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!cond()) return;
        ee.off('change', check);
        resolve();
      };
      ee.on('change', check);
      check();
    });
  t.after(async () => {
    await up.shutdown(100);
    for (const g of pgids) signalGroup(g, 'SIGKILL');
  });
  return { up, logs, statuses, exits, until, pgids };
}

/** Non-zombie members of group `pgid`, read straight from /proc (independent of the code under test). */
export function groupMembersNow(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const st = parseStat(text);
    if (st !== undefined && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') out.push(Number(name));
  }
  return out;
}

/** One variable of a live process's initial environment, from /proc. */
export function envOf(pid: number, name: string): string | undefined {
  const line = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1);
}

/** A process's argv joined by spaces ('' once it is gone). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Is `pid` alive and not a zombie? */
export function aliveNow(pid: number): boolean {
  try {
    const st = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return st !== undefined && st.state !== 'Z' && st.state !== 'X';
  } catch {
    return false;
  }
}

/**
 * The live watchdog process that holds group `pgid` (src/process/watchdog.ts):
 * [its pid] when the proxy told it of the group and has not withdrawn it and
 * the process runs, found by its argv in /proc; else [].
 */
export function watchdogsNow(pgid: number): number[] {
  const pid = watchdogPid();
  if (pid === undefined || !watchedGroups().includes(pgid) || !aliveNow(pid)) return [];
  return cmdline(pid).split(' ').includes(WATCHDOG_NAME) ? [pid] : [];
}

/** Live children of `ppid` that are a watchdog (src/process/watchdog.ts), found by their argv's WATCHDOG_NAME in /proc. */
export function watchdogChildren(ppid: number): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields[0] !== 'Z' && Number(fields[1]) === ppid && cmdline(pid).split(' ').includes(WATCHDOG_NAME);
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** Wait (bounded) until the watchdog no longer holds group `pgid`: the proxy withdrew it once the group was gone. */
export async function untilNoWatchdog(pgid: number, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (watchedGroups().includes(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(!watchedGroups().includes(pgid), `the watchdog still holds group ${pgid}`);
}
