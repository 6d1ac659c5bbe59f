/**
 * The matrix sets language: which models may run together.
 *
 *   expr := and ('|' and)*          alternatives
 *   and  := atom ('&' atom)*        models that run together (binds tighter than |)
 *   atom := name | '+' set | '(' expr ')'
 *
 * A name is letters, digits, `_`, `-` and `.` (a var or a model id); `+set`
 * inlines another set's expression. Whitespace is ignored. A parse error names
 * the 1-based column it was found at.
 *
 * The tree is kept as written: `&` is never distributed over `|`, so ten
 * groups of ten alternatives stay twenty leaves, not ten billion combinations
 * (the solver projects the tree instead of expanding it).
 */
import { assertNever } from '../errors.ts';

/** A parsed expression. `model` leaves hold a var or a model id until compiled (then always a model id). */
export type MatrixNode =
  | { readonly kind: 'model'; readonly name: string }
  | { readonly kind: 'ref'; readonly set: string }
  | { readonly kind: 'and'; readonly children: readonly MatrixNode[] }
  | { readonly kind: 'or'; readonly children: readonly MatrixNode[] };

export type ParseResult =
  | { readonly ok: true; readonly root: MatrixNode }
  | { readonly ok: false; readonly error: string };

type Token =
  | { readonly kind: 'name' | 'ref'; readonly text: string; readonly at: number }
  | { readonly kind: '&' | '|' | '(' | ')' | 'end'; readonly at: number };

const NAME_CHAR = /[\p{L}\p{N}_.-]/u;

class ParseError extends Error {}

function tokenize(text: string): Token[] {
  const chars = [...text];
  const tokens: Token[] = [];
  let i = 0;
  const word = (): string => {
    const start = i;
    while (i < chars.length && NAME_CHAR.test(chars[i] ?? '')) i++;
    return chars.slice(start, i).join('');
  };
  while (i < chars.length) {
    const ch = chars[i] ?? '';
    const at = i + 1;
    if (/\s/u.test(ch)) i++;
    else if (ch === '&' || ch === '|' || ch === '(' || ch === ')') {
      tokens.push({ kind: ch, at });
      i++;
    } else if (ch === '+') {
      i++;
      const set = word();
      if (set === '') throw new ParseError(`expected a set name after "+" at column ${at}`);
      tokens.push({ kind: 'ref', text: set, at });
    } else if (NAME_CHAR.test(ch)) {
      tokens.push({ kind: 'name', text: word(), at });
    } else {
      throw new ParseError(`unexpected character ${JSON.stringify(ch)} at column ${at} (names use letters, digits, _ - .; operators are & | ( ) +set)`);
    }
  }
  tokens.push({ kind: 'end', at: chars.length + 1 });
  return tokens;
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'name': return `"${t.text}"`;
    case 'ref': return `"+${t.text}"`;
    case 'end': return 'the end of the expression';
    case '&': case '|': case '(': case ')': return `"${t.kind}"`;
    default: return assertNever(t);
  }
}

class Parser {
  readonly #tokens: readonly Token[];
  #pos = 0;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  peek(): Token {
    return this.#tokens[this.#pos] ?? { kind: 'end', at: 0 };
  }

  next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.#pos++;
    return t;
  }

  /** One node for a single child, a flat n-ary node otherwise. */
  list(op: '|' | '&', item: () => MatrixNode): MatrixNode {
    const children = [item()];
    while (this.peek().kind === op) {
      this.next();
      children.push(item());
    }
    if (children.length === 1) return children[0] as MatrixNode;
    return op === '|' ? { kind: 'or', children } : { kind: 'and', children };
  }

  expr(): MatrixNode {
    return this.list('|', () => this.list('&', () => this.atom()));
  }

  atom(): MatrixNode {
    const t = this.next();
    switch (t.kind) {
      case 'name': return { kind: 'model', name: t.text };
      case 'ref': return { kind: 'ref', set: t.text };
      case '(': {
        const inner = this.expr();
        const close = this.next();
        if (close.kind !== ')') throw new ParseError(`missing ")" for the "(" at column ${t.at}: found ${describe(close)} at column ${close.at}`);
        return inner;
      }
      case '&': case '|': case ')': case 'end':
        throw new ParseError(`expected a model name, "+set" or "(" at column ${t.at}, found ${describe(t)}`);
      default: return assertNever(t);
    }
  }
}

/** Parses one set's expression. Never throws. */
export function parseMatrixExpr(text: string): ParseResult {
  if (text.trim() === '') return { ok: false, error: 'empty expression: list the models that may run together, e.g. "a & b"' };
  try {
    const parser = new Parser(tokenize(text));
    const root = parser.expr();
    const rest = parser.peek();
    if (rest.kind !== 'end') throw new ParseError(`unexpected ${describe(rest)} at column ${rest.at} after a complete expression`);
    return { ok: true, root };
  } catch (err) {
    if (err instanceof ParseError) return { ok: false, error: err.message };
    throw err;
  }
}

/** Every node of `root` (pre-order), not following `ref`s. */
export function* matrixNodes(root: MatrixNode): Generator<MatrixNode> {
  yield root;
  switch (root.kind) {
    case 'model': case 'ref': return;
    case 'and': case 'or':
      for (const c of root.children) yield* matrixNodes(c);
      return;
    default: assertNever(root);
  }
}
