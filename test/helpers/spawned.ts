/**
 * A child process whose output a test waits on, killed by its PID when the
 * test ends: SIGTERM if it still runs, SIGKILL if it has not exited 20 s later
 * (with `group`, the signals go to its whole process group, e.g. npm and the
 * node it starts).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface Spawned {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves once stdout matches `re`; rejects if the process ends first or after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<void>;
}

export function spawnWatched(t: TestContext, command: string, args: readonly string[], opts: SpawnOptions & { group?: boolean } = {}): Spawned {
  const group = opts.group === true;
  const child = spawn(command, args, { ...opts, detached: group, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let closed = false; // stdout and stderr have ended (after 'exit')
  child.once('close', () => (closed = true));
  const pid = child.pid!;
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(group ? -pid : pid, sig);
    } catch {
      // already gone
    }
  };
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  });
  const waitFor = (re: RegExp, ms = 15_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!re.test(out)) return;
        done();
        resolve();
      };
      const onClose = (): void => {
        done();
        reject(new Error(`exited before ${re}:\n${out}\n${err}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${re} within ${ms} ms:\n${out}\n${err}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.off('close', onClose);
      };
      child.stdout!.on('data', check);
      child.once('close', onClose);
      check();
      if (closed && !re.test(out)) onClose();
    });
  return { child, stdout: () => out, stderr: () => err, exited, waitFor };
}

/** The modelswap CLI from source, on this Node. */
export function spawnCli(t: TestContext, args: readonly string[], opts: SpawnOptions = {}): Spawned {
  return spawnWatched(t, process.execPath, [CLI, ...args], opts);
}
