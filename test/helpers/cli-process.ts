/**
 * The `modelswap` CLI as a real child process on 127.0.0.1, for tests that
 * signal it. Listen port and startPort come from one free range below the ephemeral ports (see
 * ports.ts). Cleanup (registered with `t.after`): SIGTERM if still
 * running, SIGKILL after the graceful deadline, then SIGKILL to every process
 * group the test recorded with `track`, so nothing outlives the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FAKE } from './modelswap.ts';
import { freePortRange } from './ports.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface CliRun {
  readonly url: string;
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Record an upstream pid (a group leader) to SIGKILL at cleanup if it is still there. */
  track(pid: number): void;
}

/**
 * Write `yaml` (with `${fake}` expanded and a `startPort:` line added), start
 * the CLI on it and wait for "modelswap listening" (bounded).
 */
export async function startCli(t: TestContext, yaml: string, models: number): Promise<CliRun> {
  const base = await freePortRange(models + 1);
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-cli-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `startPort: ${base + 1}\n${yaml.replaceAll('${fake}', FAKE)}`);
  const child = spawn(process.execPath, [CLI, '--config', file, '--listen', `127.0.0.1:${base}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const groups = new Set<number>();
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 35_000);
      await exited;
      clearTimeout(timer);
    }
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 15_000;
  while (!/modelswap listening/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the CLI did not start listening:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `http://127.0.0.1:${base}`, child, stdout: () => out, stderr: () => err, exited, track: (pid) => void groups.add(pid) };
}
