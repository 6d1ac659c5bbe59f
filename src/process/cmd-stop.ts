/**
 * Run a model's `cmdStop` (e.g. `docker stop …`, `kill -INT ${PID}`) in place
 * of SIGTERM (step 1 of ./terminate.ts), as llama-swap runs it: argv
 * with every `${PID}` replaced by the group leader's pid, the same environment
 * as the server, no shell.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

/** Replace every literal `${PID}` in every argument. */
export function cmdStopArgv(cmdStop: readonly string[], pid: number): string[] {
  return cmdStop.map((arg) => arg.replaceAll('${PID}', String(pid)));
}

export interface CmdStopResult {
  readonly ok: boolean;
  /** e.g. "exit code 0", "exit code 1", "spawn failed: ENOENT", "signal SIGTERM". */
  readonly detail: string;
}

export interface CmdStopOptions {
  readonly env: Readonly<Record<string, string>>;
  /** Kill the stop command itself (its pid only; it is not a server) after this long. */
  readonly timeoutMs: number;
  readonly onOutput: (text: string) => void;
}

/** SIGKILL for a stop command that outlived its SIGTERM at the timeout by this long. */
const FORCE_KILL_AFTER_MS = 1000;

/** Run the stop command to completion (its exit, not its pipes' close). Never rejects. */
export function runCmdStop(argv: readonly string[], options: CmdStopOptions): Promise<CmdStopResult> {
  const [file, ...args] = argv;
  if (file === undefined || file === '') return Promise.resolve({ ok: false, detail: 'empty cmdStop' });
  return new Promise((resolve) => {
    let sp: ChildProcess;
    try {
      sp = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    } catch (err) {
      resolve({ ok: false, detail: `spawn failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return;
    }
    for (const stream of [sp.stdout, sp.stderr]) { // null after EMFILE: the error event says so
      const decoder = new StringDecoder('utf8');
      stream?.on('data', (chunk: Buffer) => options.onOutput(decoder.write(chunk)));
      stream?.on('error', () => {});
    }
    let timedOut = false;
    let forceKill: NodeJS.Timeout | undefined;
    const timeout = setTimeout(() => {
      timedOut = true;
      sp.kill('SIGTERM');
      forceKill = setTimeout(() => sp.kill('SIGKILL'), FORCE_KILL_AFTER_MS);
    }, Math.min(Math.max(1, options.timeoutMs), 2 ** 31 - 1)); // Node's timer limit
    const done = (r: CmdStopResult): void => {
      clearTimeout(timeout);
      clearTimeout(forceKill);
      resolve(r);
    };
    sp.on('error', (err: NodeJS.ErrnoException) => {
      // a spawn failure; an error after the spawn (a kill refused with EPERM) changes nothing
      if (sp.pid === undefined) done({ ok: false, detail: `spawn failed: ${err.code ?? err.message}` });
    });
    sp.once('exit', (code, signal) => {
      if (code === 0) done({ ok: true, detail: 'exit code 0' });
      else if (code !== null) done({ ok: false, detail: `exit code ${code}` });
      else done({ ok: false, detail: `signal ${signal ?? 'unknown'}${timedOut ? ' (timed out)' : ''}` });
    });
  });
}
