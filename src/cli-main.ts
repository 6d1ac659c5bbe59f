/**
 * `modelswap --config <file> [--listen <host:port>]`.
 * Exit codes: 0 clean shutdown; 1 cannot listen or unexpected failure; 2 bad
 * usage or bad config (the message lists every problem).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './config/load.ts';
import { ConfigReloader } from './config-reloader.ts';
import { setV8HelperPolicy } from './helper-threads.ts';
import { ListenError, startModelswap } from './main.ts';
import { killAllGroupsSync } from './process/kill-group.ts';
import { StateFileInUseError } from './process/reap.ts';
import { defaultStateFilePath } from './process/state-file.ts';

const HELP = `Usage: modelswap --config <file> [--listen <host:port>] [--watch-config] [--state-file <path>]

OpenAI-compatible proxy that starts the inference server a request names,
evicts others to free memory, and unloads idle ones.

Options:
  -c, --config <file>    YAML config (llama-swap compatible)    [required]
  -l, --listen <addr>    host:port to listen on          [127.0.0.1:8080]
  -w, --watch-config     reload the config when the file changes (SIGHUP
                         reloads it too); models whose definition did not
                         change keep running
      --state-file <path>  records live upstreams so that the next start
                         reaps them if modelswap was killed
                         [$XDG_RUNTIME_DIR or tmp dir/modelswap-<hash>.json]
  -v, --version          print the version and exit
  -h, --help             print this help and exit
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--listen expects host:port (e.g. 127.0.0.1:8080 or :8080), got ${JSON.stringify(value)}`);
  }
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

function fail(code: number, message: string): never {
  process.stderr.write(`modelswap: ${message.trimEnd()}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        listen: { type: 'string', short: 'l', default: '127.0.0.1:8080' },
        'state-file': { type: 'string' },
        'watch-config': { type: 'boolean', short: 'w' },
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(2, `${(err as Error).message}\n\n${HELP}`);
  }
  if (args.help === true) {
    process.stdout.write(HELP);
    return;
  }
  if (args.version === true) {
    process.stdout.write(`modelswap ${version()}\n`);
    return;
  }
  if (args.config === undefined) fail(2, `--config is required\n\n${HELP}`);
  let listen;
  try {
    listen = parseListen(args.listen);
  } catch (err) {
    fail(2, (err as Error).message);
  }

  let config;
  try {
    config = await loadConfigFile(args.config);
  } catch (err) {
    if (err instanceof ConfigError) fail(2, err.message);
    throw err;
  }

  process.on('exit', () => killAllGroupsSync());
  let app;
  try {
    const stateFile = args['state-file'] ?? defaultStateFilePath(args.config, `${listen.host}:${listen.port}`);
    app = await startModelswap({ config, host: listen.host, port: listen.port, stateFile });
  } catch (err) {
    if (err instanceof ListenError || err instanceof StateFileInUseError) fail(1, err.message);
    throw err;
  }
  if (!isLoopback(listen.host)) {
    app.logger.warn({ listen: args.listen }, 'listening on a non-loopback address: anyone on the network can use it; set apiKeys or use --listen 127.0.0.1:PORT');
  }

  const running = app;
  // V8's JIT/GC helper threads must not preempt the event loop when they wake (helper-threads.ts).
  void setV8HelperPolicy('batch').then((r) => running.logger.debug(r, r.ok ? 'V8 helper threads under SCHED_BATCH' : 'V8 helper threads keep their scheduling policy'));
  const reloader = new ConfigReloader({ path: args.config, logger: running.logger, apply: (c) => running.reload(c) });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      app.logger.warn({ signal }, 'second signal: stopping now');
      killAllGroupsSync();
      process.exit(1);
    }
    reloader.close();
    app.logger.info({ signal }, 'shutting down (in-flight requests get up to 30 s)');
    app.close(30_000).then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP reloads the config (as in llama-swap). Handling it also keeps Node's
  // default, exiting without cleanup, from orphaning every upstream.
  process.on('SIGHUP', () => {
    running.logger.info('SIGHUP received: reloading the config');
    void reloader.reload();
  });
  if (args['watch-config'] === true) reloader.watch();
}

main().catch((err: unknown) => fail(1, `unexpected failure: ${(err as Error).stack ?? String(err)}`));
