import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogHub } from '../../src/log/hub.ts';

test('upstream output is prefixed per complete line; partial lines wait for their newline', () => {
  const out: string[] = [];
  const hub = new LogHub('upstream', (t) => void out.push(t));
  hub.writeUpstream('a', 'hel');
  hub.writeUpstream('b', 'other line\n');
  hub.writeUpstream('a', 'lo\nwor');
  hub.writeUpstream('a', 'ld\n');
  assert.equal(out.join(''), '[b] other line\n[a] hello\n[a] world\n');
  assert.equal(hub.upstream.history(), out.join(''));
});

test('logToStdout decides what reaches stdout and /logs; every ring keeps its own history', () => {
  for (const [mode, proxyShown, upstreamShown] of [
    ['proxy', true, false], ['upstream', false, true], ['both', true, true], ['none', false, false],
  ] as const) {
    const out: string[] = [];
    const hub = new LogHub(mode, (t) => void out.push(t));
    hub.writeProxy('p\n');
    hub.writeUpstream('m', 'u\n');
    assert.equal(out.includes('p\n'), proxyShown, mode);
    assert.equal(out.includes('[m] u\n'), upstreamShown, mode);
    assert.equal(hub.combined.history(), out.join(''), mode);
    assert.equal(hub.proxy.history(), 'p\n');
    assert.equal(hub.upstream.history(), '[m] u\n');
  }
});

test('a line longer than 8 KiB without a newline is flushed rather than held forever', () => {
  const hub = new LogHub('none');
  hub.writeUpstream('m', 'x'.repeat(9000));
  assert.equal(hub.upstream.history().length, 9000 + '[m] \n'.length);
});
