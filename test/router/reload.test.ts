/**
 * Router.reload: unchanged models keep running and serving, changed and
 * removed ones stop once their in-flight requests finish, no request is lost.
 * Fake upstreams; every process definition gets its own fake (generations).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { Router, type Lease } from '../../src/router/router.ts';
import { createScheduler } from '../../src/scheduler/create.ts';
import { FakeUpstream } from './fake-upstream.ts';
import { SCHEDULERS, flush, rejectionCode, track } from './harness.ts';

const T = { timeout: 10_000 };

function config(use: string, models: Record<string, string>): Config {
  const body = Object.entries(models).map(([id, flags]) => `  ${id}: { cmd: "fake --port \${PORT} ${flags}" }`).join('\n');
  return parseConfig(`startPort: 5800\nrouting: { scheduler: { use: ${use} } }\nmodels:\n${body}\n`, { env: {} });
}

class ReloadHarness {
  /** Every fake built, per model id, oldest first. */
  readonly gens = new Map<string, FakeUpstream[]>();
  readonly lines: string[] = [];
  readonly router: Router;

  constructor(initial: Config) {
    this.router = new Router({
      config: initial,
      logger: pino({ level: 'info' }, { write: (l: string) => void this.lines.push(l) }),
      createUpstream: (m) => {
        const f = new FakeUpstream(m.id);
        this.gens.set(m.id, [...(this.gens.get(m.id) ?? []), f]);
        return f;
      },
      createScheduler: (effects, current) =>
        createScheduler(current, {
          effects, isKnown: (m) => current.models.has(m), concurrencyLimit: () => 10,
        }),
    });
  }

  gen(model: string, n: number): FakeUpstream {
    const f = this.gens.get(model)?.[n];
    assert.ok(f !== undefined, `no generation ${n} of ${model}`);
    return f;
  }

  /** Acquire and drive the current generation's start if one begins. */
  async lease(model: string): Promise<Lease> {
    const p = this.router.acquire(model);
    const gens = this.gens.get(model)!;
    const f = gens[gens.length - 1]!;
    await Promise.race([p.then(() => undefined), f.untilStatus('starting')]);
    if (f.status() === 'starting') f.resolveStart();
    return p;
  }

  bugs(): string[] {
    return this.lines.filter((l) => /"level":(50|60)/.test(l));
  }
}

for (const use of SCHEDULERS) {
  test(`${use}: an unchanged model keeps its process and keeps serving across a reload`, T, async () => {
    const h = new ReloadHarness(config(use, { a: '', b: '' }));
    const inflight = await h.lease('a');
    const diff = await h.router.reload(config(use, { a: '', b: '--changed' }));
    assert.deepEqual({ kept: diff.kept, changed: diff.changed }, { kept: ['a'], changed: ['b'] });
    assert.deepEqual(h.gen('a', 0).stopCalls, [], 'a was not touched');
    assert.equal(h.gens.get('a')!.length, 1, 'no new process for a');
    inflight.release();
    const again = await h.lease('a');
    assert.equal(h.gen('a', 0).startCalls, 1, 'served by the same process');
    again.release();
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a changed model's old process stops only after its in-flight request, then requests use the new definition`, T, async () => {
    const h = new ReloadHarness(config(use, { a: '' }));
    const inflight = await h.lease('a');
    const old = h.gen('a', 0);
    await h.router.reload(config(use, { a: '--new-flags' }));
    await flush();
    assert.deepEqual(old.stopCalls, [], 'still serving: not stopped yet');
    const next = h.router.acquire('a');
    const nextState = track(next);
    await flush();
    const fresh = h.gen('a', 1);
    assert.equal(fresh.startCalls, 0, 'the new definition waits for the old process to be gone');
    assert.equal(nextState.settled, false);
    inflight.release();
    await old.untilStatus('stopped');
    assert.deepEqual(old.stopReasons(), ['reloaded']);
    await fresh.untilStatus('starting');
    fresh.resolveStart();
    (await next).release();
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a removed model stops after its in-flight request; new requests for it are refused`, T, async () => {
    const h = new ReloadHarness(config(use, { a: '', gone: '' }));
    const inflight = await h.lease('gone');
    const old = h.gen('gone', 0);
    const diff = await h.router.reload(config(use, { a: '' }));
    assert.deepEqual(diff.removed, ['gone']);
    await flush();
    assert.deepEqual(old.stopCalls, []);
    inflight.release();
    await old.untilStatus('stopped');
    assert.equal(await rejectionCode(h.router.acquire('gone')), 'MODEL_NOT_FOUND');
    assert.deepEqual(h.router.running(), []);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: requests waiting at reload time are re-scheduled, not failed`, T, async () => {
    const h = new ReloadHarness(config(use, { a: '', b: '' }));
    const busy = await h.lease('a');
    // serial: b waits behind a's request; fifo: b waits because it would evict busy a
    const waiting = h.router.acquire('b');
    await flush();
    await h.router.reload(config(use, { a: '', b: '--changed' }));
    busy.release();
    const b = h.gen('b', h.gens.get('b')!.length - 1);
    await b.untilStatus('starting');
    b.resolveStart();
    const lease = await waiting;
    assert.equal(lease.model, 'b');
    lease.release();
    assert.deepEqual(h.bugs(), []);
  });
}

test('a reload during a swap waits for it; requests meanwhile are held and then served', T, async () => {
  const h = new ReloadHarness(config('fifo', { a: '', b: '' }));
  const loading = h.router.acquire('a');
  const a = h.gen('a', 0);
  await a.untilStatus('starting');
  const reloaded = track(h.router.reload(config('fifo', { a: '', b: '--changed' })));
  const held = h.router.acquire('a');
  await flush();
  assert.equal(reloaded.settled, false, 'not applied while a swap runs');
  a.resolveStart();
  (await loading).release();
  (await held).release();
  assert.equal(reloaded.settled, true);
  assert.equal(a.startCalls, 1);
  assert.deepEqual(h.bugs(), []);
});

test('a removed model with a request waiting is served by its old definition first, then removed', T, async () => {
  const h = new ReloadHarness(config('serial', { a: '', gone: '' }));
  const busy = await h.lease('a');
  const waiting = h.router.acquire('gone');
  await flush();
  await h.router.reload(config('serial', { a: '' }));
  busy.release();
  const old = h.gen('gone', 0);
  await old.untilStatus('starting');
  old.resolveStart();
  const lease = await waiting;
  assert.equal(lease.model, 'gone');
  lease.release();
  await old.untilStatus('stopped');
  assert.equal(await rejectionCode(h.router.acquire('gone')), 'MODEL_NOT_FOUND');
  assert.deepEqual(h.bugs(), []);
});

test('two reloads while a request is in flight: the first old process still stops when it finishes', T, async () => {
  const h = new ReloadHarness(config('fifo', { a: '' }));
  const inflight = await h.lease('a');
  await h.router.reload(config('fifo', { a: '--v2' }));
  await h.router.reload(config('fifo', { a: '--v3' }));
  const first = h.gen('a', 0);
  await flush();
  assert.deepEqual(first.stopCalls, []);
  inflight.release();
  await first.untilStatus('stopped');
  assert.deepEqual(first.stopReasons(), ['reloaded']);
  const lease = await h.lease('a');
  assert.equal(h.gens.get('a')!.length, 3);
  assert.equal(h.gen('a', 2).startCalls, 1, 'served by the newest definition');
  lease.release();
  assert.deepEqual(h.bugs(), []);
});

test('a reload whose apply throws (a bug) rejects its caller instead of leaving it waiting; the loop logs it and goes on', T, async () => {
  const initial = config('fifo', { a: '' });
  const lines: string[] = [];
  const router = new Router({
    config: initial,
    logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
    createUpstream: (m) => new FakeUpstream(m.id),
    createScheduler: (effects, current) => {
      if (current !== initial) throw new Error('no scheduler for you');
      return createScheduler(current, { effects, isKnown: (m) => current.models.has(m), concurrencyLimit: () => 10 });
    },
  });
  await assert.rejects(router.reload(config('fifo', { a: '--v2' })), /no scheduler for you/);
  assert.ok(lines.some((l) => /run loop handler failed \(bug\)/.test(l)), 'the bug is logged');
  await router.destroy();
});
