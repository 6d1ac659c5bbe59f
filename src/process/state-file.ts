/**
 * The state file of live process groups ("modelswap under faults: nothing
 * orphaned", layer 3; layers 1 and 2 are ./launch.ts). It lists every group
 * this proxy has running, so that the next modelswap started with the same
 * file can reap what a SIGKILLed or OOM-killed one left behind (./reap.ts).
 *
 * Contract:
 * - Rewritten on every start (`add`) and stop (`remove`), atomically: a
 *   temporary file in the same directory, then rename(2), so a reader sees
 *   the old list or the new one, never half of one.
 * - `add` writes synchronously, on purpose: a few hundred bytes once per
 *   start, and the record is on disk before the proxy can die having spawned
 *   the group. A group on file already (a spare launch wrapper,
 *   ./spare-pool.ts, now running a model's server) is relabelled on the next
 *   turn instead: its pgid and start time, which the reaper goes by, stay
 *   the same across the exec. `remove` writes on the next turn of the event loop
 *   (setImmediate; removals in one turn are one write), so a swap does not
 *   wait for the write (~0.4 ms here) between the old group's end and the
 *   next server's start. A group listed a moment too long is harmless: the
 *   reaper checks each leader's start time. `flush()` writes at once (the
 *   proxy's shutdown).
 * - Removed when no group is left, so it exists only while something may
 *   need reaping (a clean shutdown leaves nothing behind).
 * - Never throws: a failed write is logged (once until one succeeds); the
 *   proxy works on, only without this protection.
 * - Each group is identified by pgid, leader pid and the leader's start time
 *   (/proc/<pid>/stat field 22), never by name; the proxy's own pid and
 *   start time tell whether the file's owner is still alive.
 */
import { createHash } from 'node:crypto';
import { renameSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { readStatSync } from './kill-group.ts';

export interface GroupRecord {
  readonly model: string;
  readonly pgid: number;
  /** The leader's pid (=== pgid: every upstream leads its own group). */
  readonly pid: number;
  /** The leader's /proc/<pid>/stat field 22; absent without /proc, and then the group is never reaped. */
  readonly startTime?: string;
  /** The model's cmd as spawned (`${DEVICE}` replaced; not the setpriv/watchdog wrapping). */
  readonly argv: readonly string[];
}

export interface ProxyIdentity {
  readonly pid: number;
  readonly startTime?: string;
}

export interface StateFileContent {
  readonly version: 1;
  /** The modelswap that wrote the file. */
  readonly proxy: ProxyIdentity;
  readonly groups: readonly GroupRecord[];
}

/**
 * `$XDG_RUNTIME_DIR` (or the temp dir)/modelswap-<hash>.json, the hash of the
 * absolute config path and the listen address: one file per instance, found
 * again by the next start of the same instance.
 */
export function defaultStateFilePath(configPath: string, listen: string): string {
  const hash = createHash('sha256').update(`${resolve(configPath)}\n${listen}`).digest('hex').slice(0, 16);
  const runtime = process.env.XDG_RUNTIME_DIR;
  const dir = runtime !== undefined && runtime !== '' && isDir(runtime) ? runtime : tmpdir();
  return join(dir, `modelswap-${hash}.json`);
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** This process, as the file names it. */
export function selfIdentity(): ProxyIdentity {
  const startTime = readStatSync(process.pid)?.startTime;
  return startTime === undefined ? { pid: process.pid } : { pid: process.pid, startTime };
}

export class GroupStateFile {
  readonly path: string;
  readonly #log: Logger;
  readonly #proxy = selfIdentity();
  readonly #groups = new Map<number, GroupRecord>();
  #failing = false;
  #pending: NodeJS.Immediate | undefined;

  constructor(path: string, log: Logger) {
    this.path = path;
    this.#log = log;
  }

  /** Record a group just spawned (reads its leader's start time now), or relabel one on file already. */
  add(model: string, pgid: number, argv: readonly string[]): void {
    const known = this.#groups.get(pgid);
    if (known !== undefined) {
      this.#groups.set(pgid, { ...known, model, argv: [...argv] });
      this.#pending ??= setImmediate(() => this.flush());
      return;
    }
    const startTime = readStatSync(pgid)?.startTime;
    const base = { model, pgid, pid: pgid, argv: [...argv] };
    this.#groups.set(pgid, startTime === undefined ? base : { ...base, startTime });
    this.flush();
  }

  /** Forget a group once every member is gone (written on the next turn of the event loop). A pgid never added is ignored. */
  remove(pgid: number): void {
    if (this.#groups.delete(pgid)) this.#pending ??= setImmediate(() => this.flush());
  }

  /** Write the current list now (a removal still pending included). */
  flush(): void {
    clearImmediate(this.#pending);
    this.#pending = undefined;
    this.#write();
  }

  /** The groups listed now (a copy). */
  records(): GroupRecord[] {
    return [...this.#groups.values()];
  }

  #write(): void {
    try {
      if (this.#groups.size === 0) {
        unlinkSync(this.path);
      } else {
        const content: StateFileContent = { version: 1, proxy: this.#proxy, groups: this.records() };
        const tmp = `${this.path}.${process.pid}.tmp`;
        writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
        renameSync(tmp, this.path);
      }
      this.#failing = false;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && this.#groups.size === 0) return; // already absent
      if (!this.#failing) this.#log.warn({ err, stateFile: this.path }, 'cannot write the state file; upstreams left by a crash will not be reaped at the next start');
      this.#failing = true;
    }
  }
}

/** The file's content; undefined when there is no file; an Error (never thrown) when it is not one of ours. */
export function readStateFile(path: string): StateFileContent | undefined | Error {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return err as Error;
  }
  try {
    const data = JSON.parse(text) as Partial<StateFileContent>;
    if (data.version !== 1 || !isIdentity(data.proxy) || !Array.isArray(data.groups) || !data.groups.every(isRecord)) {
      return new Error('not a modelswap state file (version 1)');
    }
    return data as StateFileContent;
  } catch (err) {
    return err as Error;
  }
}

const isPid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 1;
const isTicks = (v: unknown): boolean => v === undefined || (typeof v === 'string' && /^\d+$/.test(v));

function isIdentity(v: unknown): v is ProxyIdentity {
  const p = v as Partial<ProxyIdentity> | null;
  return typeof p === 'object' && p !== null && isPid(p.pid) && isTicks(p.startTime);
}

function isRecord(v: unknown): v is GroupRecord {
  const r = v as Partial<GroupRecord> | null;
  return (
    typeof r === 'object' && r !== null && isPid(r.pgid) && isPid(r.pid) && isTicks(r.startTime) &&
    typeof r.model === 'string' && Array.isArray(r.argv) && r.argv.every((a) => typeof a === 'string')
  );
}
