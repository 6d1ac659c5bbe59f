/** Token counts read from the end of an answer (JSON body or SSE stream), never from a buffered copy. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUsage, TAIL_BYTES, UsageTap } from '../../src/server/usage.ts';

test('OpenAI usage and llama-server timings in a JSON body', () => {
  const body = JSON.stringify({ choices: [{ message: { content: 'hi' } }], usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 }, timings: { prompt_n: 12, predicted_n: 34, predicted_per_second: 56.5 } });
  assert.deepEqual(parseUsage(body), { promptTokens: 12, completionTokens: 34, tokensPerSecond: 56.5 });
});

test('Anthropic / Responses input and output tokens', () => {
  assert.deepEqual(parseUsage('{"usage":{"input_tokens":7,"output_tokens":9}}'), { promptTokens: 7, completionTokens: 9 });
});

test('a stream: the last event that reports wins; a body without usage or timings reports nothing', () => {
  const events = [
    'data: {"choices":[{"delta":{"content":"a"}}]}',
    'data: {"choices":[],"timings":{"prompt_n":3,"predicted_n":5,"predicted_per_second":20}}',
    'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}',
    'data: [DONE]',
  ].join('\n\n');
  assert.deepEqual(parseUsage(events), { promptTokens: 3, completionTokens: 5, tokensPerSecond: 20 });
  assert.equal(parseUsage('{"choices":[{"message":{"content":"prompt_tokens: 5"}}]}'), undefined);
});

test('the tap keeps only the tail: usage at the end of a large answer is found, and memory stays bounded', () => {
  const tap = new UsageTap();
  const filler = Buffer.from(`data: {"choices":[{"delta":{"content":"${'x'.repeat(1000)}"}}]}\n\n`);
  for (let i = 0; i < 5000; i++) tap.push(filler);
  tap.push(Buffer.from('data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":5000}}\n\ndata: [DONE]\n\n'));
  assert.deepEqual(tap.usage(), { promptTokens: 11, completionTokens: 5000 });
  assert.equal(new UsageTap().usage(), undefined);
});

test('the tap reads the same as the whole answer would, whatever the chunk sizes (copies, never the chunks)', () => {
  const answer = Buffer.from(`${'data: {"choices":[{"delta":{"content":"abc"}}]}\n\n'.repeat(400)}data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":400}}\n\ndata: [DONE]\n\n`);
  const expected = parseUsage(answer.toString('latin1'));
  assert.deepEqual(expected, { promptTokens: 9, completionTokens: 400 });
  for (const size of [1, 7, 100, 1000, TAIL_BYTES - 1, TAIL_BYTES, TAIL_BYTES + 1, 3 * TAIL_BYTES, answer.length]) {
    const tap = new UsageTap();
    for (let i = 0; i < answer.length; i += size) {
      const chunk = Buffer.from(answer.subarray(i, i + size));
      tap.push(chunk);
      chunk.fill(0); // the caller's buffer is reused: the tap must have copied
    }
    assert.deepEqual(tap.usage(), expected, `chunks of ${size} bytes`);
  }
});

test('prompt speed and cached prompt tokens (llama-server timings, OpenAI details, Anthropic cache reads)', () => {
  assert.deepEqual(parseUsage('{"timings":{"cache_n":40,"prompt_n":2,"prompt_per_second":900.5,"predicted_n":7,"predicted_per_second":33}}'), {
    promptTokens: 2, completionTokens: 7, tokensPerSecond: 33, promptPerSecond: 900.5, cachedTokens: 40,
  });
  assert.deepEqual(parseUsage('{"usage":{"prompt_tokens":50,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":32}}}'), { promptTokens: 50, completionTokens: 3, cachedTokens: 32 });
  assert.deepEqual(parseUsage('{"usage":{"input_tokens":5,"cache_read_input_tokens":100,"output_tokens":2}}'), { promptTokens: 5, completionTokens: 2, cachedTokens: 100 });
});
