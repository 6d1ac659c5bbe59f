/** A scheduler that throws (a broken invariant) must not leave the request hanging. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Router } from '../../src/router/router.ts';
import { createScheduler } from '../../src/scheduler/create.ts';
import { FakeUpstream } from './fake-upstream.ts';
import { makeConfig, rejectionCode } from './harness.ts';

test('a scheduler that throws on a request fails that request with INTERNAL and logs a bug', async () => {
  const config = makeConfig('fifo');
  const lines: string[] = [];
  let throwNext = true;
  const a = new FakeUpstream('a');
  const router = new Router({
    config,
    logger: pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) }),
    createUpstream: (m) => (m.id === 'a' ? a : new FakeUpstream(m.id)),
    createScheduler: (effects) => {
      const real = createScheduler(config, {
        effects, isKnown: (m) => config.models.has(m), concurrencyLimit: () => 10,
      });
      return {
        ...Object.fromEntries(['onCancel', 'onSwapDone', 'onServeDone', 'onUnload', 'onShutdown', 'adopt', 'load', 'inFlight']
          .map((k) => [k, (real as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!.bind(real)])),
        onRequest: (req) => {
          if (throwNext) {
            throwNext = false;
            throw new Error('invariant broken');
          }
          real.onRequest(req);
        },
      } as typeof real;
    },
  });
  assert.equal(await rejectionCode(router.acquire('a')), 'INTERNAL');
  assert.ok(lines.some((l) => /run loop handler failed \(bug\)/.test(l)));
  // The loop keeps working for the next request.
  const next = router.acquire('a');
  await a.untilStatus('starting');
  a.resolveStart();
  const lease = await next;
  assert.equal(lease.model, 'a');
  lease.release();
  await router.destroy();
});
