/**
 * The start-up reaper: before anything is spawned, SIGKILL the process groups
 * that a previous modelswap listed in its state file (./state-file.ts) and
 * left behind when it died without cleaning up (SIGKILL, OOM kill).
 *
 * Decision for the file, then for each listed group:
 * 1. The file's owner (proxy pid with its start time) is still alive: its
 *    groups are in use. Refuse with StateFileInUseError; touch nothing.
 * 2. The leader pid is alive with the recorded start time: it is the very
 *    process we spawned. SIGKILL its group (-pgid), wait until no member is
 *    alive, and warn "reaped orphaned upstream … left by a previous modelswap".
 * 3. The leader pid is alive with another start time (or none was recorded):
 *    the pid was reused, or cannot be verified. Leave it alone.
 * 4. The leader is gone but processes remain in group pgid: they may be the
 *    server's orphans, but once the leader is gone the pgid cannot be
 *    verified (it may have been reused). Warn with their pids; kill nothing.
 * 5. Nothing left: nothing to do.
 * Then the file is deleted; this run's GroupStateFile starts afresh.
 * Nothing is ever killed by name, and never a pid or pgid below 2.
 */
import { unlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { liveGroupMembers, liveStatSync, signalGroup } from './kill-group.ts';
import { type GroupRecord, type ProxyIdentity, readStateFile } from './state-file.ts';

export class StateFileInUseError extends Error {
  override readonly name = 'StateFileInUseError';
}

export type ReapOutcome = 'reaped' | 'still-alive' | 'pid-reused' | 'leaderless' | 'gone';

export interface ReapResult {
  /** The previous owner, when there was a file. */
  readonly previous: ProxyIdentity | undefined;
  readonly groups: readonly { readonly record: GroupRecord; readonly outcome: ReapOutcome }[];
}

/** Apply the decisions above to the file at `path`. Rejects only with StateFileInUseError (1). */
export async function reapOrphans(path: string, log: Logger, waitMs = 5000): Promise<ReapResult> {
  const content = readStateFile(path);
  if (content === undefined) return { previous: undefined, groups: [] };
  if (content instanceof Error) {
    log.warn({ stateFile: path, err: content.message }, 'ignoring an unreadable state file; it will be replaced');
    return { previous: undefined, groups: [] };
  }
  const { proxy } = content;
  if (sameProcessAlive(proxy.pid, proxy.startTime)) {
    // (1)
    throw new StateFileInUseError(
      `state file ${path} belongs to a modelswap that is still running (pid ${proxy.pid}); ` +
        'two instances cannot share one (same config file and --listen address?): stop that one or pass another --state-file',
    );
  }
  const groups = await Promise.all(content.groups.map(async (record) => ({ record, outcome: await reapGroup(record, proxy, log, waitMs) })));
  try {
    unlinkSync(path);
  } catch {
    // already gone, or not ours to delete: the next write replaces it anyway
  }
  return { previous: proxy, groups };
}

async function reapGroup(record: GroupRecord, proxy: ProxyIdentity, log: Logger, waitMs: number): Promise<ReapOutcome> {
  const { pgid, pid, model, argv } = record;
  const leader = liveStatSync(pid);
  const from = `left by a previous modelswap (pid ${proxy.pid})`;
  if (leader !== undefined && record.startTime !== undefined && leader.startTime === record.startTime) {
    // (2)
    const members = await liveGroupMembers(pgid);
    signalGroup(pgid, 'SIGKILL');
    if (leader.pgrp !== pgid) killQuietly(pid); // the leader left its group: the verified process itself
    const gone = await untilGone(pgid, pid, waitMs);
    if (!gone) {
      log.error({ model, pgid, cmd: argv }, `orphaned upstream "${model}" (process group ${pgid}) ${from} is still alive after SIGKILL`);
      return 'still-alive';
    }
    log.warn({ model, pgid, pids: members, cmd: argv }, `reaped orphaned upstream "${model}" (process group ${pgid}, ${members.length} process(es)) ${from}`);
    return 'reaped';
  }
  if (leader !== undefined) {
    // (3)
    log.debug({ model, pid, recorded: record.startTime, now: leader.startTime }, 'state file: the pid is another process now (or cannot be verified); not touching it');
    return 'pid-reused';
  }
  const members = await liveGroupMembers(pgid);
  if (members.length > 0) {
    // (4)
    log.warn(
      { model, pgid, pids: members, cmd: argv },
      `process group ${pgid} of upstream "${model}" ${from} lost its leader, and ${members.length} process(es) remain in it; ` +
        'without its leader the group cannot be verified, so they were not killed: check them by hand',
    );
    return 'leaderless';
  }
  return 'gone'; // (5)
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Alive, not a zombie, and started when recorded. Without a recorded start time nothing can be verified: false. */
function sameProcessAlive(pid: number, startTime: string | undefined): boolean {
  return startTime !== undefined && liveStatSync(pid)?.startTime === startTime;
}

async function untilGone(pgid: number, pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (let interval = 5; ; interval = Math.min(interval * 2, 100)) {
    if ((await liveGroupMembers(pgid)).length === 0 && liveStatSync(pid) === undefined) return true;
    if (performance.now() >= deadline) return false;
    await sleep(interval);
  }
}
