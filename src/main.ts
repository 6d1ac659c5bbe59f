/**
 * Composition root: config → logs → router (processes + scheduler) → HTTP.
 * Used by the CLI and by end-to-end tests (which run it in-process).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { DEFAULT_GROUP_ID } from './config/routing.ts';
import type { Config } from './config/types.ts';
import { ProxyError } from './errors.ts';
import { LogHub } from './log/hub.ts';
import { UpstreamProcess } from './process/upstream-process.ts';
import { Router } from './router/router.ts';
import { createScheduler } from './scheduler/create.ts';
import { createApp } from './server/app.ts';
import { sendError } from './server/openai-error.ts';

export interface StartOptions {
  readonly config: Config;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Where stdout-bound log text goes (default process.stdout). */
  readonly stdout?: (text: string) => void;
  /** Run hooks.on_startup.preload (default true). */
  readonly preload?: boolean;
}

export interface Modelswap {
  readonly url: string;
  readonly server: Server;
  readonly router: Router;
  readonly logs: LogHub;
  readonly logger: Logger;
  /** Graceful stop: stop accepting, fail queued, let in-flight finish up to `deadlineMs`, stop every upstream. Idempotent. */
  close(deadlineMs?: number): Promise<void>;
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

export async function startModelswap(opts: StartOptions): Promise<Modelswap> {
  const { config } = opts;
  const logs = new LogHub(config.logToStdout, opts.stdout);
  const logger = pino({ level: config.logLevel, base: undefined }, { write: (s: string) => logs.writeProxy(s) });
  const router = new Router({
    config,
    logger,
    createUpstream: (model) =>
      new UpstreamProcess(model, {
        logger,
        logs: logs.model(model.id),
        onOutput: (text) => logs.writeUpstream(model.id, text),
      }),
    createScheduler: (effects, current) =>
      createScheduler(current.scheduler, current.groups, {
        effects,
        isKnown: (m) => current.models.has(m),
        concurrencyLimit: (m) => current.models.get(m)?.concurrencyLimit ?? 10,
        log: (msg) => logger.info(msg),
      }),
  });
  const app = createApp({ config, router, logger, logs });
  const server = createServer({ keepAliveTimeout: 65_000 }, app);
  // `Expect: 100-continue`: refuse an oversized upload before the client sends it.
  server.on('checkContinue', (req, res) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > config.maxBodyBytes) {
      sendError(res, new ProxyError('BODY_TOO_LARGE', `request body exceeds the limit of ${config.maxBodyBytes} bytes (maxBodyBytes)`));
      return;
    }
    res.writeContinue();
    app(req, res);
  });
  const host = opts.host ?? '127.0.0.1';
  server.listen(opts.port ?? 8080, host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e as Error))]);
  } catch (err) {
    await router.destroy();
    const code = (err as { code?: string }).code;
    const where = `${host}:${opts.port ?? 8080}`;
    throw new ListenError(
      code === 'EADDRINUSE'
        ? `cannot listen on ${where}: the address is already in use (another modelswap or program holds it); pick another with --listen`
        : `cannot listen on ${where}: ${(err as Error).message}`,
    );
  }
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  logger.info({ url, models: [...config.models.keys()], scheduler: config.scheduler.use }, 'modelswap listening');
  const userGroups = config.groups.filter((g) => g.id !== DEFAULT_GROUP_ID).map((g) => g.id);
  if (config.scheduler.use === 'serial' && userGroups.length > 0) {
    logger.warn({ groups: userGroups }, 'the serial scheduler keeps one model loaded at a time and ignores groups; set routing.scheduler.use: fifo to apply them');
  }
  if (opts.preload !== false && config.preload.length > 0) void router.preload(config.preload);

  let closing: Promise<void> | undefined;
  const close = (deadlineMs = 30_000): Promise<void> =>
    (closing ??= (async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await router.close(deadlineMs);
      server.closeAllConnections();
      await closed;
      logger.info('modelswap stopped');
    })());
  return { url, server, router, logs, logger, close };
}
