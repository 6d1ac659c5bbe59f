/**
 * Processes of a benchmark run: the modelswap CLI under test (a real child
 * process, as users run it), the load-generator process, a bare upstream for
 * measuring its own readiness, and /proc readings of CPU time and memory.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { request } from 'undici';
import { freePortRange } from '../../test/helpers/ports.ts';
import type { Job, JobResult } from './client.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = process.execPath;
export const FAKE_SERVER = join(ROOT, 'src/demo/fake-llama-server.ts');
/** What `npm install` gives users as the `modelswap` bin: the build of src/ (buildCli). */
export const CLI = join(ROOT, 'dist/cli.js');
const CLIENT = join(ROOT, 'bench/lib/client-process.ts');

/** Run one job in a fresh load-generator process. */
export async function runInClient<R extends JobResult>(job: Job): Promise<R> {
  const r = await execa(NODE, [CLIENT], { input: JSON.stringify(job), reject: false, maxBuffer: 256 * 1024 * 1024 });
  if (r.exitCode !== 0) throw new Error(`load generator failed (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as R;
}

/** A load-generator process that stays up and runs one job at a time (client-process.ts `--serve`). */
export interface ClientWorker {
  /** Run `job` once the jobs sent before it are done. */
  run<R extends JobResult>(job: Job): Promise<R>;
  /** End it (its stdin closes) and wait for its exit. Never rejects. */
  close(): Promise<void>;
}

/**
 * A warm load generator: a runner's streams taking turns with other
 * runners' each go through the same process, so that no measured stream pays
 * for a fresh process's first request (bench/findings.md, "What taking turns
 * did to time to first byte").
 */
export function startClientWorker(): ClientWorker {
  const child = execa(NODE, [CLIENT, '--serve'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false });
  const waiting: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  let stderr = '';
  let ended: Error | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => void (stderr = (stderr + s).slice(-4000)));
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => waiting.shift()?.resolve(line));
  const exited = child.then((r) => {
    ended = new Error(`load generator ended (exit ${r.exitCode}): ${stderr.slice(-2000)}`);
    for (const w of waiting.splice(0)) w.reject(ended);
  });
  return {
    run: async <R extends JobResult>(job: Job): Promise<R> => {
      if (ended !== undefined) throw ended;
      const line = new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));
      child.stdin.write(`${JSON.stringify(job)}\n`);
      return JSON.parse(await line) as R;
    },
    close: async (): Promise<void> => {
      child.stdin.end();
      await exited;
    },
  };
}

const CLK_TCK = 100; // Linux USER_HZ, what /proc/<pid>/stat counts in

export interface ProcReading {
  /** user + system CPU time so far. */
  readonly cpuMs: number;
  readonly rssMb: number;
  /** Peak RSS of the process's life. */
  readonly hwmMb: number;
}

export function readProc(pid: number): ProcReading {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // fields 14 and 15 of stat(5)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { cpuMs, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/**
 * CPU time of every thread of `pid` so far, in µs, from each thread's
 * schedstat (nanoseconds: finer than stat's 10 ms ticks, which at tens of
 * requests a second would be a tick per request), and the main thread's
 * context switches (its wake-ups). A thread that ended is no longer counted.
 */
export function readThreads(pid: number): { readonly cpuUs: number; readonly switches: number } {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const n = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { cpuUs: ns / 1000, switches: n('voluntary_ctxt_switches') + n('nonvoluntary_ctxt_switches') };
}

/**
 * Build dist/ from this tree (`npm run build`: tsc, tsconfig.build.json), so
 * that the benchmark measures the program users run. Started as
 * `node src/cli.ts`, Node strips the types of every module with its built-in
 * TypeScript transformer, which costs ~30 MB of RSS at idle (measured,
 * bench/findings.md): a cost of running from source, not of modelswap.
 */
export async function buildCli(): Promise<void> {
  const r = await execa(NODE, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`npm run build failed (exit ${r.exitCode}): ${String(r.all).slice(-2000)}`);
}

/** Call `onLine` with every complete line `stream` prints (decoded as UTF-8). */
export function onLines(stream: Readable, onLine: (line: string) => void): void {
  let tail = '';
  stream.setEncoding('utf8');
  stream.on('data', (s: string) => {
    const lines = (tail + s).split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}

export interface Proxy {
  readonly pid: number;
  readonly origin: string;
  /** Parsed JSON log lines the proxy printed so far. */
  readonly logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Start `modelswap --config <yaml>` on `port` and wait until it answers /health. */
export interface ProxyOptions {
  /** Extra Node flags (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Another modelswap entry point (e.g. a checkout of an older commit, for A/B runs). */
  readonly cli?: string;
}

export async function startProxy(yaml: string, port: number, opts: ProxyOptions = {}): Promise<Proxy> {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-bench-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, yaml);
  const child = execa(NODE, [...(opts.nodeArgs ?? []), opts.cli ?? CLI, '--config', config, '--listen', `127.0.0.1:${port}`, '--state-file', join(dir, 'state.json')], {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    cleanup: true,
  });
  const logs: Record<string, unknown>[] = [];
  onLines(child.stdout, (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => void (stderr += s));
  const origin = `http://127.0.0.1:${port}`;
  const exited = child.then(() => undefined);
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`modelswap exited (${child.exitCode}): ${stderr}`);
    try {
      const r = await request(`${origin}/health`);
      await r.body.dump();
      if (r.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 400) throw new Error(`modelswap did not answer /health within 20 s: ${stderr}`);
    await sleep(50);
  }
  return {
    pid: child.pid!,
    origin,
    logs,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000, undefined, { ref: false })]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A modelswap with one model `model` (`argv` with its port) under fifo (or
 * `opts.scheduler`), the model loaded; `direct` is the same upstream without
 * the proxy. Used by the hot-path scenarios: the serial scheduler serves one
 * request at a time by design, and llama-swap's default of 10 admitted
 * requests per model would answer concurrency 32 and 64 with 429s.
 */
export async function startLoadedProxy(
  model: string,
  argv: (port: number) => readonly string[],
  firstRequest: Record<string, unknown>,
  opts: ProxyOptions & { readonly scheduler?: 'fifo' | 'serial'; readonly recording?: boolean } = {},
): Promise<{ proxy: Proxy; direct: string }> {
  const base = await freePortRange(2);
  const upstream = base + 1;
  // Written only when asked: a build older than the key (an A/B run) would reject it.
  const yaml = `healthCheckTimeout: 120
${opts.recording === undefined ? '' : `recording: ${opts.recording}\n`}routing:
  scheduler:
    use: ${opts.scheduler ?? 'fifo'}
models:
  ${model}:
    cmd: ${argv(upstream).join(' ')}
    proxy: http://127.0.0.1:${upstream}
    concurrencyLimit: 5000
`;
  const proxy = await startProxy(yaml, base, opts);
  try {
    await post(proxy.origin, '/v1/chat/completions', firstRequest);
  } catch (err) {
    await proxy.stop();
    throw err;
  }
  return { proxy, direct: `http://127.0.0.1:${upstream}` };
}

/** The fake llama-server command line, as a config `cmd` and as argv. */
export function fakeArgv(port: number | '${PORT}', model: string, extra: readonly string[] = []): string[] {
  return [NODE, FAKE_SERVER, '--port', String(port), '--model-id', model, ...extra];
}

export interface Spawned {
  readonly child: ResultPromise;
  readonly spawnedAt: number;
}

/** Spawn an upstream directly (no proxy), in its own process group. */
export function spawnDirect(argv: readonly string[]): Spawned {
  const spawnedAt = performance.now();
  const child = execa(argv[0]!, argv.slice(1), { reject: false, buffer: false, stdio: 'ignore', detached: true, cleanup: true });
  return { child, spawnedAt };
}

/** Poll `url` every millisecond until it answers 200; the time since `since`. */
export async function pollUntilHealthy(url: string, since: number, timeoutMs = 60_000): Promise<number> {
  for (;;) {
    try {
      const r = await request(url, { reset: true });
      await r.body.dump();
      if (r.statusCode === 200) return performance.now() - since;
    } catch {
      // refused: not bound yet
    }
    if (performance.now() - since > timeoutMs) throw new Error(`${url} not healthy within ${timeoutMs} ms`);
    await sleep(1);
  }
}

/** SIGTERM the group and wait for the leader's exit; the time it took. */
export async function stopDirect(s: Spawned): Promise<number> {
  const t0 = performance.now();
  process.kill(-s.child.pid!, 'SIGTERM');
  await s.child;
  return performance.now() - t0;
}

/** GET a JSON document from the proxy. */
export async function getJson(origin: string, path: string): Promise<unknown> {
  const r = await request(`${origin}${path}`);
  return r.body.json();
}

/** POST to the proxy and read the whole answer; throws on a non-2xx. */
export async function post(origin: string, path: string, body: unknown): Promise<string> {
  const r = await request(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.body.text();
  if (r.statusCode >= 300) throw new Error(`POST ${path}: HTTP ${r.statusCode} ${text.slice(0, 300)}`);
  return text;
}

/** bench/lib/bare-proxy.ts on `port` in front of `upstream`, once it listens; stop() ends it. */
export async function startBareProxy(port: number, upstream: string): Promise<{ readonly origin: string; readonly pid: number; stop(): Promise<void> }> {
  const child = execa(NODE, [join(ROOT, 'bench/lib/bare-proxy.ts'), String(port), upstream], { reject: false, buffer: false, stdin: 'ignore', stderr: 'inherit', cleanup: true });
  const listening = new Promise<void>((resolve, reject) => {
    onLines(child.stdout, (line) => line === 'listening' && resolve());
    void child.then((r) => reject(new Error(`bare proxy exited (${r.exitCode})`)));
  });
  await listening;
  return {
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}
