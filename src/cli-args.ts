/**
 * The command line: modelswap's own flags and llama-swap's, as either spells them.
 *
 * Contract of `parseCliArgs(argv)`:
 * 1. Go-style flags are accepted as llama-swap users type them: `-config x`,
 *    `-config=x`, `--config x`, `--config=x` (and so for every long flag),
 *    and a boolean may be given a Go truth value (`-watch-config=false`).
 * 2. modelswap's short flags (`-c`, `-l`, `-w`, `-v`, `-h`) work as before,
 *    including attached values (`-cfile.yaml`).
 * 3. A flag given twice: the last one wins (so `npm start -- --config x`
 *    overrides the config the start script names).
 * 4. Bad usage (unknown flag, missing value, positional argument, neither
 *    config source, half a TLS pair, bad listen address) throws UsageError;
 *    nothing here reads a file.
 */
import { parseArgs } from 'node:util';

/** Wrong command-line usage: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Listen {
  readonly host: string;
  readonly port: number;
}

export interface CliArgs {
  readonly kind: 'run';
  /** At least one of `config` and `configDir` is set. */
  readonly config: string | undefined;
  readonly configDir: string | undefined;
  readonly listen: Listen;
  /** As given (or the default), for messages. */
  readonly listenText: string;
  /** Both files, or no TLS. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly watchConfig: boolean;
  readonly stateFile: string | undefined;
  /** `auto`: pretty when stdout is a terminal, JSON lines otherwise. */
  readonly logFormat: LogFormat;
}

export type LogFormat = 'auto' | 'pretty' | 'json';
const LOG_FORMATS: readonly LogFormat[] = ['auto', 'pretty', 'json'];

export type CliCommand = CliArgs | { readonly kind: 'help' } | { readonly kind: 'version' };

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  'config-dir': { type: 'string' },
  listen: { type: 'string', short: 'l' },
  'tls-cert-file': { type: 'string' },
  'tls-key-file': { type: 'string' },
  'watch-config': { type: 'boolean', short: 'w' },
  'state-file': { type: 'string' },
  'log-format': { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTIONS;

export const DEFAULT_LISTEN = '127.0.0.1:8080';
export const DEFAULT_TLS_LISTEN = '127.0.0.1:8443';

export const HELP = `Usage: modelswap --config <file> [--config-dir <dir>] [--listen <host:port>]
                 [--watch-config] [--tls-cert-file <file> --tls-key-file <file>]
                 [--state-file <path>] [--log-format auto|pretty|json]
       modelswap ps|load|unload|logs|top [--url <url>] [--json] …

OpenAI-compatible proxy that starts the inference server a request names,
evicts others to free memory, and unloads idle ones.

Options (llama-swap's spelling works too: -config x, -config=x, --config=x):
  -c, --config <file>        YAML config (llama-swap compatible)
      --config-dir <dir>     also merge every *.yml/*.yaml directly in <dir>,
                             in name order (models defined twice are an
                             error); --config, --config-dir or both
  -l, --listen <host:port>   address to listen on
                             [127.0.0.1:8080; 127.0.0.1:8443 with TLS]
      --tls-cert-file <file> serve HTTPS with this PEM certificate (chain)
      --tls-key-file <file>  and this PEM private key (give both or neither)
  -w, --watch-config         reload the config when a file changes (with
                             --config-dir: a file added, removed or changed);
                             SIGHUP reloads it too; models whose definition
                             did not change keep running
      --state-file <path>    records live upstreams so that the next start
                             reaps them if modelswap was killed
                             [$XDG_RUNTIME_DIR or tmp dir/modelswap-<hash>.json]
      --log-format <format>  the proxy's log lines on stdout: pretty (time,
                             level, model, message), json (one JSON object a
                             line), or auto: pretty on a terminal, else json
                             [auto]; /logs always serves JSON lines
  -v, --version              print the version and exit
  -h, --help                 print this help and exit

Client commands (against a running modelswap; --url, MODELSWAP_API_KEY):
  modelswap ps               loaded models: state, pid, in flight, queued,
                             TTL left
  modelswap load <model>     load a model and wait until it is ready
  modelswap unload [<model>] unload one model, or every model
  modelswap logs [-f] [<model>]
                             the log history (-f: then follow it)
  modelswap top              a live view of models, loads and queues
  (modelswap ps --help lists the client commands' options)
`;

const LONG = new Map<string, OptionName>(Object.keys(OPTIONS).map((k) => [k, k as OptionName]));
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Rewrites Go-style flags into the form `node:util` parseArgs reads:
 * - `-name` / `-name=v` for a known long option becomes `--name` / `--name=v`
 *   (anything else with one dash is left alone: `-c`, `-cfile`, `-x`);
 * - a boolean given `=true` (any Go truth spelling) becomes `--name`, one
 *   given `=false` removes the same flag given earlier (last one wins);
 * - the argument after a string option written without `=` is its value and
 *   is never rewritten, nor is anything after `--`.
 * An unknown boolean spelling (`--watch-config=maybe`) is left for parseArgs
 * to refuse.
 */
export function normalizeGoFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--?([a-z][a-z-]+)(?:=(.*))?$/s.exec(arg);
    const name = m === null ? undefined : LONG.get(m[1] as string);
    if (m === null || name === undefined) {
      out.push(arg);
      // a short string option without an attached value takes the next argument
      const short = /^-([a-z])$/.exec(arg)?.[1];
      const opt = Object.values(OPTIONS).find((o) => 'short' in o && o.short === short);
      if (opt?.type === 'string' && i + 1 < argv.length) out.push(argv[++i] as string);
      continue;
    }
    const value = m[2];
    const option = OPTIONS[name];
    if (option.type === 'boolean' && value !== undefined && (GO_TRUE.has(value) || GO_FALSE.has(value))) {
      const spellings = new Set([`--${name}`, ...('short' in option ? [`-${option.short}`] : [])]);
      for (let j = out.length - 1; j >= 0; j--) if (spellings.has(out[j] as string)) out.splice(j, 1);
      if (GO_TRUE.has(value)) out.push(`--${name}`);
      continue;
    }
    out.push(value === undefined ? `--${name}` : `--${name}=${value}`);
    if (option.type === 'string' && value === undefined && i + 1 < argv.length) out.push(argv[++i] as string);
  }
  return out;
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces, as in Go). */
export function parseListen(value: string): Listen {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--listen expects host:port (e.g. 127.0.0.1:8080 or :8080), got ${JSON.stringify(value)}`);
  }
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** Parses `argv` (without node and the script); see the file comment. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  let values;
  try {
    values = parseArgs({ args: normalizeGoFlags(argv), options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const config = nonEmpty(values.config, '--config');
  const configDir = nonEmpty(values['config-dir'], '--config-dir');
  if (config === undefined && configDir === undefined) throw new UsageError('--config or --config-dir is required');
  const certFile = nonEmpty(values['tls-cert-file'], '--tls-cert-file');
  const keyFile = nonEmpty(values['tls-key-file'], '--tls-key-file');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError('--tls-cert-file and --tls-key-file go together: give both for HTTPS, or neither');
  }
  const tls = certFile === undefined || keyFile === undefined ? undefined : { certFile, keyFile };
  const listenText = values.listen ?? (tls === undefined ? DEFAULT_LISTEN : DEFAULT_TLS_LISTEN);
  return {
    kind: 'run',
    config,
    configDir,
    listen: parseListen(listenText),
    listenText,
    tls,
    watchConfig: values['watch-config'] === true,
    stateFile: nonEmpty(values['state-file'], '--state-file'),
    logFormat: logFormat(values['log-format']),
  };
}

function logFormat(value: string | undefined): LogFormat {
  if (value === undefined) return 'auto';
  const found = LOG_FORMATS.find((f) => f === value);
  if (found === undefined) throw new UsageError(`--log-format expects auto, pretty or json, got ${JSON.stringify(value)}`);
  return found;
}

function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value === '') throw new UsageError(`${flag} needs a value, got an empty string`);
  return value;
}
