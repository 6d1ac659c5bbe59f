/**
 * The one conformance suite every Scheduler runs (like hono's
 * `src/router/common.case.test.ts`). `fifo.test.ts` and `serial.test.ts` call
 * `runSchedulerSuite`; a scheduler opts out of a case only by naming it in
 * `skip` with the reason, which the test report shows.
 *
 * Coverage of llama-swap's fifo_test.go (llama-swap.md §8.3, "Scheduler"):
 * every listed behaviour is ported (cases-swap.ts, cases-lifecycle.ts) except
 * those tied to llama-swap's admission channel or request context, which our
 * interface does not have:
 *   - "the grant records fifo_priority metadata": grants carry no metadata;
 *   - "a cancelled context wins over a send" and "a nil Admit channel is
 *     allowed": admission is a synchronous grantError, not a channel send;
 *   - "the default limit is 10": the default lives in the config loader
 *     (ModelConfig.concurrencyLimit); here the limit is a function.
 * Added beyond upstream: reservations released on refused grants and errors,
 * unload of a loading model never double-starts its swap, in-flight requests
 * survive an unload, broken invariants throw.
 */
import { describe, test } from 'node:test';
import { lifecycleCases } from './cases-lifecycle.ts';
import { swapCases, type Case } from './cases-swap.ts';
import type { CreateScheduler } from './harness.ts';

export interface SchedulerSuite {
  readonly name: string;
  readonly create: CreateScheduler;
  /** Case name -> why this scheduler does not promise that behaviour. */
  readonly skip?: Readonly<Record<string, string>>;
}

export const schedulerCases: Readonly<Record<string, Case>> = { ...swapCases, ...lifecycleCases };

export function runSchedulerSuite({ name, create, skip = {} }: SchedulerSuite): void {
  const unknown = Object.keys(skip).filter((c) => !(c in schedulerCases));
  if (unknown.length > 0) throw new Error(`${name}: skip names unknown cases: ${unknown.join('; ')}`);
  describe(`${name} conformance`, () => {
    for (const [caseName, run] of Object.entries(schedulerCases)) {
      const reason = skip[caseName];
      test(caseName, reason === undefined ? {} : { skip: reason }, () => run(create));
    }
  });
}
