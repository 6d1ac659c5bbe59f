/**
 * How an upstream is launched so that it dies with the proxy even when the
 * proxy itself is SIGKILLed or OOM-killed, when no exit handler runs
 * ("modelswap under faults: nothing orphaned", layers 1 and 2; layer 3, the
 * state file reaped at the next start, is ./state-file.ts and ./reap.ts).
 * Every upstream runs as
 *
 *   [setpriv --pdeathsig SIGKILL --] argv…                    (the server)
 *   /bin/sh -c WATCHDOG modelswap-watchdog                    (the watchdog, one for all)
 *
 * 1. setpriv (util-linux) sets PR_SET_PDEATHSIG and execs the argv unchanged
 *    (same pid, the group leader, `${PID}` for cmdStop), so the kernel
 *    SIGKILLs the leader the moment the proxy dies. It reaches that one
 *    process only: a fork clears it, so it cannot stop the children of a
 *    shell wrapper (`sh -c "server & helper; wait"`) or of a server that
 *    forks workers (vLLM, `--fork-grandchild`).
 * 2. So the groups have a watchdog (./watchdog.ts): a small `sh`, a child of
 *    the proxy in a session of its own, spawned once with the first group,
 *    that reads lines from its stdin, a pipe whose other end only the proxy
 *    holds: `+PGID` when a group is spawned, `-PGID` when the proxy saw
 *    every member of that group end (spawn.ts `groupGone`), so that a pgid
 *    the kernel hands out again is never signalled. When the proxy dies the
 *    kernel closes that end, the read returns EOF, and the watchdog SIGKILLs
 *    every group it still holds (`kill -KILL -PGID`) and exits. (A group
 *    whose members outlive their leader is the proxy's to sweep,
 *    ./upstream-process.ts.)
 *    Why one for all, not one per group as before: forking the ~100 MB proxy
 *    for a group's watchdog took 1–4 ms of its event loop, and of the cores
 *    a loading server needs, at every start and swap (bench/findings.md).
 *    Why outside the groups, not forked by the server's shell as before that:
 *    there it was the server's child, and after the server's exit an orphan
 *    zombie of PID 1, which some inits never reap (this CI container's;
 *    modelswap itself as PID 1 in a container): one zombie left per stop, and
 *    `kill(-pgid, 0)` never saying "gone", so every stop ended in a scan of
 *    /proc (~1.5 ms here) instead (bench/findings.md).
 *    Why for every command and not only for shells: pdeathsig misses any
 *    forked child, and a server binary may fork as surely as a shell does.
 * 3. Without a working setpriv (not util-linux, or too old for --pdeathsig)
 *    the watchdog alone does it; the caller logs that at debug.
 *
 * The gate, for a spare only (./spare-pool.ts): a wrapper spawned ahead of
 * time, `/bin/sh -c GATE modelswap-gate`, that serves whichever model starts
 * next. It waits for one line on fd 3, a pipe from the proxy (./spawn.ts
 * `release`): the model's environment and argv, quoted for sh (`gateLine`).
 * It closes fd 3 and evals the line, which exports the model's environment
 * and `exec`s its argv (same pid, so setpriv's pdeathsig and the group stay);
 * if that pipe closes first, it exits 0 without starting anything. Forking a
 * ~100 MB proxy and exec'ing setpriv and sh take a
 * few ms of the proxy's event loop and of the 2 cores an exiting server
 * needs (measured, bench/findings.md); a spare does them while nothing waits
 * on them. A waiting wrapper holds no model and no GPU memory, and dies with
 * the proxy like any upstream.
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

/** POSIX sh (dash, bash, busybox ash). `$0` is GATE_NAME; fd 3 is the gate, which brings one `gateLine`. */
export const GATE_SCRIPT = 'IFS= read -r line <&3 || exit 0\nexec 3<&-\neval "$line"';
/** The gate wrapper's `$0`, so that it is recognisable in `ps` while it waits. */
export const GATE_NAME = 'modelswap-gate';
/**
 * POSIX sh (dash, bash). Its stdin is the proxy's pipe: a line `+PGID` adds a
 * group, `-PGID` drops one entry of it (a pgid added twice, as when the
 * kernel reuses it before the proxy withdrew the first group, stays held
 * once), anything else is ignored; at EOF (the proxy died) every group still
 * held is SIGKILLed. Builtins only: no fork per line.
 */
export const WATCHDOG_SCRIPT = [
  'set -f', // no globbing of what it holds
  "g=' '",
  'while IFS= read -r l; do',
  '  case $l in',
  '    [+-]*[!0-9]*) ;;', // not a sign and digits only: ignored
  '    +[1-9]*) g="$g${l#+} " ;;',
  "    -[1-9]*) p=${l#-}; case $g in *\" $p \"*) g=${g%% $p *}' '${g#* $p } ;; esac ;;",
  '  esac',
  'done',
  'for p in $g; do kill -KILL "-$p" 2>/dev/null; done',
  'exit 0',
].join('\n');
/** The watchdog's `$0`, so that it is recognisable in `ps`. */
export const WATCHDOG_NAME = 'modelswap-watchdog';

/** The argv to spawn for the user's `argv`; `setpriv` is a working setpriv's path, or undefined. */
export function planLaunch(argv: readonly string[], setpriv: string | undefined): LaunchPlan {
  if (setpriv === undefined) return { file: argv[0]!, args: argv.slice(1), mode: 'watchdog' };
  return { file: setpriv, args: ['--pdeathsig', 'SIGKILL', '--', ...argv], mode: 'setpriv+watchdog' };
}

/** The gate wrapper of a spare (fd 3 is the gate). */
export function planGate(setpriv: string | undefined): LaunchPlan {
  return planLaunch(['/bin/sh', '-c', GATE_SCRIPT, GATE_NAME], setpriv);
}

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `s` as one sh word: single-quoted, with each `'` written as `'\''`. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/**
 * The line a spare's gate evals to become the server: `export NAME='value'`
 * for each of `env` (what the server gets on top of the proxy's own
 * environment, as for a direct spawn), then `exec` the argv. Undefined when
 * the line could not carry them: a newline or NUL anywhere (the gate reads
 * one line), an env name sh cannot export, or a command starting with `-`
 * (an option to bash's `exec`); such a start spawns directly.
 */
export function gateLine(argv: readonly string[], env: Readonly<Record<string, string>>): string | undefined {
  const words = [...argv, ...Object.entries(env).flat()];
  if (argv.length === 0 || argv[0]!.startsWith('-') || words.some((w) => w.includes('\n') || w.includes('\0'))) return undefined;
  const exports: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!SHELL_NAME.test(name)) return undefined;
    exports.push(`export ${name}=${shQuote(value)}; `);
  }
  return `${exports.join('')}exec ${argv.map(shQuote).join(' ')}`;
}

/** The watchdog of every group (its stdin must be the proxy's pipe). */
export function planWatchdog(): { readonly file: string; readonly args: readonly string[] } {
  return { file: '/bin/sh', args: ['-c', WATCHDOG_SCRIPT, WATCHDOG_NAME] };
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
