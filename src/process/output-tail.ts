/**
 * The last few KB of one run's output, for error messages ("exited during
 * start … last output: …"). Per run, unlike the model's LogRing, so a failed
 * start never quotes the previous run's lines.
 */
export class OutputTail {
  readonly #maxChars: number;
  #text = '';

  constructor(maxChars = 8 * 1024) {
    this.#maxChars = maxChars;
  }

  push(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > 2 * this.#maxChars) this.#text = this.#text.slice(-this.#maxChars);
  }

  /** The last `n` non-empty lines, trailing whitespace trimmed. */
  lastLines(n: number): string[] {
    const lines = this.#text
      .slice(-this.#maxChars)
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l !== '');
    return lines.slice(-n);
  }

  /** "last output:\n  a\n  b" or "no output", for messages. */
  describe(n = 10): string {
    const lines = this.lastLines(n);
    return lines.length === 0 ? 'no output' : `last output:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  }
}
