/**
 * Free loopback ports for test upstreams. Ports are picked from 10000–20000,
 * below Linux's ephemeral range (usually 32768–60999): with hundreds of client
 * connections open, a port in that range found free now may be the local port
 * of an outgoing connection by the time a swap starts a server on it, and that
 * bind fails with EADDRINUSE (a 502 for every waiter).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The kernel's ephemeral port range, [low, high]. */
export function ephemeralRange(): readonly [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo !== undefined && hi !== undefined && Number.isInteger(lo) && Number.isInteger(hi)) return [lo, hi];
  } catch {
    // not Linux: assume the IANA range
  }
  return [49152, 65535];
}

/** A start port such that `count` consecutive ports on 127.0.0.1 are free now, all below the ephemeral range. */
export async function freePortRange(count: number): Promise<number> {
  const top = Math.min(20000, ephemeralRange()[0]) - count;
  if (top <= 10000) throw new Error(`no port range below the ephemeral range ${ephemeralRange().join('-')}`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 10000 + Math.floor(Math.random() * (top - 10000));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await canBind(p);
    if (ok) return base;
  }
  throw new Error('no free port range found');
}
