/**
 * Process-group liveness and signalling, plus the registry of live groups the
 * CLI kills synchronously on `process.on('exit')`.
 *
 * Every upstream is spawned `detached`, so it leads its own group and
 * pgid === leader pid. Signals go to `-pgid` so grandchildren die too.
 *
 * Liveness does NOT trust `process.kill(-pgid, 0)`: it also succeeds while
 * members are zombies waiting for a slow PID 1 to reap them. We only use it
 * as a fast "definitely gone" (ESRCH) and otherwise read `/proc/<pid>/stat`
 * for members of the group that are not zombies.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const liveGroups = new Set<number>();

/** Remember a group so `killAllGroupsSync` can reach it. */
export function registerGroup(pgid: number): void {
  liveGroups.add(pgid);
}

/** Forget a group once every member is gone (so a reused pid is never hit). */
export function unregisterGroup(pgid: number): void {
  liveGroups.delete(pgid);
}

/** The pgids currently registered (a copy, for tests and diagnostics). */
export function registeredGroups(): number[] {
  return [...liveGroups];
}

/**
 * SIGKILL every registered group, synchronously. For `process.on('exit')`
 * and fatal-signal handlers, where nothing asynchronous runs any more.
 */
export function killAllGroupsSync(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  liveGroups.clear();
}

/**
 * Send `signal` to every member of the group. Returns false when the group
 * no longer exists (ESRCH); other errors (EPERM) are reported as true —
 * something is there that we could not signal.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The fields of /proc/<pid>/stat the process layer uses. */
export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), X (dead), … */
  readonly state: string;
  /** Field 5: process group id. */
  readonly pgrp: number;
  /**
   * Field 22: start time in clock ticks after boot. With the pid it names one
   * process for the life of the boot, so a reused pid is told apart (kept as
   * the decimal text, compared as such).
   */
  readonly startTime: string;
}

/**
 * Parse the fields we need from /proc/<pid>/stat. The comm field is in
 * parentheses and may itself contain spaces and ')', so split after the last ')'.
 */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0]; // field 3
  const pgrp = Number(rest[2]); // field 5
  const startTime = rest[19]; // field 22
  if (state === undefined || !Number.isInteger(pgrp) || startTime === undefined || !/^\d+$/.test(startTime)) return undefined;
  return { state, pgrp, startTime };
}

/** /proc/<pid>/stat of any process, zombies included, or undefined (gone, no /proc). Synchronous: one small read. */
export function readStatSync(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/stat of a live (not zombie) process, or undefined. */
export function liveStatSync(pid: number): ProcStat | undefined {
  const st = readStatSync(pid);
  return st === undefined || st.state === 'Z' || st.state === 'X' ? undefined : st;
}

/**
 * Pids in group `pgid` that are alive (not zombie 'Z' or dead 'X').
 * Reads /proc synchronously: each stat is a tiny in-memory read (~4 µs; 70
 * processes take ~0.3 ms here), while the same reads through the libuv
 * thread pool took 4–7 ms, which a swap would wait for on every poll.
 */
export async function liveGroupMembers(pgid: number): Promise<number[]> {
  // Fast path: ESRCH means no member at all, not even a zombie.
  if (!signalGroup(pgid, 0)) return [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pgid]; // no /proc (not Linux): trust kill(-pgid, 0) which said "alive"
  }
  const live: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const st = parseStat(text);
    if (st !== undefined && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') live.push(Number(name));
  }
  return Promise.resolve(live);
}

/**
 * Resolve true once `leaderExited` has settled and the group has no live
 * member, or false after `ms`. Polls /proc every `pollMs` at first, backing
 * off to 200 ms, since every poll reads each process's stat. Never rejects.
 * The first polls are quick because a swap waits on this. Usually the first
 * one ends it: the group was the leader (reaped by now) and nothing else, so
 * `kill(-pgid, 0)` fails with ESRCH at once (the watchdog is outside the
 * group, launch.ts).
 */
export async function waitGroupGone(
  pgid: number,
  leaderExited: Promise<unknown>,
  ms: number,
  pollMs = 1,
): Promise<boolean> {
  const deadline = performance.now() + ms;
  const cancel = new AbortController(); // cancels the losing timer
  try {
    const leaderGone = await Promise.race([
      leaderExited.then(
        () => true,
        () => true,
      ),
      sleep(ms, false, { signal: cancel.signal }),
    ]);
    if (!leaderGone) return false;
  } finally {
    cancel.abort();
  }
  for (let interval = pollMs; ; interval = Math.min(interval * 2, 200)) {
    if ((await liveGroupMembers(pgid)).length === 0) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await sleep(Math.min(interval, left));
  }
}
