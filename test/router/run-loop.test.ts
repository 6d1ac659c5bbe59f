/** RunLoop: one event at a time, never re-entrant, and a throwing handler does not stop it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunLoop } from '../../src/router/run-loop.ts';

test('an event posted from inside a handler is handled after the current handler returns', () => {
  const trace: string[] = [];
  const loop: RunLoop<string> = new RunLoop<string>(
    (ev) => {
      trace.push(`start ${ev}`);
      if (ev === 'first') {
        loop.post('second');
        loop.post('third');
        trace.push('posted');
      }
      trace.push(`end ${ev}`);
    },
    (err) => assert.fail(err as Error),
  );
  loop.post('first');
  assert.deepEqual(trace, ['start first', 'posted', 'end first', 'start second', 'end second', 'start third', 'end third']);
});

test('post() on an idle loop handles the event before returning', () => {
  const seen: number[] = [];
  const loop = new RunLoop<number>((n) => seen.push(n), (err) => assert.fail(err as Error));
  loop.post(1);
  assert.deepEqual(seen, [1]);
  loop.post(2);
  assert.deepEqual(seen, [1, 2]);
});

test('a throwing handler is reported to onError with its event and the loop keeps going', () => {
  const seen: string[] = [];
  const errors: Array<[string, string]> = [];
  const boom = new Error('boom');
  const loop: RunLoop<string> = new RunLoop<string>(
    (ev) => {
      seen.push(ev);
      if (ev === 'bad') {
        loop.post('queued-behind-bad');
        throw boom;
      }
    },
    (err, ev) => errors.push([(err as Error).message, ev]),
  );
  loop.post('bad');
  assert.deepEqual(errors, [['boom', 'bad']]);
  assert.deepEqual(seen, ['bad', 'queued-behind-bad'], 'the event queued by the failing handler still runs');
  loop.post('later');
  assert.deepEqual(seen, ['bad', 'queued-behind-bad', 'later'], 'the loop is not left in draining state');
});
