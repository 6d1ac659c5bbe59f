import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrace, TraceError } from '../../src/simulate/trace.ts';

function errorAt(text: string, line: number | undefined, pattern: RegExp): void {
  assert.throws(() => parseTrace(text), (err: unknown) => {
    assert.ok(err instanceof TraceError);
    assert.equal(err.line, line);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('parseTrace', () => {
  it('reads one request per line, skipping blank lines and ignoring other keys', () => {
    const text = '{"t": 0, "model": "a", "ms": 100}\n\n  {"t": 12.5, "model": "b", "ms": 0, "stream": true, "priority": 2, "client": "x"}  \n';
    assert.deepEqual(parseTrace(text), [
      { line: 1, t: 0, model: 'a', ms: 100, stream: false, priority: undefined },
      { line: 3, t: 12.5, model: 'b', ms: 0, stream: true, priority: 2 },
    ]);
  });

  it('keeps line order, also when lines are not sorted by time', () => {
    assert.deepEqual(parseTrace('{"t":5,"model":"a","ms":1}\n{"t":1,"model":"b","ms":1}').map((r) => r.model), ['a', 'b']);
  });

  it('names the line of a malformed request', () => {
    const ok = '{"t": 0, "model": "a", "ms": 1}\n';
    errorAt(`${ok}{"t": 0, "model": "a", "ms": 1`, 2, /^line 2: not JSON/);
    errorAt(`${ok}\n[1, 2]`, 3, /line 3: expected an object/);
    errorAt(`${ok}{"model": "a", "ms": 1}`, 2, /"t" .* must be a number >= 0, got undefined/);
    errorAt(`${ok}{"t": -1, "model": "a", "ms": 1}`, 2, /"t" .* got -1/);
    errorAt(`${ok}{"t": 0, "model": "", "ms": 1}`, 2, /"model" must be a non-empty string/);
    errorAt(`${ok}{"t": 0, "model": "a", "ms": "5"}`, 2, /"ms" \(service time\) must be a number >= 0, got "5"/);
    errorAt(`${ok}{"t": 0, "model": "a", "ms": 1, "stream": "yes"}`, 2, /"stream" must be true or false/);
    errorAt(`${ok}{"t": 0, "model": "a", "ms": 1, "priority": "high"}`, 2, /"priority" must be a number/);
  });

  it('refuses a trace without requests', () => {
    errorAt('', undefined, /no requests/);
    errorAt('\n  \n', undefined, /no requests/);
  });
});
