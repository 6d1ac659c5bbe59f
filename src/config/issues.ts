/**
 * Config problems, collected rather than thrown one by one: every phase of the
 * loader (env, YAML, schema, macros, normalize) appends to one `IssueList` and
 * the loader throws a single `ConfigError` listing them all.
 */

/** One problem in a config file. */
export interface ConfigIssue {
  /** Key path such as `models.llama.ttl`, `apiKeys[1]`, `models["qwen2.5"].cmd`; `''` = the whole file. */
  readonly path: string;
  /** What is wrong and what is expected, without the path. */
  readonly message: string;
  /** The offending value, when there is one. */
  readonly value?: unknown;
  /** 1-based line in the config text, when it could be located. */
  readonly line?: number;
  /** The file the line is in, when the config was merged from several files (--config-dir). */
  readonly file?: string;
}

/** A key path as segments: map keys are strings, sequence indexes numbers. */
export type KeyPath = readonly (string | number)[];

const SIMPLE_KEY = /^[A-Za-z0-9_$(){}-]+$/;

/** Formats segments as `a.b[0]["x.y"]`; keys that would be ambiguous (dots, spaces) are bracket-quoted. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (SIMPLE_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A short, single-line rendering of a received value for messages. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

interface PendingIssue {
  readonly path: KeyPath;
  readonly message: string;
  readonly value?: unknown;
  readonly hasValue: boolean;
  readonly line: number | undefined;
}

function startsWith(path: KeyPath, prefix: KeyPath): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => path[i] === seg);
}

/** Accumulates issues; duplicate (path, message) pairs are kept once. */
export class IssueList {
  readonly #items: PendingIssue[] = [];
  readonly #seen = new Set<string>();

  /** Records a problem at `path`. Pass `value` to show what was received. */
  add(path: KeyPath, message: string, ...value: [] | [unknown]): void {
    this.#push(path, message, undefined, value);
  }

  /** Like `add`, for problems whose line is known better than their path's (text-level phases). */
  addAtLine(line: number, path: KeyPath, message: string, ...value: [] | [unknown]): void {
    this.#push(path, message, line, value);
  }

  #push(path: KeyPath, message: string, line: number | undefined, value: [] | [unknown]): void {
    const key = `${formatPath(path)}\u0000${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#items.push({ path, message, value: value[0], hasValue: value.length > 0, line });
  }

  get size(): number {
    return this.#items.length;
  }

  /** Whether an issue was recorded at `prefix` or below it (a later phase skips checks that would repeat it). */
  under(prefix: KeyPath): boolean {
    return this.#items.some((it) => startsWith(it.path, prefix));
  }

  /** Whether an issue was recorded at `path` or above it. */
  atOrAbove(path: KeyPath): boolean {
    return this.#items.some((it) => startsWith(path, it.path));
  }

  /** Whether one of the first `count` issues is at `path`, above it or below it. */
  touches(path: KeyPath, count = this.#items.length): boolean {
    return this.#items.slice(0, count).some((it) => startsWith(it.path, path) || startsWith(path, it.path));
  }

  /**
   * Resolves each issue to a `ConfigIssue`, asking `lineOf` where its path
   * starts (and `fileOf` in which file, for a merged config), ordered by line (issues without a line last, otherwise as added).
   */
  toIssues(lineOf: (path: KeyPath) => number | undefined = () => undefined, fileOf?: (path: KeyPath) => string | undefined): ConfigIssue[] {
    const issues = this.#items.map((it): ConfigIssue => {
      const line = it.line ?? lineOf(it.path);
      const file = fileOf?.(it.path);
      return {
        path: formatPath(it.path),
        message: it.message,
        ...(it.hasValue ? { value: it.value } : {}),
        ...(line === undefined ? {} : { line }),
        ...(file === undefined ? {} : { file }),
      };
    });
    return issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  }
}

/** Levenshtein distance, for "did you mean" hints on short names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + cost);
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

/** The candidate closest to `name` (case-insensitive), if it is close enough to be a likely typo. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const score = distance(lower, c.toLowerCase());
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  const limit = Math.max(1, Math.floor(name.length / 3));
  return bestScore <= limit ? best : undefined;
}

/** `" (did you mean X?)"` or `""`. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const hit = closest(name, candidates);
  return hit === undefined ? '' : ` (did you mean ${hit}?)`;
}
