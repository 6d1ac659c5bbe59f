/**
 * WebSocket (and any HTTP Upgrade) passthrough on `/upstream/<model>/<path>`
 * and `/comfyui/<path>`, as llama-swap serves it for UIs such as ComfyUI's.
 *
 * 1. The model is found as for plain passthrough requests: the active
 *    profile's longest pin prefix, else the longest path prefix naming a
 *    model or alias. The API key is checked first. A peer model's server is
 *    another proxy's: upgrades are not forwarded there (404 saying so).
 * 2. A model with `compat.ignoreWebsockets` is served only while it is ready
 *    (409 otherwise), outside the scheduler: its sockets never start it,
 *    never count as in flight and never keep it from being evicted.
 * 3. Any other model is acquired like a request (it may start, and it stays
 *    in flight, so it is not evicted, until either side closes).
 * 4. The upgrade is sent to the model's server with the client's headers; its
 *    101 answer goes back as it came, then bytes flow both ways untouched. A
 *    server that refuses the upgrade gets its answer relayed, then both close.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { COMFYUI_MODEL } from '../config/model-options.ts';
import type { Config } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import type { Lease } from '../router/grants.ts';
import type { Router } from '../router/router.ts';
import { ApiKeyCheck } from './auth.ts';
import { toOpenAIError } from './openai-error.ts';
import type { ActiveProfile } from './profiles.ts';
import { quote } from './quote.ts';

export interface UpgradeDeps {
  readonly config: () => Config;
  readonly router: Router;
  /** The active profile, shared with the HTTP app (its pins apply to upgrades too); none: no pins. */
  readonly profiles?: ActiveProfile;
}

export interface UpgradeHandler {
  /** The `upgrade` listener of the HTTP server. */
  readonly listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Close every upgraded connection (at shutdown: the HTTP server no longer tracks them). */
  destroyAll(): void;
}

export function createUpgradeHandler(deps: UpgradeDeps): UpgradeHandler {
  let config = deps.config();
  let auth = new ApiKeyCheck(config.apiKeys);
  const open = new Set<Duplex>();
  const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const next = deps.config();
    if (next !== config) {
      config = next;
      auth = new ApiKeyCheck(next.apiKeys);
      deps.profiles?.reset(next);
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    upgrade(deps.router, config, deps.profiles, auth, req, socket, head).catch((err: unknown) => refuse(socket, err));
  };
  return {
    listener,
    destroyAll: () => {
      for (const s of open) s.destroy();
    },
  };
}

async function upgrade(router: Router, config: Config, profiles: ActiveProfile | undefined, auth: ApiKeyCheck, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  // 1.
  if (!auth.allows(req.headers)) throw new ProxyError('UNAUTHORIZED', 'missing or invalid API key');
  const target = upstreamTarget(config, profiles, req.url ?? '/');
  const m = config.models.get(target.model)!;
  let lease: Lease | undefined;
  if (m.ignoreWebsockets) {
    // 2.
    if (router.status(target.model) !== 'ready') {
      throw new ProxyError('WOULD_START_MODEL', `model "${target.model}" is not ready and its websockets never start it (compat.ignoreWebsockets)`);
    }
  } else {
    // 3.
    const ac = new AbortController();
    const onClose = (): void => ac.abort();
    socket.once('close', onClose);
    lease = await router.acquire(target.model, ac.signal).finally(() => socket.off('close', onClose));
  }
  // 4.
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    lease?.release({ status: 101 });
  };
  socket.once('close', release);
  const base = new URL(lease?.upstream ?? m.proxy);
  const up = httpRequest({ host: base.hostname, port: base.port, path: target.path, method: req.method, headers: req.headers, agent: false });
  up.on('upgrade', (answer, upSocket, upHead) => {
    socket.write(statusAndHeaders(answer));
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    upSocket.on('error', () => socket.destroy());
    socket.on('error', () => upSocket.destroy());
    upSocket.once('close', () => socket.destroy());
    socket.once('close', () => upSocket.destroy());
    upSocket.pipe(socket).pipe(upSocket);
  });
  up.on('response', (answer) => {
    // No upgrade: relay the refusal, then close.
    socket.write(statusAndHeaders(answer, true));
    answer.pipe(socket);
  });
  up.on('error', (err) => {
    release();
    refuse(socket, new ProxyError('UPSTREAM_ERROR', `upgrade to model "${target.model}" failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
  });
  up.end();
}

/**
 * The model and the path on its server, from `/upstream/<model>/<path>`: the
 * active profile's longest pin prefix, else the longest model or alias prefix.
 */
function upstreamTarget(config: Config, profiles: ActiveProfile | undefined, url: string): { readonly model: string; readonly path: string } {
  const parsed = new URL(url, 'http://modelswap.invalid');
  if (parsed.pathname.startsWith('/comfyui/') && config.models.has(COMFYUI_MODEL)) {
    return { model: COMFYUI_MODEL, path: `${parsed.pathname.slice('/comfyui'.length)}${parsed.search}` };
  }
  if (parsed.pathname.startsWith('/upstream/')) {
    const segments = parsed.pathname.slice('/upstream/'.length).split('/');
    const nameOf = (n: number): string | undefined => {
      try {
        return segments.slice(0, n).map(decodeURIComponent).join('/');
      } catch {
        return undefined;
      }
    };
    const pinned = profiles?.pinPrefix(segments.length, nameOf);
    for (let n = pinned?.n ?? segments.length - 1; n >= (pinned?.n ?? 1); n--) {
      const name = pinned?.target ?? nameOf(n);
      if (name === undefined) throw new ProxyError('BAD_REQUEST', 'malformed percent-encoding in path');
      const model = config.models.has(name) ? name : config.aliases.get(name);
      if (model !== undefined) return { model, path: `/${segments.slice(n).join('/')}${parsed.search}` };
      if (config.peerModels.has(name)) throw new ProxyError('NOT_FOUND', `${quote(name)} is a peer's model: upgrades are not forwarded to peers`);
    }
  }
  throw new ProxyError('NOT_FOUND', 'upgrades are served on /upstream/<model>/<path> and /comfyui/<path> only');
}

/** The status line and headers of `answer`, as raw HTTP/1.1 text; `close` adds Connection: close. */
function statusAndHeaders(answer: IncomingMessage, close = false): string {
  const lines = [`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}`];
  const raw = answer.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (close && /^(connection|keep-alive|transfer-encoding)$/i.test(raw[i]!)) continue;
    lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  if (close) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Answer an upgrade that will not happen with the usual error JSON, then close. */
function refuse(socket: Duplex, err: unknown): void {
  if (socket.destroyed) return;
  if (err instanceof ProxyError && err.code === 'CLIENT_CLOSED') return void socket.destroy();
  const e = toOpenAIError(err);
  const body = JSON.stringify(e.body);
  const extra = Object.entries(e.headers).map(([k, v]) => `${k}: ${String(v)}\r\n`).join('');
  socket.end(`HTTP/1.1 ${e.status} ${e.status === 401 ? 'Unauthorized' : 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`);
}
