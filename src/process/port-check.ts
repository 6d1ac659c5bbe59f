/**
 * "Port already used by another program" ("modelswap under faults", item 2).
 * Before a spawn, if the port the model's server is about to listen on
 * already accepts TCP connections, the start fails at once: otherwise the
 * health check, and then every request, would silently reach the wrong
 * server.
 *
 * When the check applies (`portToCheck`), so that legit configs are left alone:
 * 1. the proxy URL's host is loopback (localhost, 127.0.0.0/8, [::1]): a
 *    remote host is not ours to start;
 * 2. its port (explicit, or 80/443 by scheme) appears in the cmd argv as a
 *    number of its own (`--port 5800`, `--port=5800`, `-p 5800:8080`, inside
 *    an `sh -c "…"` script): the cmd manages that port. A model whose cmd
 *    never names its proxy port (it wakes or attaches to a server run
 *    elsewhere, typically with `checkEndpoint: none`) is not checked.
 * A false positive needs the port number to appear in the cmd for another
 * reason (say `--ctx-size 8080` with proxy port 8080) while something else
 * listens there.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { connect } from 'node:net';
import type { ModelConfig } from '../config/types.ts';

/** How long a connect attempt may take before the port is assumed free (loopback answers in microseconds). */
const CONNECT_TIMEOUT_MS = 1000;

export interface PortToCheck {
  readonly host: string;
  readonly port: number;
}

/** The loopback host and port to probe before spawning `model`, or undefined when the rule above says not to. */
export function portToCheck(model: Pick<ModelConfig, 'proxy' | 'cmd'>): PortToCheck | undefined {
  let url: URL;
  try {
    url = new URL(model.proxy);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) return undefined; // (1)
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const own = new RegExp(`(?:^|[^0-9])${port}(?:[^0-9]|$)`);
  if (!model.cmd.some((arg) => own.test(arg))) return undefined; // (2)
  return { host, port };
}

/** The port `model`'s cmd is about to listen on, when another program already accepts connections there (and who that is); undefined when it is free or not checked. Never rejects. */
export async function portTaken(model: Pick<ModelConfig, 'proxy' | 'cmd'>, signal: AbortSignal): Promise<{ readonly port: number; readonly who: string } | undefined> {
  const target = portToCheck(model);
  if (target === undefined || !(await acceptsConnections(target, signal))) return undefined;
  return { port: target.port, who: await describeListener(target) };
}

/** Whether something accepts a TCP connection on host:port now. Resolves false on refusal, error, timeout or abort (of `signal`, when given); never rejects. */
export function acceptsConnections(target: PortToCheck, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port, timeout: CONNECT_TIMEOUT_MS });
    const done = (accepted: boolean): void => {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(accepted);
    };
    const onAbort = (): void => done(false);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
    if (signal?.aborted === true) done(false);
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Best effort, for the error message: who listens on the port ("pid 123:
 * node server.js"), from /proc/net/tcp{,6} and /proc/<pid>/fd. Processes of
 * other users are not visible; then it says what it can. Linux only.
 */
export async function describeListener(target: PortToCheck): Promise<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/); // sl local_address rem_address st … inode
      const local = f[1] ?? '';
      if (f[3] === '0A' && parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === target.port && f[9] !== undefined) inodes.add(f[9]);
    }
  }
  const owners: string[] = [];
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  await Promise.all(
    pids.map(async (pid) => {
      for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
        const inode = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))?.[1];
        if (inode === undefined || !inodes.has(inode)) continue;
        const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
        owners.push(`pid ${pid}: ${cmdline.length > 120 ? `${cmdline.slice(0, 117)}...` : cmdline}`);
        return;
      }
    }),
  );
  if (owners.length > 0) return owners.sort().join('; ');
  const where = `it accepts connections on ${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return inodes.size > 0 ? `a process this user cannot inspect; ${where}` : where;
}
