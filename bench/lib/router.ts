/**
 * llama.cpp's own router mode, the competitor of scenario 6:
 * `llama-server --models-dir DIR --models-max N`. DIR holds one copy of the
 * GGUF per model name; the router spawns one child llama-server per loaded
 * model (on a port of its own choosing) and forwards requests to it. Its own
 * process is the proxy part: its CPU time (/proc/<pid>/stat) excludes the
 * children's, which do the inference.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { request } from 'undici';
import { freePortRange } from '../../test/helpers/ports.ts';
import { onLines } from './processes.ts';
import { LLAMA_CTX } from './upstreams.ts';

export interface Router {
  readonly origin: string;
  /** The router process itself (not its children). */
  readonly pid: number;
  /** Child instances spawned so far (its "spawning server instance" log lines). */
  spawns(): number;
  /** Unload every loaded model and wait until none is loaded or loading. */
  unloadAll(): Promise<void>;
  /** SIGTERM its group (router and children), SIGKILL after 10 s; removes DIR. */
  stop(): Promise<void>;
}

interface ModelsList {
  readonly data: readonly { readonly id: string; readonly status: { readonly value: string } }[];
}

/** Start the router over `models` (names, each a copy of `gguf`) and wait until it answers /health. */
export async function startRouter(bin: string, gguf: string, models: readonly string[], modelsMax: number): Promise<Router> {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-bench-router-'));
  for (const model of models) copyFileSync(gguf, join(dir, `${model}.gguf`));
  const port = await freePortRange(1);
  const origin = `http://127.0.0.1:${port}`;
  const child = execa(bin, ['--models-dir', dir, '--models-max', String(modelsMax), '--host', '127.0.0.1', '--port', String(port), '-c', String(LLAMA_CTX)], {
    reject: false, buffer: false, stdio: ['ignore', 'pipe', 'pipe'], detached: true, cleanup: true,
  });
  let spawns = 0;
  for (const stream of [child.stdout, child.stderr]) {
    onLines(stream, (line) => {
      if (line.includes('spawning server instance with name=')) spawns += 1;
    });
  }
  const stop = async (): Promise<void> => {
    try {
      process.kill(-child.pid!, 'SIGTERM'); // the router and the instances it spawned
    } catch {
      // already gone
    }
    await Promise.race([child, sleep(10_000, undefined, { ref: false })]);
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      await child;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      const up = await request(`${origin}/health`).then(async (r) => (await r.body.dump(), r.statusCode === 200), () => false);
      if (up) break;
      if (i > 600 || child.exitCode !== null) throw new Error(`llama.cpp router did not come up on ${origin}`);
      await sleep(50);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const list = async (): Promise<ModelsList> => {
    const r = await request(`${origin}/models`);
    return (await r.body.json()) as ModelsList;
  };
  return {
    origin,
    pid: child.pid!,
    spawns: () => spawns,
    async unloadAll() {
      for (let i = 0; i < 500; i++) {
        const busy = (await list()).data.filter((m) => m.status.value === 'loaded' || m.status.value === 'loading');
        if (busy.length === 0) return;
        for (const m of busy.filter((x) => x.status.value === 'loaded')) {
          const r = await request(`${origin}/models/unload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: m.id }) });
          await r.body.dump();
        }
        await sleep(10);
      }
      throw new Error('llama.cpp router: models still loaded 5 s after unloading');
    },
    stop,
  };
}
