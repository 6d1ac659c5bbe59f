/**
 * Composition root: config → logs → router (processes + scheduler) → HTTP.
 * Used by the CLI and by end-to-end tests (which run it in-process).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { pino, type Logger } from 'pino';
import { Activity } from './activity/activity.ts';
import { DEFAULT_GROUP_ID } from './config/routing.ts';
import type { Config } from './config/types.ts';
import { ProxyError } from './errors.ts';
import { LogHub } from './log/hub.ts';
import { prettyLines } from './log/pretty.ts';
import { pinoTimestamp } from './log/time-format.ts';
import { detectMemory } from './process/memory-probe.ts';
import { footprintWarnings, measureFootprint } from './process/footprint.ts';
import { reapOrphans } from './process/reap.ts';
import { GroupStateFile } from './process/state-file.ts';
import { SparePool } from './process/spare-pool.ts';
import { UpstreamProcess } from './process/upstream-process.ts';
import { setWatchdogLog } from './process/watchdog.ts';
import type { ModelDiff } from './router/reload.ts';
import { Metrics } from './metrics/prometheus.ts';
import { Router, SCHEDULER_TICK_MS } from './router/router.ts';
import { createScheduling } from './scheduler/create.ts';
import { createApp } from './server/app.ts';
import { RecentEvents } from './server/recent-events.ts';
import { httpServerOptions, setupHttpServer } from './server/http-options.ts';
import { LOG_REDACT } from './server/redact.ts';
import { sendError } from './server/openai-error.ts';
import { ActiveProfile } from './server/profiles.ts';
import { createUpgradeHandler } from './server/websocket.ts';
import { startHint } from './server/start-hint.ts';

export interface StartOptions {
  readonly config: Config;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Where stdout-bound log text goes (default process.stdout). */
  readonly stdout?: (text: string) => void;
  /**
   * How the proxy's own log lines reach stdout: `json` (pino's lines, the
   * default) or `pretty` (one readable line each, src/log/pretty.ts;
   * `logColor` adds ANSI colours). The histories `/logs` serves stay JSON lines.
   */
  readonly logFormat?: 'json' | 'pretty';
  readonly logColor?: boolean;
  /** Run hooks.on_startup.preload (default true). */
  readonly preload?: boolean;
  /**
   * The state file of live upstream process groups (src/process/state-file.ts).
   * Groups a killed modelswap left in it are reaped before anything starts;
   * rejects with StateFileInUseError if its owner still runs. Default: none.
   */
  readonly stateFile?: string;
  /**
   * Serve HTTPS with this PEM certificate (chain) and private key instead of
   * plain HTTP. A pair that cannot be used (bad PEM, a key that does not
   * match the certificate) rejects with TlsError before anything starts.
   */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

export interface Modelswap {
  /** `http://host:port` or, with `tls`, `https://host:port`. */
  readonly url: string;
  /** An `https.Server` (which is also an `http.Server`) with `tls`. */
  readonly server: Server;
  readonly router: Router;
  readonly logs: LogHub;
  readonly logger: Logger;
  /**
   * Switch to a new (valid) config without collateral damage (Router.reload);
   * `logToStdout` and the listen address need a restart.
   */
  reload(config: Config): Promise<ModelDiff>;
  /** Graceful stop: stop accepting, fail queued, let in-flight finish up to `deadlineMs`, stop every upstream. Idempotent. */
  close(deadlineMs?: number): Promise<void>;
}

/** One warn line per accepted setting that has no effect (Config.warnings), with its key path and line. */
function logConfigWarnings(logger: Logger, config: Config): void {
  for (const w of config.warnings) logger.warn({ key: w.path, line: w.line }, `config: ${w.path}: ${w.message}`);
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** The TLS certificate or key could not be used (bad PEM, a key that does not match the certificate). */
export class TlsError extends Error {
  override readonly name = 'TlsError';
}

export async function startModelswap(opts: StartOptions): Promise<Modelswap> {
  const { config } = opts;
  if (opts.tls !== undefined) {
    // before anything starts: a TLS pair that cannot be used is a usage error, not a half-started proxy
    try {
      createSecureContext({ cert: opts.tls.cert, key: opts.tls.key });
    } catch (err) {
      throw new TlsError(`cannot use the TLS certificate and key: ${(err as Error).message}`, { cause: err });
    }
  }
  const write = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const color = opts.logColor === true;
  const logs = new LogHub(config.logToStdout, opts.logFormat === 'pretty' ? (t) => write(prettyLines(t, { color })) : write);
  const timestamp = pinoTimestamp(config.logTimeFormat);
  const logger = pino({ level: config.logLevel, base: undefined, redact: LOG_REDACT, ...(timestamp === undefined ? {} : { timestamp }) }, { write: (s: string) => logs.writeProxy(s) });
  let groups: GroupStateFile | undefined;
  if (opts.stateFile !== undefined) {
    await reapOrphans(opts.stateFile, logger); // before anything can spawn (or hold a model's port)
    groups = new GroupStateFile(opts.stateFile, logger);
  }
  // `auto` memory budgets: what the machine has, read once, when a config first uses the memory router.
  let detectedMemory = config.router.use === 'memory' ? await detectMemory() : undefined;
  // Where the current scheduler's router placed each model (the memory router's choice at swap start):
  // replaced with the scheduler, which a reload swaps only while no swap, so no spawn, is under way.
  let deviceFor: (model: string) => string | undefined = () => undefined;
  // One launch wrapper waiting for whichever model starts next, so no start forks the proxy (Linux only).
  setWatchdogLog(logger); // a watchdog that ends or cannot start is worth a warning (process/watchdog.ts)
  const spares = new SparePool({ log: logger, groups });
  spares.fill();
  const router: Router = new Router({
    // Declared memory against what the server really holds once loaded: a wrong declaration is warned about.
    onReady: (model, pid) => {
      const need = current.router.use === 'memory' ? current.router.memory.needs.get(model) : undefined;
      if (need === undefined || pid === undefined) return;
      measureFootprint(pid).then(
        (fp) => {
          for (const w of footprintWarnings(model, need, fp)) logger.warn({ model, rss: fp.rss }, w);
        },
        (err: unknown) => logger.debug({ model, err }, 'could not measure the footprint'),
      );
    },
    config,
    logger,
    createUpstream: (model, onStatus) =>
      new UpstreamProcess(model, {
        logger,
        logs: logs.model(model.id),
        onOutput: (text) => logs.writeUpstream(model.id, text),
        onStatus,
        groups,
        device: () => deviceFor(model.id), // asked at spawn, after the swap placed the model
        spares,
      }),
    createScheduler: (effects, current) => {
      const built = createScheduling(current, {
        effects,
        isKnown: (m) => current.models.has(m),
        concurrencyLimit: (m) => current.models.get(m)?.concurrencyLimit ?? 10,
        log: (msg) => logger.info(msg),
        now: () => performance.now(),
        loadCostMs: (m): number | undefined => router.loadEstimate(m),
        tickMs: SCHEDULER_TICK_MS,
        detectedMemory,
        // called on the run loop, once the router exists
        reloadMs: (m) => router.loadEstimate(m),
      });
      deviceFor = built.deviceFor;
      return built.scheduler;
    },
  });
  let current = config;
  // recording: false -> nothing subscribes for the record: no counters, rows or recent events are kept (and no
  // feed events are built for them); /metrics still reads its gauges from the snapshot.
  const recorded = config.recording ? router : { subscribe: () => ({ snapshot: [], unsubscribe: () => {} }), snapshot: () => router.snapshot() };
  const metrics = new Metrics(recorded);
  let activity: Activity;
  try {
    const activityConfig = config.recording ? config.activity : { ...config.activity, captureBytes: 0 };
    activity = await Activity.open(activityConfig, recorded, (err, rows) => logger.error({ err, rows }, 'activity history: a batch of rows could not be written'));
  } catch (err) {
    await router.destroy(); // a store.path that cannot be used is a start-up error (ActivityStoreError)
    await spares.close();
    throw err;
  }
  const recent = new RecentEvents();
  const unsubscribeRecent = recorded.subscribe(recent.record, RecentEvents.TYPES).unsubscribe;
  // One active profile for plain requests and upgrades alike.
  const profiles = new ActiveProfile(current);
  const app = createApp({ config: () => current, router, logger, logs, metrics, activity, recent, profiles });
  const server: Server = opts.tls === undefined
    ? createServer(httpServerOptions(config.maxBodyBytes), app)
    : createHttpsServer({ ...httpServerOptions(config.maxBodyBytes), cert: opts.tls.cert, key: opts.tls.key }, app);
  setupHttpServer(server);
  const upgrades = createUpgradeHandler({ config: () => current, router, profiles });
  server.on('upgrade', upgrades.listener);
  // `Expect: 100-continue`: refuse an oversized upload before the client sends it.
  server.on('checkContinue', (req, res) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > current.maxBodyBytes) {
      sendError(res, new ProxyError('BODY_TOO_LARGE', `request body exceeds the limit of ${current.maxBodyBytes} bytes (maxBodyBytes)`));
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
    await spares.close();
    const code = (err as { code?: string }).code;
    const where = `${host}:${opts.port ?? 8080}`;
    throw new ListenError(
      code === 'EADDRINUSE'
        ? `cannot listen on ${where}: the address is already in use (another modelswap or program holds it); pick another with --listen`
        : `cannot listen on ${where}: ${(err as Error).message}`,
    );
  }
  const addr = server.address() as AddressInfo;
  const url = `${opts.tls === undefined ? 'http' : 'https'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  logConfigWarnings(logger, config); // before "listening", which tells a watcher start-up is done
  logger.info({ url, models: [...config.models.keys()], scheduler: config.scheduler.use }, `modelswap listening on ${url} — ${startHint(url)}`);
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
      upgrades.destroyAll(); // websockets have no end to wait for: close them now, releasing their models
      await router.close(deadlineMs);
      await spares.close();
      metrics.close();
      activity.close();
      unsubscribeRecent();
      groups?.flush(); // the last removals: a clean shutdown leaves no state file
      server.closeAllConnections();
      await closed;
      logger.info('modelswap stopped');
    })());
  const reload = async (next: Config): Promise<ModelDiff> => {
    if (next.logToStdout !== current.logToStdout) logger.warn('logToStdout changed: it takes effect after a restart');
    if (next.logTimeFormat !== current.logTimeFormat) logger.warn('logTimeFormat changed: it takes effect after a restart');
    if (next.recording !== current.recording) logger.warn('recording changed: it takes effect after a restart');
    if (next.router.use === 'memory') detectedMemory ??= await detectMemory();
    const { sessionHeaders: _n, ...was } = current.activity;
    const { sessionHeaders: _c, ...now } = next.activity;
    if (JSON.stringify(now) !== JSON.stringify(was)) logger.warn('metricsMaxInMemory, captureBuffer or store changed: they take effect after a restart');
    const diff = await router.reload(next);
    current = next;
    logConfigWarnings(logger, next);
    return diff;
  };
  return { url, server, router, logs, logger, reload, close };
}
