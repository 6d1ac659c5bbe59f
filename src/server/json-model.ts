/**
 * In-place edits of top-level members of a JSON object: one member's value
 * for `useModelName` (`replaceTopLevelValue`), several members for the
 * model's `filters` (`editMembers`).
 *
 * Re-serializing a parsed body (`JSON.stringify({ ...json, model })`) loses
 * integers beyond 2^53 (a 20-digit `seed`), `-0`, number spelling, key order
 * and whitespace. Like llama-swap (which sets the value with sjson), we splice
 * the new value over the old one's bytes and leave every other byte alone.
 *
 * Contract of the scanner (`topLevelValueSpans`):
 * - Input: the raw body bytes, which the caller has already accepted with
 *   `JSON.parse(body.toString('utf8'))` as a JSON *object*. It works on bytes,
 *   not on a decoded string, so bytes we do not touch (including any invalid
 *   UTF-8 inside strings) are forwarded exactly as received. This is safe
 *   because every structural character is ASCII and UTF-8 continuation and
 *   lead bytes are all >= 0x80.
 * - It tracks nesting depth, so members of nested objects (e.g.
 *   `metadata.model`) are never matched, and it skips strings honouring
 *   backslash escapes, so `"say \"model\""` is never mistaken for a key.
 * - Keys are compared after JSON decoding, as JSON.parse compares them:
 *   `"mod\u0065l"` is the key `model`. Keys without a backslash are compared
 *   byte-for-byte (fast path); keys with one are decoded with JSON.parse.
 * - Duplicate keys: JSON.parse keeps the last, other parsers keep the first.
 *   Every top-level occurrence is returned (in order), and `replaceTopLevelValue`
 *   replaces all of them, so every upstream sees the new value whichever
 *   duplicate it honours.
 * - A span is [start, end) in bytes and covers exactly the value: not the
 *   whitespace around it, the colon or the comma.
 * - On input that is not a JSON object it returns `[]`; on otherwise invalid
 *   input it still terminates (every step advances) but the spans mean nothing.
 */

export interface Span {
  readonly start: number;
  readonly end: number;
}

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]

/** JSON whitespace is exactly these four (RFC 8259 §2); nothing else may be skipped. */
function isWhitespace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipWhitespace(b: Uint8Array, i: number): number {
  while (i < b.length && isWhitespace(b[i])) i++;
  return i;
}

/** `b[i]` is an opening quote; returns the index just past the closing quote. */
function skipString(b: Uint8Array, i: number): number {
  i++;
  while (i < b.length) {
    const c = b[i];
    if (c === BACKSLASH) i += 2; // the escaped byte is never a closing quote (`\uXXXX` is plain hex after it)
    else if (c === QUOTE) return i + 1;
    else i++;
  }
  return b.length;
}

/** `b[i]` starts a value; returns the index just past it. */
function skipValue(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    while (i < b.length) {
      const d = b[i];
      if (d === QUOTE) {
        i = skipString(b, i);
        continue;
      }
      if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
      else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return b.length;
  }
  // number, true, false, null: runs up to whitespace or the next delimiter
  while (i < b.length) {
    const d = b[i];
    if (isWhitespace(d) || d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY) break;
    i++;
  }
  return i;
}

/** Whether the key string spanning [start, end) (quotes included) decodes to `key`. */
function keyEquals(b: Uint8Array, start: number, end: number, key: string, keyBytes: Buffer): boolean {
  const raw = Buffer.from(b.buffer, b.byteOffset + start, end - start);
  if (!raw.includes(BACKSLASH)) {
    return raw.length === keyBytes.length + 2 && keyBytes.equals(raw.subarray(1, -1));
  }
  try {
    return JSON.parse(raw.toString('utf8')) === key;
  } catch {
    return false; // invalid input: see the contract above
  }
}

/** Spans of the values of every top-level member named `key`, in document order. */
export function topLevelValueSpans(b: Uint8Array, key: string): Span[] {
  const keyBytes = Buffer.from(key, 'utf8');
  const spans: Span[] = [];
  let i = skipWhitespace(b, 0);
  if (b[i] !== OPEN_OBJECT) return spans;
  i++;
  // Each turn reads one member: ws "key" ws : ws value ws (, | })
  while (i < b.length) {
    i = skipWhitespace(b, i);
    if (b[i] !== QUOTE) break; // `}` of an empty object (or invalid input)
    const keyStart = i;
    i = skipString(b, i);
    const matches = keyEquals(b, keyStart, i, key, keyBytes);
    i = skipWhitespace(b, i);
    if (b[i] !== COLON) break;
    i = skipWhitespace(b, i + 1);
    const start = i;
    i = skipValue(b, i);
    if (i === start) break; // no value: invalid input, stop rather than spin
    if (matches) spans.push({ start, end: i });
    i = skipWhitespace(b, i);
    if (b[i] !== COMMA) break; // `}`: the object is done
    i++;
  }
  return spans;
}

/**
 * `body` with the value of every top-level member `key` replaced by
 * `valueJson` (already-serialized JSON), every other byte unchanged. Returns
 * `body` itself when the object has no such member.
 */
export function replaceTopLevelValue(body: Buffer, key: string, valueJson: string): Buffer {
  const spans = topLevelValueSpans(body, key);
  if (spans.length === 0) return body;
  const value = Buffer.from(valueJson, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  for (const s of spans) {
    parts.push(body.subarray(at, s.start), value);
    at = s.end;
  }
  parts.push(body.subarray(at));
  return Buffer.concat(parts);
}

/** One top-level member: the key decoded, [keyStart, end) its bytes from the key's opening quote to the end of its value. */
export interface Member {
  readonly key: string;
  readonly keyStart: number;
  readonly end: number;
}

function decodeKey(b: Uint8Array, start: number, end: number): string {
  const raw = Buffer.from(b.buffer, b.byteOffset + start, end - start);
  if (!raw.includes(BACKSLASH)) return raw.toString('utf8', 1, raw.length - 1);
  try {
    return String(JSON.parse(raw.toString('utf8')));
  } catch {
    return raw.toString('utf8', 1, raw.length - 1); // invalid input: see the contract above
  }
}

/** Every top-level member, in document order (the same scan as `topLevelValueSpans`). */
export function topLevelMembers(b: Uint8Array): Member[] {
  const members: Member[] = [];
  let i = skipWhitespace(b, 0);
  if (b[i] !== OPEN_OBJECT) return members;
  i++;
  while (i < b.length) {
    i = skipWhitespace(b, i);
    if (b[i] !== QUOTE) break;
    const keyStart = i;
    i = skipString(b, i);
    const key = decodeKey(b, keyStart, i);
    i = skipWhitespace(b, i);
    if (b[i] !== COLON) break;
    i = skipWhitespace(b, i + 1);
    const start = i;
    i = skipValue(b, i);
    if (i === start) break;
    members.push({ key, keyStart, end: i });
    i = skipWhitespace(b, i);
    if (b[i] !== COMMA) break;
    i++;
  }
  return members;
}

/** Marks a member to delete in `editMembers`. */
export const REMOVE: unique symbol = Symbol('remove');

/**
 * `body` (a JSON object) with its top-level members edited: a key mapped to
 * REMOVE is deleted (every occurrence), a key mapped to a value gets that
 * value (every occurrence; appended at the end when absent). Members not
 * named in `edits` keep their bytes, so their numbers and strings reach the
 * upstream exactly as sent; members are joined by `,` without the original
 * whitespace between them.
 */
export function editMembers(body: Buffer, edits: ReadonlyMap<string, unknown>): Buffer {
  const parts: Buffer[] = [];
  const done = new Set<string>();
  for (const m of topLevelMembers(body)) {
    if (!edits.has(m.key)) {
      parts.push(body.subarray(m.keyStart, m.end));
      continue;
    }
    done.add(m.key);
    const value = edits.get(m.key);
    if (value !== REMOVE) parts.push(Buffer.from(`${JSON.stringify(m.key)}:${JSON.stringify(value)}`));
  }
  for (const [key, value] of edits) {
    if (!done.has(key) && value !== REMOVE) parts.push(Buffer.from(`${JSON.stringify(key)}:${JSON.stringify(value)}`));
  }
  const comma = Buffer.from(',');
  const joined = parts.flatMap((p, i) => (i === 0 ? [p] : [comma, p]));
  return Buffer.concat([Buffer.from('{'), ...joined, Buffer.from('}')]);
}
