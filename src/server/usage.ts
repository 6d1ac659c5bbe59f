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

const USAGE_KEY = Buffer.from('"usage"');
const TIMINGS_KEY = Buffer.from('"timings"');

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

  /**
   * What the answer reported, or undefined when it reported nothing. Only
   * what follows the last `"usage"` or `"timings"` key can hold the counts,
   * so only that is decoded and scanned (found from the end, in the bytes).
   */
  usage(): TokenUsage | undefined {
    if (this.#len === 0) return undefined;
    const tail = this.#buf.subarray(Math.max(0, this.#len - TAIL_BYTES), this.#len);
    const u = tail.lastIndexOf(USAGE_KEY);
    const t = tail.lastIndexOf(TIMINGS_KEY);
    if (u < 0 && t < 0) return undefined;
    return readUsage(tail.toString('latin1', u < 0 ? t : t < 0 ? u : Math.min(u, t)));
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
function lastValues(text: string): Partial<Record<string, number>> {
  const out: Partial<Record<string, number>> = {};
  MEMBER.lastIndex = 0; // one shared expression, used to the end each time (exec resets it after the last match)
  for (let m = MEMBER.exec(text); m !== null; m = MEMBER.exec(text)) {
    const value = Number(m[2]);
    out[m[1]!] = Number.isFinite(value) && value >= 0 ? value : undefined;
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
  return readUsage(text);
}

/** parseUsage on a text known to hold a `"usage"` or `"timings"` key (the tap found it in the bytes). */
function readUsage(text: string): TokenUsage | undefined {
  const v = lastValues(text);
  const promptTokens = v['prompt_tokens'] ?? v['input_tokens'] ?? v['prompt_n'];
  const completionTokens = v['completion_tokens'] ?? v['output_tokens'] ?? v['predicted_n'];
  const tokensPerSecond = v['predicted_per_second'];
  if (promptTokens === undefined && completionTokens === undefined && tokensPerSecond === undefined) return undefined;
  const promptPerSecond = v['prompt_per_second'];
  const cachedTokens = v['cached_tokens'] ?? v['cache_read_input_tokens'] ?? v['cache_n'];
  const out: { -readonly [K in keyof TokenUsage]: TokenUsage[K] } = {};
  if (promptTokens !== undefined) out.promptTokens = promptTokens;
  if (completionTokens !== undefined) out.completionTokens = completionTokens;
  if (tokensPerSecond !== undefined) out.tokensPerSecond = tokensPerSecond;
  if (promptPerSecond !== undefined) out.promptPerSecond = promptPerSecond;
  if (cachedTokens !== undefined) out.cachedTokens = cachedTokens;
  return out;
}
