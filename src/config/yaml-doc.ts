/**
 * YAML parsing for the config loader, plus the two look-ups that turn issues
 * into something a user can find: offset -> key path, key path -> line.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { IssueList, KeyPath } from './issues.ts';

/** A parsed config text with its line index. */
export interface ParsedYaml {
  readonly doc: Document;
  readonly lines: LineCounter;
}

/**
 * Parses one YAML document (YAML 1.2 core schema, `<<` merge keys allowed as
 * in Go's yaml.v3, duplicate keys are errors). Syntax errors are added to
 * `issues` with their line; returns undefined if there were any.
 */
export function parseYaml(text: string, issues: IssueList): ParsedYaml | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length === 0) return { doc, lines };
  for (const err of doc.errors) {
    const offset = err.pos[0];
    const line = lines.linePos(offset).line;
    const where = pathAt(doc, offset);
    const msg = err.message.split('\n')[0] ?? err.message;
    issues.addAtLine(line, where, `YAML syntax error: ${msg}`);
  }
  return undefined;
}

/** Converts the document to plain JS data (maps become objects, at most 100 alias expansions). */
export function toData(parsed: ParsedYaml): unknown {
  return parsed.doc.toJS({ maxAliasCount: 100 });
}

function contains(node: Node | null | undefined, offset: number): boolean {
  const r = node?.range;
  return r != null && offset >= r[0] && offset < Math.max(r[1], r[2]);
}

function keyName(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** The deepest key path whose key or value spans `offset` (`[]` at the top level). */
export function pathAt(doc: Document, offset: number): KeyPath {
  const path: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    let next: unknown;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        const value = pair.value as Node | null;
        if (contains(key, offset) || contains(value, offset)) {
          path.push(keyName(key));
          next = contains(value, offset) ? value : undefined;
          break;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        if (next === undefined && contains(item as Node, offset)) {
          path.push(i);
          next = item;
        }
      });
    }
    if (next === undefined) return path;
    node = next;
  }
}

/** The 1-based line where the deepest existing prefix of `path` starts (its key, or its item). */
export function lineOf(parsed: ParsedYaml, path: KeyPath): number | undefined {
  let node: unknown = parsed.doc.contents;
  let start: number | undefined = (node as Node | null)?.range?.[0];
  for (const seg of path) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyName(p.key) === String(seg));
      if (pair === undefined) break;
      start = (pair.key as Node | null)?.range?.[0] ?? start;
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
      start = (next as Node | undefined)?.range?.[0] ?? start;
    }
    if (next === undefined || next === null) break;
    node = next;
  }
  return start === undefined ? undefined : parsed.lines.linePos(start).line;
}

/**
 * Source order of the keys of the map at `path`. JS objects list integer-like
 * keys first, which would change macro declaration order; this does not.
 * Falls back to `undefined` when the node is not a plain map (e.g. uses `<<`).
 */
export function keyOrder(parsed: ParsedYaml, path: KeyPath): string[] | undefined {
  const node = parsed.doc.getIn(path, true);
  if (!isMap(node)) return undefined;
  const keys = node.items.map((p) => keyName(p.key));
  return keys.includes('<<') ? undefined : keys;
}
