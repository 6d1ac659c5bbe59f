/**
 * How an upstream is launched so that it dies with the proxy even when the
 * proxy itself is SIGKILLed or OOM-killed, when no exit handler runs
 * ("modelswap under faults: nothing orphaned", layers 1 and 2; layer 3, the
 * state file reaped at the next start, is ./state-file.ts and ./reap.ts).
 * Measured in shared/reference/node-stack.md §5. Every upstream runs as
 *
 *   [setpriv --pdeathsig SIGKILL --] /bin/sh -c WATCHDOG modelswap-watchdog argv…
 *
 * 1. setpriv (util-linux) sets PR_SET_PDEATHSIG and execs the rest, so the
 *    kernel SIGKILLs the group leader the moment the proxy dies. It reaches
 *    that one process only: a fork clears it, so it cannot stop the children
 *    of a shell wrapper (`sh -c "server & helper; wait"`) or of a server that
 *    forks workers (vLLM, `--fork-grandchild`).
 * 2. So WATCHDOG forks one watcher subshell that blocks reading fd 3, a pipe
 *    whose other end only the proxy holds, and then `exec`s the user's argv
 *    unchanged: same pid (the group leader, `${PID}` for cmdStop), same argv[0],
 *    stdin /dev/null as before, fd 3 closed, no shell left in between. When
 *    the proxy dies the kernel closes its end, the read returns EOF, and the
 *    watcher SIGKILLs its own process group (`kill -KILL 0`): the whole tree,
 *    itself included. The proxy also closes its end when the leader exits
 *    (./spawn.ts), so a group never outlives its leader and the watcher never
 *    lingers alone. On an ordinary stop the group's SIGTERM ends the watcher
 *    first (it traps nothing; a pending fatal signal wins over the EOF), so
 *    the other members still get their grace period; only after cmdStop (no
 *    SIGTERM) do a wrapper's other members die with their leader at once.
 *    The pipe is fd 3 rather than stdin only so the server's stdin stays the
 *    /dev/null Node opens. The cost is one idle `sh` per upstream.
 *    Why for every command and not only for shells: pdeathsig misses any
 *    forked child, and a server binary may fork as surely as a shell does.
 * 3. Without a working setpriv (not util-linux, or too old for --pdeathsig)
 *    the watchdog alone does it; the caller logs that at debug.
 *
 * The gate: before its `exec`, WATCHDOG waits for one line on fd 4, a second
 * pipe from the proxy (./spawn.ts `release`), and exits 0 without starting
 * anything if that pipe closes first. Forking a ~100 MB proxy and exec'ing
 * setpriv and sh take a few ms (measured, bench/findings.md), so a swap
 * launches the next server's wrapper while the old server is still stopping
 * and releases it once the old group is gone (./upstream-process.ts
 * `prepareLaunch`). A waiting wrapper holds no model and no GPU memory, and
 * dies with the proxy like any upstream. fd 4 is closed before the exec.
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

/** POSIX sh (dash, bash, busybox ash). `$0` is WATCHDOG_NAME, `$@` the user's argv. */
export const WATCHDOG_SCRIPT =
  '{ while read -r _ <&3; do :; done; kill -KILL 0; } </dev/null >/dev/null 2>&1 4<&- &\nread -r _ <&4 || exit 0\nexec "$@" 3<&- 4<&-';
/** The watcher's `$0`, so that it is recognisable in `ps`. */
export const WATCHDOG_NAME = 'modelswap-watchdog';

/** The argv to spawn (with the watchdog's pipe as fd 3 and the gate as fd 4) for the user's `argv`; `setpriv` is a working setpriv's path, or undefined. */
export function planLaunch(argv: readonly string[], setpriv: string | undefined): LaunchPlan {
  const watchdog = ['/bin/sh', '-c', WATCHDOG_SCRIPT, WATCHDOG_NAME, ...argv];
  if (setpriv === undefined) return { file: '/bin/sh', args: watchdog.slice(1), mode: 'watchdog' };
  return { file: setpriv, args: ['--pdeathsig', 'SIGKILL', '--', ...watchdog], mode: 'setpriv+watchdog' };
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
