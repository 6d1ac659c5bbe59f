/**
 * The floor of scenario 1: the least a Node HTTP reverse proxy can do.
 * node:http in, node:http out through a keep-alive agent, headers and body
 * piped unchanged: no model lookup, no body parsing, no scheduling, no logs.
 * Measured in the same rounds as modelswap, it shows what any proxy built on
 * Node's HTTP stack costs on this machine (bench/findings.md).
 *
 *   node bench/lib/bare-proxy.ts PORT UPSTREAM_ORIGIN
 */
import { Agent, createServer, request } from 'node:http';

const [port, upstream] = [Number(process.argv[2]), new URL(process.argv[3] ?? '')];
const agent = new Agent({ keepAlive: true });
createServer((req, res) => {
  const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent }, (ur) => {
    res.writeHead(ur.statusCode ?? 502, ur.headers);
    ur.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
}).listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
