/**
 * The ProxyErrors a failed start produces. Each names the model and what
 * happened, and quotes the run's last output lines where there are any, so a
 * user can act on the error without opening the logs.
 */
import { ProxyError } from '../errors.ts';
import type { OutputTail } from './output-tail.ts';
import type { ChildExit } from './spawn.ts';

const TAIL_LINES = 10;

export function describeExit(exit: ChildExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** The command could not be run at all (ENOENT, EACCES, …). */
export function spawnFailedError(model: string, command: string | undefined, err: Error): ProxyError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'command not found (ENOENT)'
    : code === 'EACCES' ? 'permission denied (EACCES)'
    : code === 'EMFILE' || code === 'ENFILE' ? `modelswap is out of file descriptors (${code}); raise its limit (ulimit -n)`
    : err.message;
  return new ProxyError('UPSTREAM_START_FAILED', `model "${model}": cannot run "${command}": ${why}`, { cause: err });
}

/** Something else already accepts connections on the port the model's cmd listens on (./port-check.ts). */
export function portInUseError(model: string, port: number, proxy: string, who: string): ProxyError {
  return new ProxyError(
    'UPSTREAM_START_FAILED',
    `port ${port} of model "${model}" is already in use by another program (${who}); ` +
      `stop that program or give the model another port. Nothing was started, so no request reaches the wrong server (proxy: ${proxy})`,
  );
}

/** The leader exited before its health check passed. */
export function exitedDuringStartError(model: string, exit: ChildExit, ms: number, tail: OutputTail): ProxyError {
  return new ProxyError(
    'UPSTREAM_START_FAILED',
    `model "${model}" exited during start (${describeExit(exit)}) after ${ms} ms; ${tail.describe(TAIL_LINES)}`,
  );
}

/** healthCheckTimeout passed without a 200. */
export function healthTimeoutError(model: string, timeoutMs: number, url: string | null, lastAttempt: string | undefined, tail: OutputTail): ProxyError {
  const last = lastAttempt === undefined ? '' : `, last answer: ${lastAttempt}`;
  return new ProxyError(
    'UPSTREAM_NOT_READY',
    `model "${model}": health check timed out after ${timeoutMs / 1000}s (GET ${url}${last}); process killed; ${tail.describe(TAIL_LINES)}`,
  );
}

/** stop() or shutdown() cancelled the start. */
export function abortedStartError(model: string, reason: string): ProxyError {
  if (reason === 'shutdown') return shutDownError(model);
  return new ProxyError('MODEL_UNLOADED', `model "${model}" was stopped (${reason}) while starting`);
}

export function shutDownError(model: string): ProxyError {
  return new ProxyError('SHUTTING_DOWN', `model "${model}" is shutting down`);
}
