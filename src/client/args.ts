/**
 * The client commands' command line: `modelswap <command> [options] [<model>]`.
 * Every command takes `--url` (default `$MODELSWAP_URL`, else modelswap's
 * default listen address) and `--json`; the API key comes only from
 * `MODELSWAP_API_KEY`, never from a flag (a flag shows in `ps` listings).
 * Bad usage throws UsageError (exit 2).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_LISTEN, UsageError } from '../cli-args.ts';

export const COMMANDS = ['ps', 'load', 'unload', 'logs', 'top'] as const;
export type ClientCommandName = (typeof COMMANDS)[number];

export interface ClientArgs {
  readonly command: ClientCommandName;
  /** Without a trailing slash. */
  readonly url: string;
  readonly json: boolean;
  /** load (required), unload, logs (optional). */
  readonly model: string | undefined;
  /** logs: follow new lines after the history. */
  readonly follow: boolean;
  /** logs: how to print the proxy's JSON records (auto: pretty on a terminal). */
  readonly logFormat: 'auto' | 'pretty' | 'json';
  /** top: stop after this many frames (--once is 1); undefined runs until SIGINT. */
  readonly frames: number | undefined;
  readonly help: boolean;
}

export const CLIENT_HELP = `Usage: modelswap ps [--json]
       modelswap load <model> [--json]
       modelswap unload [<model>] [--json]
       modelswap logs [-f] [<model>|proxy|upstream] [--log-format auto|pretty|json]
       modelswap top [--once | --frames <n>] [--json]

Talk to a running modelswap:
  ps        loaded models: state, pid, requests in flight and queued, TTL left
  load      load a model (evicting others as a request would) and wait until
            it is ready
  unload    stop one model, or every model
  logs      the log history (the proxy's and every model's, or one of them);
            -f, --follow keeps printing new lines until Ctrl-C
  top       a live table of models, loads (elapsed / estimate) and queues,
            redrawn on every event until Ctrl-C; when stdout is not a
            terminal each frame is printed after the previous one

Options:
      --url <url>            the modelswap to talk to
                             [$MODELSWAP_URL or http://${DEFAULT_LISTEN}]
      --json                 machine-readable output (top: one event a line)
  -f, --follow               logs: follow new lines
      --log-format <format>  logs: pretty, json (as served), auto: pretty on a
                             terminal [auto]
      --once                 top: print one frame and exit
      --frames <n>           top: exit after n frames
  -h, --help                 print this help

The API key (when the server sets apiKeys) is read from MODELSWAP_API_KEY.
`;

const OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  'log-format': { type: 'string' },
  once: { type: 'boolean' },
  frames: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function isClientCommand(word: string | undefined): word is ClientCommandName {
  return COMMANDS.some((c) => c === word);
}

/** `host:port` alone means http://host:port. */
export function normalizeUrl(text: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--url expects a URL such as http://127.0.0.1:8080, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http or https, got ${JSON.stringify(text)}`);
  return url.href.replace(/\/+$/, '');
}

/** `argv` starts with the command name. */
export function parseClientArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ClientArgs {
  const [command, ...rest] = argv;
  if (!isClientCommand(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const { values: v, positionals } = parsed;
  const maxPositionals = command === 'ps' || command === 'top' ? 0 : 1;
  if (positionals.length > maxPositionals) throw new UsageError(`modelswap ${command} takes ${maxPositionals === 0 ? 'no model' : 'at most one model'}, got ${positionals.join(' ')}`);
  if (command === 'load' && positionals.length === 0 && v.help !== true) throw new UsageError('modelswap load needs a model: modelswap load <model>');
  const only = (flag: string, on: boolean, cmd: ClientCommandName): void => {
    if (on && command !== cmd) throw new UsageError(`${flag} is an option of modelswap ${cmd}`);
  };
  only('--follow', v.follow === true, 'logs');
  only('--log-format', v['log-format'] !== undefined, 'logs');
  only('--once', v.once === true, 'top');
  only('--frames', v.frames !== undefined, 'top');
  return {
    command,
    url: normalizeUrl(v.url ?? (env.MODELSWAP_URL || `http://${DEFAULT_LISTEN}`)),
    json: v.json === true,
    model: positionals[0],
    follow: v.follow === true,
    logFormat: logFormat(v['log-format'], v.json === true),
    frames: frames(v.once === true, v.frames),
    help: v.help === true,
  };
}

function logFormat(value: string | undefined, json: boolean): ClientArgs['logFormat'] {
  if (value === undefined) return json ? 'json' : 'auto';
  if (value === 'auto' || value === 'pretty' || value === 'json') return value;
  throw new UsageError(`--log-format expects auto, pretty or json, got ${JSON.stringify(value)}`);
}

function frames(once: boolean, value: string | undefined): number | undefined {
  if (once && value !== undefined) throw new UsageError('--once and --frames go alone: --once is --frames 1');
  if (once) return 1;
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--frames expects a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}
