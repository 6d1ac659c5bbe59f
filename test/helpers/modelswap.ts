/**
 * Start a real modelswap (in-process HTTP server, real upstream child
 * processes on 127.0.0.1) from YAML text. `${fake}` in the YAML expands to the
 * command that runs the bundled fake llama-server with this Node.
 */
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { startModelswap, type Modelswap } from '../../src/main.ts';
import { freePortRange } from './ports.ts';

export const FAKE_SERVER = fileURLToPath(new URL('../../src/demo/fake-llama-server.ts', import.meta.url));
export const FAKE = `${process.execPath} ${FAKE_SERVER}`;

export interface Started extends Modelswap {
  /** Everything written to "stdout" by the proxy. */
  readonly output: string[];
}

/** YAML may use `${fake}`; startPort is set to a free range unless given. */
export async function startFromYaml(t: TestContext | undefined, yaml: string, opts: { env?: Record<string, string>; preload?: boolean } = {}): Promise<Started> {
  let text = yaml.replaceAll('${fake}', FAKE);
  if (!/^startPort:/m.test(text)) text = `startPort: ${await freePortRange(10)}\n${text}`;
  const config = parseConfig(text, { env: { ...process.env, ...opts.env } });
  const output: string[] = [];
  const app = await startModelswap({ config, host: '127.0.0.1', port: 0, stdout: (s) => void output.push(s), preload: opts.preload });
  t?.after(() => app.close(2000));
  return Object.assign(app, { output });
}

/** POST JSON and return status + parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** Poll until `check` holds (bounded), for states that change outside a request. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
