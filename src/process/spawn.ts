/**
 * Spawn one upstream server in its own process group, output streamed (never
 * buffered) to a callback, launched so that it dies with the proxy even if
 * the proxy is SIGKILLed (./launch.ts: setpriv --pdeathsig and the fd-3
 * watchdog, which execs the user's argv unchanged; no shell of ours remains).
 *
 * node:child_process `spawn`, not execa: every execa feature a long-running
 * server could use was off here (buffering must be, or the server dies of
 * EPIPE at maxBuffer; its exit cleanup signals the leader only and is a no-op
 * for a detached child: shared/reference/node-stack.md §5), and importing
 * execa cost the proxy ~6 MB of RSS at idle (bench/findings.md). Options, and why:
 * - `detached: true`: the child leads a new group (pgid === pid), so the
 *   whole tree can be signalled with `kill(-pgid)`; `killAllGroupsSync` is
 *   the exit cleanup.
 * - output is consumed in flowing mode and never buffered (`pump`).
 * - stdio: stdin /dev/null as ever; fd 3 is the watchdog's pipe and fd 4 its
 *   gate (./launch.ts), both closed before the server is exec'd.
 *
 * argv[0] is looked up on PATH first (./launch.ts findExecutable), so a
 * missing command is still a spawn error (ENOENT) naming it.
 *
 * Exit is taken from the `exit` event, not `close`: `close` also waits for
 * stdout/stderr to close, which a forked grandchild holding the pipe can
 * delay forever (llama-swap v219's hang).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
import { findExecutable, findSetpriv, type LaunchMode, planLaunch } from './launch.ts';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (ENOENT, EACCES…). */
  readonly spawnError: Error | undefined;
}

export interface Child {
  /** Leader pid (=== pgid); undefined when the spawn failed. */
  readonly pid: number | undefined;
  /** Resolves true once the OS started the process, false on a spawn error. Never rejects. */
  readonly spawned: Promise<boolean>;
  /** Resolves once the leader has exited and been reaped (or failed to spawn). Never rejects. */
  readonly exited: Promise<ChildExit>;
  /** Resolves once stdout and stderr have closed (a grandchild holding them delays this). Never rejects. */
  readonly closed: Promise<void>;
  /** How it was launched (./launch.ts); undefined when it was not (command not found). */
  readonly launch: LaunchMode | undefined;
  /**
   * Open the gate (./launch.ts): the wrapper execs the server. Done at once
   * unless spawned with `gated`; later calls do nothing. (Should our end close
   * unopened, as when the proxy dies, the wrapper exits 0, starting nothing.)
   */
  release(): void;
}

export interface SpawnOptions {
  readonly env: Readonly<Record<string, string>>;
  /** Called with each decoded chunk of stdout and stderr; must be fast and must not throw. */
  readonly onOutput: (text: string) => void;
  /** Path of setpriv, or null not to use it (tests of the fallback); default: found once on PATH. */
  readonly setpriv?: string | null;
  /** Spawn the wrapper only: the server is exec'd at `release()`. */
  readonly gated?: boolean;
}

export function spawnChild(argv: readonly string[], options: SpawnOptions): Child {
  const [file] = argv;
  if (file === undefined || file === '') throw new Error('empty command');
  const env = { ...process.env, ...options.env };
  const found = findExecutable(file, env.PATH);
  if (!found.ok) return notSpawned(file, found.code);
  const plan = planLaunch(argv, options.setpriv === null ? undefined : (options.setpriv ?? findSetpriv()));
  let sp: ChildProcess;
  try {
    sp = spawn(plan.file, plan.args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], // fd 3: the watchdog's pipe; fd 4: the gate
      env,
    });
  } catch (err) {
    return failedChild(err as Error); // e.g. ENOMEM from fork, E2BIG, a NUL byte in an argument
  }
  // After EMFILE/ENFILE Node leaves `stdio` unset (not just empty), whatever its type says.
  const [, stdout, stderr, fd3, fd4] = (sp.stdio as ChildProcess['stdio'] | undefined) ?? [];
  if (stdout == null || stderr == null || fd3 == null || fd4 == null) {
    // EMFILE/ENFILE: Node sets up no pipes and reports the error on the next tick.
    return failedChild(new Promise<Error>((resolve) => sp.on('error', resolve)));
  }

  pump(stdout, options.onOutput);
  pump(stderr, options.onOutput);
  // Our end of the watchdog's pipe (./launch.ts): never written; closed by
  // our death or, here, by the leader's exit, so a group never outlives its
  // leader (the watcher then SIGKILLs what is left). Resumed so that it
  // notices EOF and is released.
  const watchdog = fd3 as Readable;
  watchdog.on('error', () => {});
  watchdog.resume();
  sp.once('exit', () => watchdog.destroy());
  const gate = fd4 as Writable;
  gate.on('error', () => {}); // EPIPE when the wrapper died first: its exit says what matters
  const release = (): void => {
    if (!gate.writableEnded && !gate.destroyed) gate.end('go\n');
  };
  if (options.gated !== true) release();

  let spawnError: Error | undefined;
  const spawned = new Promise<boolean>((resolve) => {
    sp.once('spawn', () => resolve(true));
    sp.once('error', (err) => {
      spawnError ??= err;
      resolve(false);
    });
  });
  const exited = new Promise<ChildExit>((resolve) => {
    sp.once('exit', (code, signal) => resolve({ code, signal, spawnError: undefined }));
    void spawned.then((ok) => {
      if (!ok) resolve({ code: null, signal: null, spawnError });
    });
  });
  // stdout and stderr, not the process `close` event: that one also waits for
  // the watchdog's fd 3, which the watcher holds until its group ends.
  const closed = Promise.all([stdout, stderr].map((stream) => new Promise<void>((resolve) => {
    stream.once('close', () => resolve());
    void spawned.then((ok) => {
      if (!ok) resolve();
    });
  }))).then(() => {});
  return { pid: sp.pid, spawned, exited, closed, launch: plan.mode, release };
}

/** A Child for a command that was not found: the same shape as Node's spawn error. */
function notSpawned(file: string, code: 'ENOENT' | 'EACCES'): Child {
  return failedChild(Object.assign(new Error(`spawn ${file} ${code}`), { code, syscall: `spawn ${file}`, path: file }));
}

/** A Child that never ran: its `exited` carries the spawn error. */
function failedChild(error: Error | Promise<Error>): Child {
  return {
    pid: undefined,
    spawned: Promise.resolve(false),
    exited: Promise.resolve(error).then((spawnError) => ({ code: null, signal: null, spawnError })),
    closed: Promise.resolve(),
    launch: undefined,
    release: () => {},
  };
}

/** Consume a stream in flowing mode so a slow log reader never blocks the child. */
function pump(stream: Readable | null, onOutput: (text: string) => void): void {
  if (stream === null) return;
  const decoder = new StringDecoder('utf8');
  stream.on('data', (chunk: Buffer) => onOutput(decoder.write(chunk)));
  stream.on('end', () => onOutput(decoder.end()));
  stream.on('error', () => {}); // the exit event reports what matters
}
