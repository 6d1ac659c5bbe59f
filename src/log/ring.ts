/**
 * A bounded log history with live subscribers. Writers never block: a
 * subscriber is called synchronously and must not throw or do slow work; the
 * HTTP log stream copes with slow readers by dropping (see src/server/logs.ts).
 */
export type LogListener = (chunk: string) => void;

export class LogRing {
  readonly #maxBytes: number;
  #chunks: string[] = [];
  #bytes = 0;
  readonly #listeners = new Set<LogListener>();

  constructor(maxBytes = 100 * 1024) {
    this.#maxBytes = maxBytes;
  }

  /** Append text (any size; only the last maxBytes are kept) and notify subscribers. */
  push(chunk: string): void {
    if (chunk.length === 0) return;
    const kept = chunk.length > this.#maxBytes ? chunk.slice(chunk.length - this.#maxBytes) : chunk;
    this.#chunks.push(kept);
    this.#bytes += kept.length;
    while (this.#bytes > this.#maxBytes && this.#chunks.length > 1) {
      this.#bytes -= this.#chunks.shift()!.length;
    }
    for (const l of this.#listeners) l(chunk);
  }

  /** Everything kept, oldest first. */
  history(): string {
    return this.#chunks.join('');
  }

  /** The last `n` non-empty lines, for error messages. */
  lastLines(n: number): string[] {
    const lines = this.history().split('\n').filter((l) => l.trim() !== '');
    return lines.slice(-n);
  }

  subscribe(listener: LogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
  }
}
