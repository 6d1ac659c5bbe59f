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
    const whole = Buffer.concat(this.#chunks);
    return parseUsage(whole.subarray(Math.max(0, whole.length - TAIL_BYTES)).toString('latin1'));
  }
}

/** The last value of a numeric JSON member `name` in `text`. */
function last(text: string, name: string): number | undefined {
  const re = new RegExp(`"${name}"\\s*:\\s*(-?[0-9.eE+]+)`, 'g');
  let value: number | undefined;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) value = Number(m[1]);
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
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
  const promptTokens = last(text, 'prompt_tokens') ?? last(text, 'input_tokens') ?? last(text, 'prompt_n');
  const completionTokens = last(text, 'completion_tokens') ?? last(text, 'output_tokens') ?? last(text, 'predicted_n');
  const tokensPerSecond = last(text, 'predicted_per_second');
  const promptPerSecond = last(text, 'prompt_per_second');
  const cachedTokens = last(text, 'cached_tokens') ?? last(text, 'cache_read_input_tokens') ?? last(text, 'cache_n');
  if (promptTokens === undefined && completionTokens === undefined && tokensPerSecond === undefined) return undefined;
  return {
    ...(promptTokens !== undefined ? { promptTokens } : {}),
    ...(completionTokens !== undefined ? { completionTokens } : {}),
    ...(tokensPerSecond !== undefined ? { tokensPerSecond } : {}),
    ...(promptPerSecond !== undefined ? { promptPerSecond } : {}),
    ...(cachedTokens !== undefined ? { cachedTokens } : {}),
  };
}
