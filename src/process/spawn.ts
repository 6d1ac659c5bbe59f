/**
 * Spawn one upstream server in its own process group, output streamed (never
 * buffered) to a callback, launched so that it dies with the proxy even if
 * the proxy is SIGKILLed (./launch.ts: setpriv --pdeathsig, which execs the
 * user's argv unchanged, and the watchdog outside the groups).
 *
 * node:child_process `spawn`, not execa: every execa feature a long-running
 * server could use was off here (buffering must be, or the server dies of
 * EPIPE at maxBuffer; its exit cleanup signals the leader only and is a no-op
 * for a detached child, which leads its own group), and importing
 * execa cost the proxy ~6 MB of RSS at idle (bench/findings.md). Options, and why:
 * - `detached: true`: the child leads a new group (pgid === pid), so the
 *   whole tree can be signalled with `kill(-pgid)`; `killAllGroupsSync` is
 *   the exit cleanup.
 * - output is consumed in flowing mode and never buffered (`pump`); once the
 *   server is ready it is read in batches (`batchOutput`, ./read-pacer.ts).
 * - stdio: stdin /dev/null as ever; a spare's gate wrapper has its gate as
 *   fd 3 (./launch.ts, ./spare-pool.ts), closed before the server is exec'd.
 *   The group is announced to the watchdog (./watchdog.ts), a child of ours
 *   spawned once, whose stdin is our pipe.
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
import { findExecutable, findSetpriv, type LaunchMode, type LaunchPlan, planGate, planLaunch } from './launch.ts';
import { ReadPacer } from './read-pacer.ts';
import { unwatchGroup, watchGroup } from './watchdog.ts';

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
   * Open the gate (./launch.ts) with `line` (`gateLine`): the wrapper execs
   * the server. Nothing to do unless spawned by `spawnGate`; later calls do
   * nothing. (Should our end close unopened, as when the proxy dies, the
   * wrapper exits 0, starting nothing.)
   */
  release(line: string): void;
  /** Whether this child (its process and pipes) keeps the event loop alive; true from the spawn. A waiting spare does not. */
  keepAlive(on: boolean): void;
  /**
   * Every member of the group is gone (the caller checked): the watchdog
   * drops it (./watchdog.ts). Idempotent. Until then the watchdog holds it,
   * and kills the group if the proxy dies.
   */
  groupGone(): void;
  /**
   * Read stdout/stderr in batches (true: a short pause after each small read,
   * ./read-pacer.ts) or as they come (false, the default). Turned on once the
   * server is ready, off for its start and stop.
   */
  batchOutput(on: boolean): void;
}

export interface SpawnOptions {
  readonly env: Readonly<Record<string, string>>;
  /** Called with each decoded chunk of stdout and stderr; must be fast and must not throw. */
  readonly onOutput: (text: string) => void;
  /** Path of setpriv, or null not to use it (tests of the fallback); default: found once on PATH. */
  readonly setpriv?: string | null;
}

export function spawnChild(argv: readonly string[], options: SpawnOptions): Child {
  const [file] = argv;
  if (file === undefined || file === '') throw new Error('empty command');
  const env = { ...process.env, ...options.env };
  const found = findExecutable(file, env.PATH);
  if (!found.ok) return notSpawned(file, found.code);
  return launch(planLaunch(argv, setprivOf(options)), env, false, options.onOutput);
}

/**
 * A spare's gate wrapper (./launch.ts): it runs nothing until `release(line)`
 * brings the server's environment and argv, and has the proxy's environment.
 */
export function spawnGate(options: Pick<SpawnOptions, 'onOutput' | 'setpriv'>): Child {
  return launch(planGate(setprivOf(options)), process.env, true, options.onOutput);
}

function setprivOf(options: Pick<SpawnOptions, 'setpriv'>): string | undefined {
  return options.setpriv === null ? undefined : (options.setpriv ?? findSetpriv());
}

function launch(plan: LaunchPlan, env: NodeJS.ProcessEnv, gated: boolean, onOutput: (text: string) => void): Child {
  let sp: ChildProcess;
  try {
    sp = spawn(plan.file, plan.args, {
      detached: true,
      stdio: gated ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'], // fd 3: the gate
      env,
    });
  } catch (err) {
    return failedChild(err as Error); // e.g. ENOMEM from fork, E2BIG, a NUL byte in an argument
  }
  // After EMFILE/ENFILE Node leaves `stdio` unset (not just empty), whatever its type says.
  const [, stdout, stderr, fd3] = (sp.stdio as ChildProcess['stdio'] | undefined) ?? [];
  if (stdout == null || stderr == null || (gated && fd3 == null)) {
    // EMFILE/ENFILE: Node sets up no pipes and reports the error on the next tick.
    return failedChild(new Promise<Error>((resolve) => sp.on('error', resolve)));
  }
  const pgid = sp.pid;
  const unwatched = pgid === undefined ? undefined : watchGroup(pgid);
  if (unwatched !== undefined) {
    // Unprotected, the server could outlive a crashed proxy: do not run it.
    try {
      process.kill(-pgid!, 'SIGKILL');
    } catch {
      // gone already
    }
    for (const stream of [stdout, stderr, fd3]) stream?.destroy(); // unread pipes would hold the event loop open
    return failedChild(unwatched);
  }

  const pacers = [pump(stdout, onOutput), pump(stderr, onOutput)];
  const batchOutput = (on: boolean): void => {
    for (const p of pacers) p.batch(on);
  };
  const gate = fd3 as Writable | undefined;
  gate?.on('error', () => {}); // EPIPE when the wrapper died first: its exit says what matters
  const release = (line: string): void => {
    if (gate !== undefined && !gate.writableEnded && !gate.destroyed) gate.end(`${line}\n`);
  };
  const keepAlive = (on: boolean): void => {
    for (const handle of [sp, stdout, stderr, gate] as ({ ref?: () => void; unref?: () => void } | undefined)[]) {
      if (on) handle?.ref?.();
      else handle?.unref?.();
    }
  };
  let watched = pgid !== undefined;
  const groupGone = (): void => {
    if (watched) unwatchGroup(pgid!); // once: the kernel may have handed the pgid to a later group
    watched = false;
  };

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
  // a gated wrapper's fd 3.
  const closed = Promise.all([stdout, stderr].map((stream) => new Promise<void>((resolve) => {
    stream.once('close', () => resolve());
    void spawned.then((ok) => {
      if (!ok) resolve();
    });
  }))).then(() => {});
  return { pid: sp.pid, spawned, exited, closed, launch: plan.mode, release, keepAlive, groupGone, batchOutput };
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
    keepAlive: () => {},
    groupGone: () => {},
    batchOutput: () => {},
  };
}

/** Consume a stream in flowing mode so a slow log reader never blocks the child; its pacer batches reads on demand. */
function pump(stream: Readable, onOutput: (text: string) => void): ReadPacer {
  const decoder = new StringDecoder('utf8');
  const pacer = new ReadPacer(stream);
  stream.on('data', (chunk: Buffer) => {
    onOutput(decoder.write(chunk));
    pacer.afterRead(chunk.length);
  });
  stream.on('end', () => onOutput(decoder.end()));
  stream.on('error', () => {}); // the exit event reports what matters
  return pacer;
}
