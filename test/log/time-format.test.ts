import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { formatTime, pinoTimestamp } from '../../src/log/time-format.ts';

// 2006-01-02 15:04:05.123 in local time: the example date of Go's layouts.
const D = new Date(2006, 0, 2, 15, 4, 5, 123);

describe('logTimeFormat', () => {
  it('writes Go\'s named layouts', () => {
    assert.equal(formatTime('ansic', D), 'Mon Jan  2 15:04:05 2006');
    assert.equal(formatTime('kitchen', D), '3:04PM');
    assert.equal(formatTime('stamp', D), 'Jan  2 15:04:05');
    assert.equal(formatTime('stampmilli', D), 'Jan  2 15:04:05.123');
    assert.equal(formatTime('stampmicro', D), 'Jan  2 15:04:05.123000');
    assert.equal(formatTime('stampnano', D), 'Jan  2 15:04:05.123000000');
    assert.match(formatTime('rfc3339', D), /^2006-01-02T15:04:05(Z|[+-]\d\d:\d\d)$/);
    assert.match(formatTime('rfc3339nano', D), /^2006-01-02T15:04:05\.123(Z|[+-]\d\d:\d\d)$/);
    assert.match(formatTime('rfc1123z', D), /^Mon, 02 Jan 2006 15:04:05 [+-]\d{4}$/);
    assert.match(formatTime('rfc850', D), /^Monday, 02-Jan-06 15:04:05 \S+$/);
    assert.match(formatTime('rfc822z', D), /^02 Jan 06 15:04 [+-]\d{4}$/);
    assert.match(formatTime('rubydate', D), /^Mon Jan 02 15:04:05 [+-]\d{4} 2006$/);
    assert.equal(formatTime('kitchen', new Date(2006, 0, 2, 0, 7)), '12:07AM');
  });

  it('puts the formatted time in the proxy log\'s time field, and keeps pino\'s number for ""', () => {
    const lines: string[] = [];
    const write = { write: (s: string): void => void lines.push(s) };
    pino({ timestamp: pinoTimestamp('rfc3339')! }, write).info('x');
    assert.match(String((JSON.parse(lines[0]!) as { time: unknown }).time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.equal(pinoTimestamp(''), undefined);
  });
});
