/**
 * `cmd` / `cmdStop` handling. No shell is ever involved: a command becomes an
 * argv array that the process layer spawns directly.
 *
 * Steps, in the order the loader applies them:
 * 1. `stripCommentLines` (before macro expansion, so macros in comments are
 *    never expanded or required).
 * 2. macro expansion (src/config/macros.ts).
 * 3. `splitCommand`: trailing-`\` continuations become spaces, then POSIX
 *    word splitting: whitespace separates words; '…' is literal; in "…" a
 *    backslash escapes only $ ` " \ and newline; elsewhere a backslash escapes
 *    the next character. `$VAR`, `~` and globs are NOT expanded. Unquoted
 *    shell operators (| & ; < > ` $( ) and words starting with # are errors,
 *    because they would silently become literal arguments.
 */

/** Removes the lines whose first non-space character is `#`. */
export function stripCommentLines(cmd: string): string {
  return cmd
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
}

/** Turns lines ending in an odd number of backslashes into "line-without-\ + space" (as llama-swap does). */
export function joinContinuations(cmd: string): string {
  return cmd
    .split('\n')
    .map((line) => {
      const trimmed = line.trimEnd();
      const run = /\\+$/.exec(trimmed)?.[0].length ?? 0;
      return run % 2 === 1 ? `${trimmed.slice(0, -1)} ` : line;
    })
    .join('\n');
}

/** argv, or the reason the command cannot be split. */
export type SplitResult = { readonly ok: true; readonly argv: string[] } | { readonly ok: false; readonly error: string };

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const OPERATOR = /^(?:\$\(|[|&;<>`]+)/;
const DOUBLE_ESCAPABLE = new Set(['$', '`', '"', '\\', '\n']);

function operatorError(op: string): string {
  return (
    `shell operator ${JSON.stringify(op)} in command: commands are not run by a shell. ` +
    `Quote it if it is a literal argument, or run a shell explicitly: sh -c "..."`
  );
}

/** Splits a comment-free, macro-expanded command into argv (see the file comment for the rules). */
export function splitCommand(cmd: string): SplitResult {
  const s = joinContinuations(cmd);
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (WHITESPACE.has(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: 'unterminated single quote in command' };
      word += s.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return { ok: false, error: 'unterminated double quote in command' };
        const d = s[i] as string;
        if (d === '"') break;
        const next = s[i + 1];
        if (d === '\\' && next !== undefined && DOUBLE_ESCAPABLE.has(next)) {
          if (next !== '\n') word += next;
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (c === '\\') {
      const next = s[i + 1];
      if (next === undefined) return { ok: false, error: 'command ends with a lone backslash' };
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
      i += 2;
    } else if (c === '#' && !inWord) {
      return {
        ok: false,
        error: 'inline # comment in command: put comments on their own line (starting with #), or quote the argument',
      };
    } else {
      const op = OPERATOR.exec(s.slice(i, i + 8))?.[0];
      if (op !== undefined) return { ok: false, error: operatorError(op) };
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) argv.push(word);
  if (argv.length === 0) return { ok: false, error: 'empty command (after removing comment lines)' };
  return { ok: true, argv };
}
