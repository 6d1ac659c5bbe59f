/**
 * Phase 1 of loading: `${env.NAME}` substitution on the raw config text, as
 * llama-swap does (so a variable may supply a number, e.g. `startPort: ${env.P}`).
 *
 * Contract:
 * 1. A reference inside a YAML comment, or on a line whose first non-space
 *    character is `#` (which also covers commented-out `cmd` lines), is never
 *    required: it is replaced if the variable is set and left alone otherwise.
 * 2. Anywhere else an unset variable is an issue naming it.
 * 3. Values containing a newline, CR or NUL are rejected (they would change
 *    the YAML structure).
 * 4. Inside a double-quoted scalar `\` and `"` are escaped, inside a
 *    single-quoted one `'` is doubled, so the parsed string equals the
 *    variable's value. Elsewhere the value is inserted verbatim.
 */
import { parseDocument, Parser } from 'yaml';
import type { IssueList, KeyPath } from './issues.ts';
import { pathAt } from './yaml-doc.ts';

const ENV_REF = /\$\{env\.([A-Za-z_][A-Za-z0-9_]*)\}/g;

type Context = 'comment' | 'double' | 'single' | 'plain';

interface Span {
  readonly start: number;
  readonly end: number;
  readonly kind: Context;
}

/** Comment and quoted-scalar spans of `text`, from yaml's concrete syntax tree (tolerant of broken YAML). */
function lexicalSpans(text: string): Span[] {
  const spans: Span[] = [];
  const kinds: Record<string, Context> = {
    comment: 'comment',
    'double-quoted-scalar': 'double',
    'single-quoted-scalar': 'single',
  };
  const walk = (tok: unknown): void => {
    if (Array.isArray(tok)) {
      for (const t of tok) walk(t);
      return;
    }
    if (tok === null || typeof tok !== 'object') return;
    const rec = tok as Record<string, unknown>;
    const kind = typeof rec['type'] === 'string' ? kinds[rec['type']] : undefined;
    if (kind !== undefined && typeof rec['offset'] === 'number' && typeof rec['source'] === 'string') {
      spans.push({ start: rec['offset'], end: rec['offset'] + rec['source'].length, kind });
    }
    for (const [key, value] of Object.entries(rec)) if (key !== 'source') walk(value);
  };
  for (const token of new Parser().parse(text)) walk(token);
  return spans;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function contextAt(text: string, spans: readonly Span[], offset: number): Context {
  const start = lineStart(text, offset);
  if (text.slice(start, offset).trimStart().startsWith('#')) return 'comment';
  return spans.find((s) => offset >= s.start && offset < s.end)?.kind ?? 'plain';
}

function escapeFor(kind: Context, value: string): string {
  if (kind === 'double') return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
  if (kind === 'single') return value.replaceAll("'", "''");
  return value;
}

/**
 * Returns `text` with every `${env.NAME}` replaced from `env`; problems go to
 * `issues` (with the line and, when the text parses, the key path).
 */
export function substituteEnv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  issues: IssueList,
): string {
  if (!text.includes('${env.')) return text;
  const spans = lexicalSpans(text);
  let located: ReturnType<typeof parseDocument> | undefined;
  const locate = (offset: number): KeyPath => {
    located ??= parseDocument(text, { merge: true });
    return located.errors.length === 0 ? pathAt(located, offset) : [];
  };
  const lineAt = (offset: number): number => text.slice(0, offset).split('\n').length;

  return text.replace(ENV_REF, (ref: string, name: string, offset: number) => {
    const kind = contextAt(text, spans, offset);
    const value = env[name];
    if (value === undefined) {
      if (kind !== 'comment') {
        issues.addAtLine(lineAt(offset), locate(offset), `environment variable ${name} is not set (used as ${ref})`);
      }
      return ref;
    }
    if (/[\n\r\0]/.test(value)) {
      if (kind !== 'comment') {
        issues.addAtLine(
          lineAt(offset),
          locate(offset),
          `environment variable ${name} contains a newline or NUL character, which cannot be substituted into YAML`,
        );
      }
      return ref;
    }
    return escapeFor(kind, value);
  });
}
