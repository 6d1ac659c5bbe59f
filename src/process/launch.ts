/**
 * How an upstream is launched so that it dies with the proxy even when the
 * proxy itself is SIGKILLed or OOM-killed, when no exit handler runs
 * ("modelswap under faults: nothing orphaned", layers 1 and 2; layer 3, the
 * state file reaped at the next start, is ./state-file.ts and ./reap.ts).
 * Every upstream runs as
 *
 *   [setpriv --pdeathsig SIGKILL --] argv…                    (the server)
 *   /bin/sh -c WATCHDOG modelswap-watchdog PGID               (its watchdog)
 *
 * 1. setpriv (util-linux) sets PR_SET_PDEATHSIG and execs the argv unchanged
 *    (same pid, the group leader, `${PID}` for cmdStop), so the kernel
 *    SIGKILLs the leader the moment the proxy dies. It reaches that one
 *    process only: a fork clears it, so it cannot stop the children of a
 *    shell wrapper (`sh -c "server & helper; wait"`) or of a server that
 *    forks workers (vLLM, `--fork-grandchild`).
 * 2. So each group has a watchdog: a small `sh`, a child of the proxy in a
 *    session of its own, spawned right after the server, that blocks reading
 *    its stdin, a pipe whose other end only the proxy holds. When the proxy
 *    dies the kernel closes that end, the read returns EOF, and the watchdog
 *    SIGKILLs the server's whole group (`kill -KILL -PGID`) and exits. When
 *    the group is gone (the proxy saw every member end), the proxy writes
 *    "done" (spawn.ts `groupGone`) and the watchdog exits without killing,
 *    so a pgid the kernel hands out again is never signalled; the proxy
 *    reaps it like any child. (A group whose members outlive their leader
 *    is the proxy's to sweep, ./upstream-process.ts.)
 *    Why outside the group, not forked by the server's shell as before: there
 *    it was the server's child, and after the server's exit an orphan zombie
 *    of PID 1, which some inits never reap (this CI container's; modelswap
 *    itself as PID 1 in a container): one zombie left per stop, and
 *    `kill(-pgid, 0)` never saying "gone", so every stop ended in a scan of
 *    /proc (~1.5 ms here) instead (bench/findings.md).
 *    Why for every command and not only for shells: pdeathsig misses any
 *    forked child, and a server binary may fork as surely as a shell does.
 * 3. Without a working setpriv (not util-linux, or too old for --pdeathsig)
 *    the watchdog alone does it; the caller logs that at debug.
 *
 * The gate, for a prepared launch only: the server's argv is preceded by
 * `/bin/sh -c GATE modelswap-gate`, which waits for one line on fd 3, a pipe
 * from the proxy (./spawn.ts `release`), then `exec`s the argv (fd 3 closed),
 * and exits 0 without starting anything if that pipe closes first. Forking a
 * ~100 MB proxy and exec'ing setpriv and sh take a few ms (measured,
 * bench/findings.md), so a swap launches the next server's wrapper (and its
 * watchdog) while the old server is still stopping and releases it once the
 * old group is gone (./upstream-process.ts `prepareLaunch`). A waiting
 * wrapper holds no model and no GPU memory, and dies with the proxy like any
 * upstream.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type LaunchMode = 'setpriv+watchdog' | 'watchdog';

export interface LaunchPlan {
  readonly file: string;
  readonly args: readonly string[];
  readonly mode: LaunchMode;
}

/** POSIX sh (dash, bash, busybox ash). `$0` is GATE_NAME, `$@` the user's argv; fd 3 is the gate. */
export const GATE_SCRIPT = 'read -r _ <&3 || exit 0\nexec "$@" 3<&-';
/** The gate wrapper's `$0`, so that it is recognisable in `ps` while it waits. */
export const GATE_NAME = 'modelswap-gate';
/** POSIX sh. `$1` is the group to kill; stdin is the proxy's pipe: a "done" line ends it quietly, EOF (the proxy died) kills the group. */
export const WATCHDOG_SCRIPT = 'read -r line\n[ "$line" = done ] || kill -KILL "-$1" 2>/dev/null\nexit 0';
/** The watchdog's `$0`, so that it is recognisable in `ps`. */
export const WATCHDOG_NAME = 'modelswap-watchdog';

/** The argv to spawn for the user's `argv` (gated: fd 3 is the gate); `setpriv` is a working setpriv's path, or undefined. */
export function planLaunch(argv: readonly string[], setpriv: string | undefined, gated = false): LaunchPlan {
  const command = gated ? ['/bin/sh', '-c', GATE_SCRIPT, GATE_NAME, ...argv] : argv;
  if (setpriv === undefined) return { file: command[0]!, args: command.slice(1), mode: 'watchdog' };
  return { file: setpriv, args: ['--pdeathsig', 'SIGKILL', '--', ...command], mode: 'setpriv+watchdog' };
}

/** The watchdog of group `pgid` (its stdin must be the proxy's pipe). */
export function planWatchdog(pgid: number): { readonly file: string; readonly args: readonly string[] } {
  return { file: '/bin/sh', args: ['-c', WATCHDOG_SCRIPT, WATCHDOG_NAME, String(pgid)] };
}

export type Resolved = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly code: 'ENOENT' | 'EACCES' };

/**
 * Find `file` the way execvp does: as given when it contains a `/`, otherwise
 * in each PATH entry (an empty entry is the current directory). Done before
 * spawning because the watchdog (and setpriv) would turn "no such command"
 * into an ordinary exit 127 instead of a spawn error naming the command.
 */
export function findExecutable(file: string, pathEnv: string | undefined): Resolved {
  const candidates = file.includes('/') ? [file] : (pathEnv ?? '').split(delimiter).map((dir) => join(dir === '' ? '.' : dir, file));
  let denied = false;
  for (const path of candidates) {
    try {
      if (!statSync(path).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(path, constants.X_OK);
      return { ok: true, path };
    } catch {
      denied = true;
    }
  }
  return { ok: false, code: denied ? 'EACCES' : 'ENOENT' };
}

let setprivFound: { readonly path: string | undefined } | undefined;

/**
 * The path of a setpriv that supports --pdeathsig, looked up (and tried once,
 * synchronously, a few ms) on first use; undefined when there is none.
 */
export function findSetpriv(): string | undefined {
  setprivFound ??= { path: probeSetpriv() };
  return setprivFound.path;
}

function probeSetpriv(): string | undefined {
  const found = findExecutable('setpriv', process.env.PATH);
  if (!found.ok) return undefined;
  const r = spawnSync(found.path, ['--pdeathsig', 'SIGKILL', '--', '/bin/sh', '-c', 'exit 0'], { stdio: 'ignore', timeout: 5000 });
  return r.status === 0 ? found.path : undefined;
}
