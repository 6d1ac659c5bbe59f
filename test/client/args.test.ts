/** The client commands' flags, and the ps table, as plain tables (no process, no socket). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/cli-args.ts';
import { normalizeUrl, parseClientArgs } from '../../src/client/args.ts';
import { psTable, ttlLeft, type RunningEntry } from '../../src/client/ps.ts';
import { duration, table } from '../../src/client/table.ts';

const usage = (argv: string[], re: RegExp): void =>
  assert.throws(() => parseClientArgs(argv, {}), (err: unknown) => err instanceof UsageError && re.test(err.message), argv.join(' '));

describe('parseClientArgs', () => {
  it('takes --url, else MODELSWAP_URL, else the default listen address', () => {
    assert.equal(parseClientArgs(['ps'], {}).url, 'http://127.0.0.1:8080');
    assert.equal(parseClientArgs(['ps'], { MODELSWAP_URL: 'http://h:1/' }).url, 'http://h:1');
    assert.equal(parseClientArgs(['ps', '--url', '127.0.0.1:9'], { MODELSWAP_URL: 'http://h:1' }).url, 'http://127.0.0.1:9');
    assert.equal(normalizeUrl('https://[::1]:8443/'), 'https://[::1]:8443');
  });

  it('reads each command\'s model and options', () => {
    const l = parseClientArgs(['logs', '-f', 'org/m', '--log-format', 'pretty'], {});
    assert.deepEqual([l.command, l.model, l.follow, l.logFormat], ['logs', 'org/m', true, 'pretty']);
    assert.equal(parseClientArgs(['logs', '--json'], {}).logFormat, 'json');
    assert.equal(parseClientArgs(['top', '--once'], {}).frames, 1);
    assert.equal(parseClientArgs(['top', '--frames', '3'], {}).frames, 3);
    assert.equal(parseClientArgs(['top'], {}).frames, undefined);
    assert.equal(parseClientArgs(['unload'], {}).model, undefined);
    assert.equal(parseClientArgs(['load', '-h'], {}).help, true);
  });

  it('refuses bad usage with a message naming the problem', () => {
    usage(['load'], /needs a model/);
    usage(['ps', 'a'], /takes no model/);
    usage(['unload', 'a', 'b'], /at most one model/);
    usage(['ps', '--follow'], /--follow is an option of modelswap logs/);
    usage(['logs', '--frames', '2'], /--frames is an option of modelswap top/);
    usage(['top', '--frames', '0'], /positive whole number/);
    usage(['top', '--once', '--frames', '2'], /--once and --frames/);
    usage(['logs', '--log-format', 'xml'], /auto, pretty or json/);
    usage(['ps', '--url', 'ftp://x'], /http or https/);
    usage(['ps', '--nope'], /nope/);
  });
});

describe('ps', () => {
  const r = (over: Partial<RunningEntry>): RunningEntry => ({ model: 'm', state: 'ready', pid: 7, inFlight: 0, queued: 0, ttl: 300, ttlLeft: null, ...over });

  it('says what is known of the TTL left, and why when no countdown runs', () => {
    const cases: Array<[Partial<RunningEntry>, string]> = [
      [{ ttlLeft: 299.5 }, '5m00s'],
      [{ ttlLeft: 42.25 }, '42.3s'],
      [{ ttl: 0 }, 'never'],
      [{ inFlight: 1 }, 'busy (ttl 5m00s)'],
      [{ queued: 2 }, 'busy (ttl 5m00s)'],
      [{ state: 'starting', pid: undefined }, '-'],
      [{ state: 'stopping' }, '-'],
    ];
    for (const [over, want] of cases) assert.equal(ttlLeft(r(over)), want, JSON.stringify(over));
  });

  it('prints a table like ollama ps, or says nothing is loaded', () => {
    assert.equal(psTable([]), 'no model is loaded\n');
    assert.equal(psTable([r({ model: 'chat-small', ttlLeft: 59.5 }), r({ model: 'b', state: 'starting', pid: undefined, queued: 3, ttl: 0 })]), [
      'MODEL        STATE      PID   IN-FLIGHT   QUEUED   TTL LEFT',
      'chat-small   ready      7     0           0        59.5s',
      'b            starting   -     0           3        never',
      '',
    ].join('\n'));
  });

  it('formats durations short', () => {
    assert.deepEqual([0, 999, 1000, 59_949, 59_950, 3_599_000, 3_600_000, 7_500_000].map(duration), ['0ms', '999ms', '1.0s', '59.9s', '1m00s', '59m59s', '1h00m', '2h05m']);
    assert.equal(table(['A', 'BB'], [['xyz', '1'], ['é', '']]), 'A     BB\nxyz   1\né\n');
  });
});
