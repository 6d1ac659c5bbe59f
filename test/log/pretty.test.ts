/** Readable log lines from pino's JSON records, as tables of input and output. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { PrettyLineBuffer, prettyLines, prettyRecord } from '../../src/log/pretty.ts';
import { pinoTimestamp } from '../../src/log/time-format.ts';

const plain = { color: false };
// 15:04:05.123 local time, as pino writes it (epoch milliseconds)
const T = new Date(2006, 0, 2, 15, 4, 5, 123).getTime();

describe('prettyRecord', () => {
  it('writes time, level, [model], message and the other fields as key=value', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ level: 30, time: T, msg: 'modelswap listening' }, '15:04:05.123 INFO  modelswap listening'],
      [{ level: 40, time: T, model: 'a', msg: 'slow', ms: 12 }, '15:04:05.123 WARN  [a] slow ms=12'],
      [{ level: 20, time: T, msg: 'request', url: '/v1/models', status: 200 }, '15:04:05.123 DEBUG request url=/v1/models status=200'],
      [{ level: 50, time: T, msg: 'x', why: 'two words', list: ['a', 'b'], obj: { k: 1 } }, '15:04:05.123 ERROR x why="two words" list=["a","b"] obj={"k":1}'],
      [{ level: 60, time: 'Jan  2 15:04:05', msg: 'gone' }, 'Jan  2 15:04:05 FATAL gone'],
      [{ level: 10, time: T, model: 'org/m', msg: '' }, '15:04:05.123 TRACE [org/m]'],
    ];
    for (const [rec, line] of cases) assert.equal(prettyRecord(JSON.stringify(rec), plain), line);
  });

  it('shows an error\'s message inline and its stack below', () => {
    const out = prettyRecord(JSON.stringify({ level: 50, time: T, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.ts:1:1)' } }), plain);
    assert.equal(out, '15:04:05.123 ERROR failed err=boom\n    at f (x.ts:1:1)');
  });

  it('leaves anything that is not a pino record alone', () => {
    for (const line of ['[a] main: model loaded', '{not json', '{"no":"level"}', '', '42']) assert.equal(prettyRecord(line, plain), undefined, line);
  });

  it('colours only when asked', () => {
    const out = prettyRecord(JSON.stringify({ level: 40, time: T, model: 'a', msg: 'm' }), { color: true })!;
    assert.match(out, /\x1b\[33mWARN \x1b\[0m \x1b\[36m\[a\]\x1b\[0m m$/);
  });

  it('shows the time as logTimeFormat wrote it', () => {
    const lines: string[] = [];
    pino({ base: undefined, timestamp: pinoTimestamp('kitchen')! }, { write: (s: string): void => void lines.push(s) }).info({ model: 'a' }, 'hi');
    assert.match(prettyLines(lines[0]!, plain), /^\d{1,2}:\d\d[AP]M INFO  \[a\] hi\n$/);
  });
});

describe('prettyLines and PrettyLineBuffer', () => {
  const rec = JSON.stringify({ level: 30, time: T, msg: 'ok' });
  it('rewrites every line and keeps the newlines', () => {
    assert.equal(prettyLines(`${rec}\n[a] raw line\n${rec}\n`, plain), '15:04:05.123 INFO  ok\n[a] raw line\n15:04:05.123 INFO  ok\n');
  });

  it('holds a line split across chunks until its end arrives', () => {
    const b = new PrettyLineBuffer(plain);
    assert.equal(b.push(rec.slice(0, 10)), '');
    assert.equal(b.push(`${rec.slice(10)}\n[a] par`), '15:04:05.123 INFO  ok\n');
    assert.equal(b.push('tial'), '');
    assert.equal(b.end(), '[a] partial');
    assert.equal(b.end(), '');
  });
});
