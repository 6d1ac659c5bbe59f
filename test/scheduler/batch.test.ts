/**
 * BatchScheduler: the conformance suite, plus the batch-only behaviour
 * (maxWait, choosing the next model, linger).
 */
import { BatchScheduler } from '../../src/scheduler/batch.ts';
import type { CreateScheduler } from './harness.ts';
import { runSchedulerSuite } from './scheduler.case.ts';

/** A clock that only tests move. */
const create: CreateScheduler = (effects, opts) => new BatchScheduler({ ...opts, effects, maxWaitMs: 5000, now: () => 0 });

runSchedulerSuite({ name: 'batch', create });
