/**
 * All log histories: the proxy's own, every upstream's combined, one per
 * model, and the combined view that /logs shows (per `logToStdout`).
 */
import type { LogToStdout } from '../config/types.ts';
import { LogRing } from './ring.ts';

export class LogHub {
  readonly proxy = new LogRing();
  readonly upstream = new LogRing();
  /** What /logs and /logs/stream show, and what reaches stdout. */
  readonly combined = new LogRing();
  readonly #models = new Map<string, LogRing>();
  /** Per model: the unfinished last line of its output, held until its newline arrives. */
  readonly #partial = new Map<string, string>();
  readonly #mode: LogToStdout;
  readonly #stdout: (text: string) => void;

  constructor(mode: LogToStdout, stdout: (text: string) => void = (t) => void process.stdout.write(t)) {
    this.#mode = mode;
    this.#stdout = stdout;
  }

  model(id: string): LogRing {
    let r = this.#models.get(id);
    if (r === undefined) {
      r = new LogRing();
      this.#models.set(id, r);
    }
    return r;
  }

  hasModel(id: string): boolean {
    return this.#models.has(id);
  }

  /** A line (or chunk) from the proxy's logger. */
  writeProxy(text: string): void {
    this.proxy.push(text);
    if (this.#mode === 'proxy' || this.#mode === 'both') this.#emit(text);
  }

  /**
   * Output of a model's server (already pushed to its own ring by the process
   * layer). Complete lines are prefixed with `[model] `; a partial last line
   * waits for the rest (at most 8 KiB) so lines of two servers never mix.
   */
  writeUpstream(model: string, text: string): void {
    const buffered = (this.#partial.get(model) ?? '') + text;
    const cut = buffered.lastIndexOf('\n') + 1;
    const rest = buffered.slice(cut);
    if (rest.length > 8192) {
      this.#partial.delete(model);
      this.#writeLines(model, `${buffered}\n`);
      return;
    }
    this.#partial.set(model, rest);
    if (cut > 0) this.#writeLines(model, buffered.slice(0, cut));
  }

  #writeLines(model: string, lines: string): void {
    const prefixed = lines.replace(/^(?=.)/gm, `[${model}] `);
    this.upstream.push(prefixed);
    if (this.#mode === 'upstream' || this.#mode === 'both') this.#emit(prefixed);
  }

  #emit(text: string): void {
    this.combined.push(text);
    this.#stdout(text);
  }
}
