/**
 * The client commands: `modelswap ps|load|unload|logs|top …` against a
 * running modelswap (./args.ts for the flags). Returns the exit code: 0 done,
 * 1 the server could not be reached or refused (the message says why and
 * what to do), 2 bad usage.
 */
import { UsageError } from '../cli-args.ts';
import { CLIENT_HELP, parseClientArgs, type ClientArgs } from './args.ts';
import { ClientError, type Target } from './http.ts';
import { logs } from './logs.ts';
import { load, unload } from './ops.ts';
import { ps } from './ps.ts';
import { top } from './top.ts';

export { isClientCommand } from './args.ts';

function dispatch(a: ClientArgs, target: Target): Promise<number> {
  switch (a.command) {
    case 'ps': return ps(target, a.json);
    case 'load': return load(target, a.model!, a.json);
    case 'unload': return unload(target, a.model, a.json);
    case 'logs': return logs(target, { id: a.model, follow: a.follow, format: a.logFormat });
    case 'top': return top(target, { json: a.json, frames: a.frames });
  }
}

/** `argv` starts with the command name. */
export async function runClient(argv: readonly string[]): Promise<number> {
  let args: ClientArgs;
  try {
    args = parseClientArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`modelswap: ${err.message}\n\n${CLIENT_HELP}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(CLIENT_HELP);
    return 0;
  }
  try {
    return await dispatch(args, { url: args.url, apiKey: process.env.MODELSWAP_API_KEY });
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    process.stderr.write(`modelswap: ${err.message}\n`);
    return 1;
  }
}
