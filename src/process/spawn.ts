/**
 * Spawn one upstream server: no shell, its own process group, output streamed
 * (never buffered) to a callback.
 *
 * execa options, and why (shared/reference/node-stack.md §5):
 * - `buffer: false` is mandatory: with buffering execa closes the pipe at
 *   maxBuffer and the server dies of EPIPE.
 * - `detached: true`: the child leads a new group (pgid === pid), so the
 *   whole tree can be signalled with `kill(-pgid)`.
 * - `cleanup: false`: execa's exit cleanup signals the leader only (and is a
 *   no-op when detached); `killAllGroupsSync` does it properly.
 * - `reject: false`: a non-zero exit is an ordinary outcome here.
 *
 * Exit is taken from the ChildProcess `exit` event, not from execa's promise:
 * that promise also waits for stdout/stderr to close, which a forked
 * grandchild holding the pipe can delay forever (llama-swap v219's hang).
 */
import { execa } from 'execa';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

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
  /** Resolves once stdout and stderr have closed too (a grandchild holding them delays this). Never rejects. */
  readonly closed: Promise<void>;
}

export interface SpawnOptions {
  readonly env: Readonly<Record<string, string>>;
  /** Called with each decoded chunk of stdout and stderr; must be fast and must not throw. */
  readonly onOutput: (text: string) => void;
}

export function spawnChild(argv: readonly string[], options: SpawnOptions): Child {
  const [file, ...args] = argv;
  if (file === undefined || file === '') throw new Error('empty command');
  const sp = execa(file, args, {
    buffer: false,
    detached: true,
    cleanup: false,
    reject: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    extendEnv: false,
    env: { ...process.env, ...options.env },
  });
  // execa's own promise never rejects with reject:false; this is belt and braces.
  sp.catch(() => {});

  pump(sp.stdout, options.onOutput);
  pump(sp.stderr, options.onOutput);

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
  const closed = new Promise<void>((resolve) => {
    sp.once('close', () => resolve());
    void spawned.then((ok) => {
      if (!ok) resolve();
    });
  });
  return { pid: sp.pid, spawned, exited, closed };
}

/** Consume a stream in flowing mode so a slow log reader never blocks the child. */
function pump(stream: Readable | null, onOutput: (text: string) => void): void {
  if (stream === null) return;
  const decoder = new StringDecoder('utf8');
  stream.on('data', (chunk: Buffer) => onOutput(decoder.write(chunk)));
  stream.on('end', () => onOutput(decoder.end()));
  stream.on('error', () => {}); // the exit event reports what matters
}
