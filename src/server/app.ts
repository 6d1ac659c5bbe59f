/**
 * The HTTP layer: finds the route and the model, then hands the request to
 * the router and forwards it once granted. No scheduling state lives here.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Activity } from '../activity/activity.ts';
import type { Config } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import type { LogHub } from '../log/hub.ts';
import type { Metrics } from '../metrics/prometheus.ts';
import type { Router } from '../router/router.ts';
import { COMFYUI_MODEL } from '../config/model-options.ts';
import { activityRoute } from './activity-routes.ts';
import { ApiKeyCheck } from './auth.ts';
import { readBody } from './body.ts';
import { trackResponse } from './client-errors.ts';
import { streamEvents } from './events.ts';
import { serve as serveRequest, type ServeOptions } from './serve.ts';
import { InFlightResponses, infoRoute } from './routes-info.ts';
import { logRing, sendLogHistory, streamLog } from './logs.ts';
import { forwardedBody } from './filters.ts';
import { assertCanStart, assertMayStart } from './gates.ts';
import { extractModel, rewriteModel } from './model-extract.ts';
import { listModels, resolveDestination, resolveModel } from './models.ts';
import { dispatch, withQueryModel } from './dispatch.ts';
import { PeerTraffic, peerBody, peerRunning, servePeer } from './peers.ts';
import { ActiveProfile, listProfiles, switchProfile } from './profiles.ts';
import { SelectorPicker } from './selectors.ts';
import { ollamaPs, ollamaTags } from './ollama.ts';
import { sendError, sendJson } from './openai-error.ts';
import { quote } from './quote.ts';
import { redactUrl } from './redact.ts';
import { MODEL_ROUTES, modelRoute } from './routes-model.ts';
import { loadModel, upstreamListing } from './routes-ops.ts';
import type { RecentEvents } from './recent-events.ts';
import { UiFiles } from './ui.ts';
import { uiConfig } from './ui-config.ts';

/** decodeURIComponent that turns malformed escapes into a 400, not a 500. */
function decodePath(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ProxyError('BAD_REQUEST', `malformed percent-encoding in path: ${quote(s)}`);
  }
}

/** The first `n` segments decoded and joined, or undefined when one does not decode (it then names no pin). */
function lenientName(segments: readonly string[], n: number): string | undefined {
  try {
    return segments.slice(0, n).map((s) => decodeURIComponent(s)).join('/');
  } catch {
    return undefined;
  }
}

export { MODEL_ROUTES } from './routes-model.ts';

export interface AppDeps {
  /** The config in force (it changes on reload; read once per request). */
  readonly config: () => Config;
  readonly router: Router;
  readonly logger: Logger;
  readonly logs: LogHub;
  /** Prometheus metrics for GET /metrics; none: 404. */
  readonly metrics?: Metrics;
  /** The activity history (/api/metrics/activity, /api/captures/<id>); none: 404. */
  readonly activity?: Activity;
  /** The feed's recent past for GET /api/events/recent; none: 404. */
  readonly recent?: RecentEvents;
  /** The active profile, shared with the upgrade handler; default: the app's own. */
  readonly profiles?: ActiveProfile;
}

export function createApp(deps: AppDeps): RequestListener {
  const { router, logger, logs } = deps;
  let config = deps.config();
  let auth = new ApiKeyCheck(config.apiKeys);
  const profiles = deps.profiles ?? new ActiveProfile(config);
  let selectors = new SelectorPicker(config);
  const peers = new PeerTraffic();
  /** Pick up a reloaded config (models, aliases, keys, limits); no profile is active after it. */
  const refresh = (): void => {
    const next = deps.config();
    if (next === config) return;
    config = next;
    auth = new ApiKeyCheck(next.apiKeys);
    profiles.reset(next);
    selectors = new SelectorPicker(next);
  };
  const created = Math.floor(Date.now() / 1000);
  const inflight = new InFlightResponses();
  const ui = new UiFiles();

  const serve = (req: IncomingMessage, res: ServerResponse, model: string, path: string, body: Buffer, opts?: ServeOptions): Promise<void> =>
    serveRequest({
      router, logs, timeouts: (m) => config.models.get(m)?.timeouts, recording: config.recording,
      sessionHeaders: config.activity.sessionHeaders, captures: deps.activity?.captures, inflight,
    }, req, res, model, path, body, opts);

  async function inference(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(req, config.maxBodyBytes);
    const ct = req.headers['content-type'];
    const ex = await extractModel(ct, body, { get: (name) => url.searchParams.get(name) });
    // Profile pin, then selector: the request carries the name they give.
    const d = dispatch({ config, profiles, selectors, status: (m) => router.status(m) }, ex.model);
    try {
      const renamed = d.name !== ex.model;
      const named = renamed ? { ...ex, model: d.name } : ex;
      const input = renamed ? rewriteModel(ex, ct, body, d.name) : body;
      if (d.destination.kind === 'peer') {
        const route = d.destination.route;
        const out = peerBody(named, ct, input, config.peers.get(route.peer)!, route);
        return await servePeer(config, peers, req, res, route, withQueryModel(url, route.model === ex.model ? undefined : route.model), out);
      }
      const model = d.destination.model;
      const m = config.models.get(model)!;
      assertCanStart(m);
      const out = forwardedBody(named, ct, input, m);
      // Loading progress goes to streaming chat clients only: other answers have no place for it.
      const chat = url.pathname === '/v1/chat/completions' || url.pathname === '/v/chat/completions' || url.pathname === '/chat/completions';
      const loading = m.sendLoadingState && chat && ex.json?.['stream'] === true ? { asked: ex.model } : undefined;
      await serve(req, res, model, withQueryModel(url, m.useModelName ?? (renamed ? d.name : undefined)), out, { loading });
    } finally {
      d.release();
    }
  }

  /**
   * `/upstream/<model>/<path>`: the active profile's longest pin prefix, else
   * the longest prefix naming a model, alias or peer model, wins (never a
   * selector: a passthrough names one server).
   */
  async function passthrough(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const segments = url.pathname.slice('/upstream/'.length).split('/');
    const pinned = profiles.pinPrefix(segments.length, (n) => lenientName(segments, n));
    for (let n = pinned?.n ?? segments.length; n >= (pinned?.n ?? 1); n--) {
      const name = pinned?.target ?? segments.slice(0, n).map(decodePath).join('/');
      const dest = config.models.has(name) || config.aliases.has(name) || config.peerModels.has(name) ? resolveDestination(config, name) : undefined;
      if (dest === undefined) continue;
      if (n === segments.length) {
        const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 308;
        res.writeHead(status, { location: `${url.pathname}/${url.search}` });
        res.end();
        return;
      }
      const rest = `/${segments.slice(n).join('/')}`;
      if (dest.kind === 'peer') return servePeer(config, peers, req, res, dest.route, `${rest}${url.search}`, await readBody(req, config.maxBodyBytes));
      const model = dest.model;
      assertCanStart(config.models.get(model)!);
      assertMayStart(config, model, rest, () => router.status(model));
      const body = await readBody(req, config.maxBodyBytes);
      // The activity history keeps what a client asks of a model, not a browsed server's pages and polls.
      await serve(req, res, model, `${rest}${url.search}`, body, { record: req.method !== 'GET' && req.method !== 'HEAD' });
      return;
    }
    throw new ProxyError('MODEL_NOT_FOUND', `no configured model or alias matches ${quote(url.pathname)}`);
  }

  /**
   * `/comfyui/<path>`: passthrough to the model `comfyui_auto`. Only the page
   * itself (`/comfyui/`) may start it; its other paths (assets, polling) get
   * 409 while it is not ready, so an open tab never swaps models.
   */
  async function comfyui(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (url.pathname === '/comfyui') {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 301 : 308, { location: `/comfyui/${url.search}` });
      res.end();
      return;
    }
    if (!config.models.has(COMFYUI_MODEL)) throw new ProxyError('MODEL_NOT_FOUND', `/comfyui/ serves the model "${COMFYUI_MODEL}", which is not configured`);
    const rest = url.pathname.slice('/comfyui'.length);
    if (rest !== '/' && router.status(COMFYUI_MODEL) !== 'ready') {
      throw new ProxyError('WOULD_START_MODEL', `model "${COMFYUI_MODEL}" is not ready and only /comfyui/ itself starts it`);
    }
    const body = await readBody(req, config.maxBodyBytes);
    await serve(req, res, COMFYUI_MODEL, `${rest}${url.search}`, body);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    refresh();
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://modelswap.invalid'); // normalizes `..` segments
    } catch {
      throw new ProxyError('BAD_REQUEST', 'malformed request URL');
    }
    const path = url.pathname;
    if (method === 'OPTIONS') return preflight(req, res);
    if ((path === '/health' || path === '/wol-health') && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    // The web UI's files are open (they hold no data); its API calls carry the key.
    if ((method === 'GET' || method === 'HEAD') && ui.serve(path, method === 'HEAD', res)) return;
    const metricsRoute = path === '/metrics' && (method === 'GET' || method === 'HEAD') && deps.metrics !== undefined;
    if (!(metricsRoute && config.publicMetrics) && !auth.allows(req.headers)) throw new ProxyError('UNAUTHORIZED', 'missing or invalid API key');
    if (metricsRoute) {
      const { contentType, body } = await deps.metrics!.text();
      res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    if (infoRoute(method, path, res, inflight)) return;
    const routed = modelRoute(method, url);
    if (routed !== undefined) return inference(req, res, routed);
    if (path.startsWith('/upstream/')) return passthrough(req, res, url);
    if (path === '/comfyui' || path.startsWith('/comfyui/')) return comfyui(req, res, url);
    if (method === 'GET' || method === 'HEAD') {
      if (path === '/v1/models' || path === '/models') {
        const origin = req.headers.origin;
        if (origin !== undefined) res.setHeader('access-control-allow-origin', origin);
        return sendJson(res, 200, listModels(config, (m) => router.status(m), created, profiles.active));
      }
      if (path === '/running') return sendJson(res, 200, { running: [...router.running(), ...peerRunning(config, peers)] });
      if (path === '/api/profiles') return sendJson(res, 200, listProfiles(config, profiles));
      if (path === '/api/events') {
        const only = url.searchParams.get('model');
        const model = only === null || only === '' ? undefined : resolveModel(config, only);
        return streamEvents(req, res, router, logs, { model, logs: url.searchParams.get('logs') !== 'none' });
      }
      if (path === '/api/events/recent' && deps.recent !== undefined) {
        const since = Number(url.searchParams.get('since') ?? 0);
        return sendJson(res, 200, { at: Date.now(), events: deps.recent.since(Number.isFinite(since) ? since : 0), snapshot: router.snapshot() });
      }
      if (path === '/api/ui/config') return sendJson(res, 200, uiConfig(config));
      if (path === '/upstream') return sendJson(res, 200, upstreamListing(config, (m) => router.status(m)));
      if (path === '/api/tags') return sendJson(res, 200, ollamaTags(config, (m) => router.status(m), created));
      if (path === '/api/ps') {
        const now = Date.now();
        return sendJson(res, 200, ollamaPs(router.running(now), (m) => router.lastUsed(m), now));
      }
      if (path === '/unload' && method === 'GET') {
        await router.unload();
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('OK');
        return;
      }
      if (path === '/logs') return sendLogHistory(res, logs.combined);
      if (deps.activity !== undefined && (await activityRoute(deps.activity, res, path, url.searchParams))) return;
      if (path === '/logs/stream' || path.startsWith('/logs/stream/')) {
        const id = decodePath(path.slice('/logs/stream'.length).replace(/^\//, ''));
        return streamLog(res, logRing(logs, config, id), !url.searchParams.has('no-history'));
      }
      // One history without following it (`modelswap logs <model>`): proxy, upstream or a model.
      if (path.startsWith('/logs/')) return sendLogHistory(res, logRing(logs, config, decodePath(path.slice('/logs/'.length))));
    }
    if (method === 'PUT' && path === '/api/profiles/active') return switchProfile(req, res, profiles, config.maxBodyBytes);
    if (method === 'POST' && path === '/api/models/unload') {
      await router.unload();
      return sendJson(res, 200, { msg: 'ok' });
    }
    if (method === 'POST' && path.startsWith('/api/models/load/')) {
      const model = resolveModel(config, decodePath(path.slice('/api/models/load/'.length)));
      return loadModel(router, res, model);
    }
    if (method === 'POST' && path.startsWith('/api/models/unload/')) {
      const model = resolveModel(config, decodePath(path.slice('/api/models/unload/'.length)));
      await router.unload([model]);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    if (MODEL_ROUTES.has(path)) throw new ProxyError('NOT_FOUND', `no route for ${method} ${quote(path)}: this path takes POST`);
    throw new ProxyError('NOT_FOUND', `no route for ${method} ${quote(path)}`);
  }

  return (req, res) => {
    trackResponse(req, res);
    // Access log: no headers (keys!), and credential-looking query values redacted (redact.ts).
    // Built only when it will be written: this runs for every request.
    if (logger.isLevelEnabled('debug')) {
      const started = performance.now();
      res.once('finish', () => {
        logger.debug({ method: req.method, url: redactUrl(req.url ?? ''), status: res.statusCode, ms: +(performance.now() - started).toFixed(2) }, 'request');
      });
    }
    route(req, res).catch((err: unknown) => {
      if (err instanceof ProxyError && err.code === 'CLIENT_CLOSED') {
        res.destroy();
        return;
      }
      if (!(err instanceof ProxyError)) logger.error({ err }, 'unexpected error handling request');
      sendError(res, err, req.headers['x-requested-with'] === undefined);
    });
  };
}

/** CORS preflight: any origin, common methods, requested headers echoed (token characters only). */
function preflight(req: IncomingMessage, res: ServerResponse): void {
  const requested = String(req.headers['access-control-request-headers'] ?? '');
  const safe = requested.split(',').map((h) => h.trim()).filter((h) => /^[A-Za-z0-9-]+$/.test(h)).join(', ');
  res.writeHead(204, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
    ...(safe !== '' ? { 'access-control-allow-headers': safe } : {}),
    'access-control-max-age': '86400',
  });
  res.end();
}
