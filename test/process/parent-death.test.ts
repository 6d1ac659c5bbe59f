/**
 * The parent is SIGKILLed: nothing it spawned survives (src/process/launch.ts).
 * A small Node parent spawns upstreams with the real spawnChild and prints
 * their pgids; the test kills it with SIGKILL (no exit handler can run) and
 * scans /proc for the groups' members. Both launch modes: setpriv + watchdog,
 * and the watchdog alone (no setpriv).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { signalGroup } from '../../src/process/kill-group.ts';
import { FAKE, freePort, groupMembersNow, NODE } from './helpers.ts';

const T = { timeout: 20_000 };
const SPAWN = new URL('../../src/process/spawn.ts', import.meta.url).href;
const IGNORE_TERM = "process.on('SIGTERM', () => {}); console.log('ignorer up'); setInterval(() => {}, 1000)";

interface Spec {
  readonly argv: readonly string[];
  /** Members to expect once everything is up. */
  readonly members: number;
}

/** Run a parent that spawns `specs`; resolves with it and the pgids once every group is complete. */
async function parentWith(t: TestContext, specs: readonly Spec[], setpriv: 'default' | 'none') {
  const code = `
    import { spawnChild } from ${JSON.stringify(SPAWN)};
    const specs = JSON.parse(process.argv[1]);
    const pgids = specs.map((s) => spawnChild(s.argv, { env: {}, onOutput: () => {}, setpriv: ${setpriv === 'none' ? 'null' : 'undefined'} }).pid);
    console.log(JSON.stringify(pgids));
    setInterval(() => {}, 1000);`;
  const parent = spawn(NODE, ['--input-type=module', '-e', code, JSON.stringify(specs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
  const pgids = JSON.parse(line.toString()) as number[];
  t.after(() => {
    parent.kill('SIGKILL');
    for (const g of pgids) signalGroup(g, 'SIGKILL');
  });
  const deadline = Date.now() + 10_000;
  while (!specs.every((s, i) => groupMembersNow(pgids[i]!).length === s.members)) {
    if (Date.now() > deadline) throw new Error(`groups never complete: ${pgids.map((g) => groupMembersNow(g).length)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { parent, pgids };
}

async function assertAllGoneWithin(pgids: readonly number[], ms: number): Promise<void> {
  const started = Date.now();
  const alive = (): number[] => pgids.flatMap((g) => groupMembersNow(g));
  while (alive().length > 0 && Date.now() - started < ms) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(alive(), [], `survivors after ${ms} ms`);
}

for (const setpriv of ['default', 'none'] as const) {
  test(`parent SIGKILLed (${setpriv === 'default' ? 'setpriv + watchdog' : 'watchdog alone'}): a forking server and a shell wrapper leave nothing behind`, T, async (t) => {
    const [p1, p2] = [await freePort(), await freePort()];
    const { parent, pgids } = await parentWith(t, [
      { argv: [NODE, FAKE, '--port', String(p1), '--fork-grandchild', '--ignore-sigterm'], members: 2 }, // server, grandchild (the watchdog is outside the group)
      { argv: ['sh', '-c', `"${NODE}" "${FAKE}" --port ${p2} & "${NODE}" -e "${IGNORE_TERM}"; wait`], members: 3 }, // sh, server, ignorer
    ], setpriv);
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    await assertAllGoneWithin(pgids, 2000);
  });
}
