/**
 * Run a model's `cmdStop` (e.g. `docker stop …`, `kill -INT ${PID}`) in place
 * of SIGTERM. Like llama-swap `process_command.go` killProcess step 1: argv
 * with every `${PID}` replaced by the group leader's pid, the same environment
 * as the server, no shell.
 */
import { execa } from 'execa';
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

/** Run the stop command to completion. Never rejects. */
export async function runCmdStop(argv: readonly string[], options: CmdStopOptions): Promise<CmdStopResult> {
  const [file, ...args] = argv;
  if (file === undefined || file === '') return { ok: false, detail: 'empty cmdStop' };
  const sp = execa(file, args, {
    buffer: false,
    reject: false,
    stdin: 'ignore',
    extendEnv: false,
    env: { ...process.env, ...options.env },
    timeout: Math.max(1, options.timeoutMs),
    forceKillAfterDelay: 1000,
  });
  for (const stream of [sp.stdout, sp.stderr]) {
    const decoder = new StringDecoder('utf8');
    stream?.on('data', (chunk: Buffer) => options.onOutput(decoder.write(chunk)));
  }
  const r = await sp;
  if (r.exitCode === 0) return { ok: true, detail: 'exit code 0' };
  if (r.exitCode !== undefined) return { ok: false, detail: `exit code ${r.exitCode}` };
  if (r.signal !== undefined) return { ok: false, detail: `signal ${r.signal}${r.timedOut ? ' (timed out)' : ''}` };
  return { ok: false, detail: `spawn failed: ${r.code ?? r.shortMessage}` };
}
