/**
 * Token counts and generation speed from an upstream's answer, for the
 * metrics and the activity history. The answer is never buffered: the tap
 * copies its last few KiB (where OpenAI's `usage` and llama-server's
 * `timings` sit, in a JSON body or in the last events of a stream) into one
 * buffer of its own, and reads the numbers with one regular expression once
 * the answer has ended, off the path of the bytes to the client.
 *
 * A copy, not references to the chunks: a chunk is a view of the socket's
 * read buffer, and holding a few of them per open stream held far more than
 * their bytes (80 MB more RSS with 1,000 streams open).
 */
import type { TokenUsage } from '../router/feed.ts';

/** How much of the end of an answer is kept (llama-server's last event, usage and timings, is under 1 KiB). */
export const TAIL_BYTES = 4096;

export class UsageTap {
  /** Holds the tail, at most 2 × TAIL_BYTES; grown as needed, so a short answer costs a short copy. */
  #buf: Buffer = Buffer.alloc(0);
  #len = 0;

  push(chunk: Buffer): void {
    if (chunk.length >= TAIL_BYTES) {
      this.#reserve(TAIL_BYTES);
      chunk.copy(this.#buf, 0, chunk.length - TAIL_BYTES);
      this.#len = TAIL_BYTES;
      return;
    }
    if (this.#len + chunk.length > 2 * TAIL_BYTES) {
      // Keep what, with this chunk, makes the last TAIL_BYTES.
      const keep = TAIL_BYTES - chunk.length;
      this.#buf.copyWithin(0, this.#len - keep, this.#len);
      this.#len = keep;
    }
    this.#reserve(this.#len + chunk.length);
    chunk.copy(this.#buf, this.#len);
    this.#len += chunk.length;
  }

  /** What the answer reported, or undefined when it reported nothing. */
  usage(): TokenUsage | undefined {
    if (this.#len === 0) return undefined;
    return parseUsage(this.#buf.toString('latin1', Math.max(0, this.#len - TAIL_BYTES), this.#len));
  }

  /** Room for `bytes` (≤ 2 × TAIL_BYTES), keeping what is held. */
  #reserve(bytes: number): void {
    if (bytes <= this.#buf.length) return;
    // Small ones come from the shared pool; 4 KiB and more (a long answer's) are its own memory.
    const next = Buffer.allocUnsafe(Math.min(2 * TAIL_BYTES, Math.max(bytes, 2 * this.#buf.length, 512)));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
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
