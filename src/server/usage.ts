/**
 * Token counts and generation speed from an upstream's answer, for the
 * metrics and the activity history. The answer is never buffered: the tap
 * keeps references to its last few KiB (where OpenAI's `usage` and
 * llama-server's `timings` sit, in a JSON body or in the last events of a
 * stream) and reads the numbers with a few regular expressions once the
 * answer has ended, off the path of the bytes to the client.
 */
import type { TokenUsage } from '../router/feed.ts';

/** How much of the end of an answer is kept. */
const TAIL_BYTES = 8192;

export class UsageTap {
  #chunks: Buffer[] = [];
  #bytes = 0;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#chunks.length > 1 && this.#bytes - this.#chunks[0]!.length >= TAIL_BYTES) this.#bytes -= this.#chunks.shift()!.length;
  }

  /** What the answer reported, or undefined when it reported nothing. */
  usage(): TokenUsage | undefined {
    if (this.#bytes === 0) return undefined;
    const whole = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    return parseUsage(whole.subarray(Math.max(0, whole.length - TAIL_BYTES)).toString('latin1'));
  }
}

/** The numeric members read, found in one pass over the text (a regular expression per name cost ~5 µs per answer). */
const MEMBER = /"(prompt_tokens|input_tokens|prompt_n|completion_tokens|output_tokens|predicted_n|predicted_per_second|prompt_per_second|cached_tokens|cache_read_input_tokens|cache_n)"\s*:\s*(-?[0-9.eE+]+)/g;

/** The last value of each member of MEMBER in `text` (valid, non-negative numbers only). */
function lastValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(MEMBER)) {
    const value = Number(m[2]);
    if (Number.isFinite(value) && value >= 0) out.set(m[1]!, value);
    else out.delete(m[1]!);
  }
  return out;
}

/**
 * The counts of the last `usage` (OpenAI: prompt/completion tokens;
 * Anthropic and Responses: input/output tokens) or llama-server `timings`
 * (prompt_n, predicted_n, predicted_per_second, prompt_per_second, cache_n)
 * in `text`; cached prompt tokens also from `cached_tokens` or
 * `cache_read_input_tokens`.
 */
export function parseUsage(text: string): TokenUsage | undefined {
  if (!text.includes('"usage"') && !text.includes('"timings"')) return undefined;
  const v = lastValues(text);
  const promptTokens = v.get('prompt_tokens') ?? v.get('input_tokens') ?? v.get('prompt_n');
  const completionTokens = v.get('completion_tokens') ?? v.get('output_tokens') ?? v.get('predicted_n');
  const tokensPerSecond = v.get('predicted_per_second');
  const promptPerSecond = v.get('prompt_per_second');
  const cachedTokens = v.get('cached_tokens') ?? v.get('cache_read_input_tokens') ?? v.get('cache_n');
  if (promptTokens === undefined && completionTokens === undefined && tokensPerSecond === undefined) return undefined;
  return {
    ...(promptTokens !== undefined ? { promptTokens } : {}),
    ...(completionTokens !== undefined ? { completionTokens } : {}),
    ...(tokensPerSecond !== undefined ? { tokensPerSecond } : {}),
    ...(promptPerSecond !== undefined ? { promptPerSecond } : {}),
    ...(cachedTokens !== undefined ? { cachedTokens } : {}),
  };
}
