/**
 * `modelswap --config <file> [--config-dir <dir>] [--listen <host:port>] …`
 * (the flags: ./cli-args.ts), or a client command against a running
 * modelswap: `modelswap ps|load|unload|logs|top …` (./client/main.ts).
 * Exit codes: 0 clean shutdown; 1 cannot listen or unexpected failure; 2 bad
 * usage, bad config (the message lists every problem) or unusable TLS files.
 */
import { readFileSync } from 'node:fs';
import { HELP, parseCliArgs, UsageError, type CliArgs } from './cli-args.ts';
import { isClientCommand, runClient } from './client/main.ts';
import { ConfigError, loadConfigSources } from './config/load.ts';
import { ConfigReloader } from './config-reloader.ts';
import { setV8HelperPolicy } from './helper-threads.ts';
import { ActivityStoreError } from './activity/store.ts';
import { ListenError, startModelswap, TlsError } from './main.ts';
import { killAllGroupsSync } from './process/kill-group.ts';
import { StateFileInUseError } from './process/reap.ts';
import { defaultStateFilePath } from './process/state-file.ts';
import { simulateCli } from './simulate/cli.ts';
import { packageVersion } from './version.ts';

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

function fail(code: number, message: string): never {
  process.stderr.write(`modelswap: ${message.trimEnd()}\n`);
  process.exit(code);
}

/** The PEM files of --tls-cert-file and --tls-key-file; exits 2 naming a file that cannot be read. */
function readTls(tls: CliArgs['tls']): { cert: Buffer; key: Buffer } | undefined {
  if (tls === undefined) return undefined;
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      fail(2, `${flag}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  return { cert: read('--tls-cert-file', tls.certFile), key: read('--tls-key-file', tls.keyFile) };
}

/** `auto` is pretty on a terminal; colours only on a terminal that has them (NO_COLOR, FORCE_COLOR respected). */
function stdoutLogFormat(format: CliArgs['logFormat']): { logFormat: 'json' | 'pretty'; logColor: boolean } {
  const tty = process.stdout.isTTY === true;
  const logFormat = format === 'auto' ? (tty ? 'pretty' : 'json') : format;
  return { logFormat, logColor: logFormat === 'pretty' && tty && process.stdout.hasColors() };
}

async function main(): Promise<void> {
  if (process.argv[2] === 'simulate') return void (process.exitCode = simulateCli(process.argv.slice(3)));
  if (isClientCommand(process.argv[2])) {
    // stdout and stderr are synchronous for files, pipes and terminals on POSIX: nothing is lost
    process.exit(await runClient(process.argv.slice(2)));
  }
  let command;
  try {
    command = parseCliArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) fail(2, `${err.message}\n\n${HELP}`);
    throw err;
  }
  if (command.kind === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command.kind === 'version') {
    process.stdout.write(`modelswap ${packageVersion()}\n`);
    return;
  }
  const args = command;
  const { listen } = args;
  const sources = { config: args.config, configDir: args.configDir };
  const tls = readTls(args.tls);

  let config;
  try {
    config = await loadConfigSources(sources);
  } catch (err) {
    if (err instanceof ConfigError) fail(2, err.message);
    throw err;
  }

  process.on('exit', () => killAllGroupsSync());
  // Signals are handled from before start-up: one that arrives while modelswap
  // starts (after it printed 'listening', say) shuts it down cleanly once it has started.
  let shutdown: ((signal: NodeJS.Signals) => void) | undefined;
  let early: NodeJS.Signals | undefined;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shutdown === undefined) {
      early ??= signal;
      return;
    }
    shutdown(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let app;
  try {
    // named after the config (or the folder) and the address, so two instances do not share one
    const stateFile = args.stateFile ?? defaultStateFilePath(args.config ?? args.configDir ?? '', `${listen.host}:${listen.port}`);
    app = await startModelswap({ config, host: listen.host, port: listen.port, stateFile, ...stdoutLogFormat(args.logFormat), ...(tls === undefined ? {} : { tls }) });
  } catch (err) {
    if (err instanceof TlsError || err instanceof ActivityStoreError) fail(2, err.message);
    if (err instanceof ListenError || err instanceof StateFileInUseError) fail(1, err.message);
    throw err;
  }
  if (!isLoopback(listen.host)) {
    app.logger.warn({ listen: args.listenText }, 'listening on a non-loopback address: anyone on the network can use it; set apiKeys or use --listen 127.0.0.1:PORT');
  }

  const running = app;
  // V8's JIT/GC helper threads must not preempt the event loop when they wake (helper-threads.ts).
  void setV8HelperPolicy('batch').then((r) => running.logger.debug(r, r.ok ? 'V8 helper threads under SCHED_BATCH' : 'V8 helper threads keep their scheduling policy'));
  const reloader = new ConfigReloader({ sources, logger: running.logger, apply: (c) => running.reload(c) });
  shutdown = (signal) => {
    signals += 1;
    if (signals > 1) {
      running.logger.warn({ signal }, 'second signal: stopping now');
      killAllGroupsSync();
      process.exit(1);
    }
    reloader.close();
    running.logger.info({ signal }, 'shutting down (in-flight requests get up to 30 s)');
    running.close(30_000).then(
      () => process.exit(0),
      (err: unknown) => {
        running.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  if (early !== undefined) shutdown(early);
  // SIGHUP reloads the config (as in llama-swap). Handling it also keeps Node's
  // default, exiting without cleanup, from orphaning every upstream.
  process.on('SIGHUP', () => {
    running.logger.info('SIGHUP received: reloading the config');
    void reloader.reload();
  });
  if (args.watchConfig) reloader.watch();
}

main().catch((err: unknown) => fail(1, `unexpected failure: ${(err as Error).stack ?? String(err)}`));
