/**
 * The parent is SIGKILLed: nothing it spawned survives (src/process/launch.ts).
 * A small Node parent spawns upstreams with the real spawnChild and prints
 * their pgids; the test kills it with SIGKILL (no exit handler can run) and
 * scans /proc for the groups' members. Both launch modes: setpriv + watchdog,
 * and the watchdog alone (no setpriv); and a watchdog killed and replaced.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { signalGroup } from '../../src/process/kill-group.ts';
import { FAKE, freePort, groupMembersNow, NODE, watchdogChildren } from './helpers.ts';

const T = { timeout: 20_000 };
const SPAWN = new URL('../../src/process/spawn.ts', import.meta.url).href;
const WATCHDOG = new URL('../../src/process/watchdog.ts', import.meta.url).href;
const IGNORE_TERM = "process.on('SIGTERM', () => {}); console.log('ignorer up'); setInterval(() => {}, 1000)";

interface Spec {
  readonly argv: readonly string[];
  /** Members to expect once everything is up. */
  readonly members: number;
  /** Withdrawn from the watchdog once spawned, as if the proxy had seen the group end. */
  readonly withdrawn?: boolean;
}

/** Run a parent that spawns `specs`; resolves with it and the pgids once every group is complete. */
async function parentWith(t: TestContext, specs: readonly Spec[], setpriv: 'default' | 'none') {
  const code = `
    import { spawnChild } from ${JSON.stringify(SPAWN)};
    import { setWatchdogLog, unwatchGroup, watchdogPid } from ${JSON.stringify(WATCHDOG)};
    setWatchdogLog({ warn: (obj, msg) => console.log(JSON.stringify({ warn: msg, ...obj })) });
    const specs = JSON.parse(process.argv[1]);
    const pgids = specs.map((s) => spawnChild(s.argv, { env: {}, onOutput: () => {}, setpriv: ${setpriv === 'none' ? 'null' : 'undefined'} }).pid);
    specs.forEach((s, i) => { if (s.withdrawn) unwatchGroup(pgids[i]); });
    console.log(JSON.stringify({ pgids, watchdog: watchdogPid() }));
    setInterval(() => {}, 1000);`;
  const parent = spawn(NODE, ['--input-type=module', '-e', code, JSON.stringify(specs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
  const { pgids, watchdog } = JSON.parse(line.toString().split('\n')[0]!) as { pgids: number[]; watchdog: number };
  let later = '';
  parent.stdout!.on('data', (d: Buffer) => void (later += d.toString()));
  t.after(() => {
    parent.kill('SIGKILL');
    for (const g of pgids) signalGroup(g, 'SIGKILL');
  });
  const deadline = Date.now() + 10_000;
  while (!specs.every((s, i) => groupMembersNow(pgids[i]!).length === s.members)) {
    if (Date.now() > deadline) throw new Error(`groups never complete: ${pgids.map((g) => groupMembersNow(g).length)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { parent, pgids, watchdog, output: (): string => later };
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

for (const lived of [1100, 0]) {
  test(`one watchdog holds every group; killed while the parent lives (${lived === 0 ? 'at once: replaced from a timer within ~1 s' : 'after a second: replaced at once'}), it is told them all again, so the parent's SIGKILL still leaves nothing`, T, async (t) => {
    const [p1, p2] = [await freePort(), await freePort()];
    const { parent, pgids, watchdog, output } = await parentWith(t, [
      { argv: [NODE, FAKE, '--port', String(p1), '--fork-grandchild', '--ignore-sigterm'], members: 2 },
      { argv: [NODE, FAKE, '--port', String(p2), '--fork-grandchild', '--ignore-sigterm'], members: 2 },
    ], 'none');
    assert.deepEqual(watchdogChildren(parent.pid!), [watchdog], 'one watchdog for both groups');
    await new Promise((r) => setTimeout(r, lived)); // src/process/watchdog.ts: one that lived a second is replaced at once, else a second after its start
    process.kill(watchdog, 'SIGKILL');
    const deadline = Date.now() + 5000;
    let now = watchdogChildren(parent.pid!);
    while (!(now.length === 1 && now[0] !== watchdog) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      now = watchdogChildren(parent.pid!);
    }
    assert.equal(now.length, 1, 'a new watchdog');
    assert.notEqual(now[0], watchdog);
    const warned = /"warn":"the process-group watchdog ended while groups were held; starting another".*"signal":"SIGKILL","groups":2/;
    while (!warned.test(output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(output(), /"warn":"the process-group watchdog ended while groups were held; starting another".*"signal":"SIGKILL","groups":2/, 'a warning says so');
    await new Promise((r) => setTimeout(r, 100)); // it reads the groups it is told
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    await assertAllGoneWithin(pgids, 2000);
  });
}

test('a group withdrawn from the watchdog is left alone when the parent dies; the one still held is killed (no setpriv)', T, async (t) => {
  const [p1, p2] = [await freePort(), await freePort()];
  const { parent, pgids } = await parentWith(t, [
    { argv: [NODE, FAKE, '--port', String(p1), '--fork-grandchild', '--ignore-sigterm'], members: 2, withdrawn: true },
    { argv: [NODE, FAKE, '--port', String(p2), '--fork-grandchild', '--ignore-sigterm'], members: 2 },
  ], 'none');
  await new Promise((r) => setTimeout(r, 100)); // the watchdog reads its lines
  parent.kill('SIGKILL');
  await once(parent, 'exit');
  await assertAllGoneWithin([pgids[1]!], 2000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(groupMembersNow(pgids[0]!).length, 2, 'withdrawn: never signalled (a pgid the kernel hands out again must not be)');
});
