/**
 * Client-supplied strings in error messages and logs: always quoted,
 * escaped and bounded, so a model name like "m\u001b[2J\r\nFAKE LINE" can
 * neither forge a log line nor act on a terminal that prints the message.
 */

/**
 * Characters JSON.stringify leaves raw but a terminal or an editor may act
 * on: DEL, C1 controls (0x9B is CSI in 8-bit terminals), line/paragraph
 * separators, bidi controls ("Trojan Source") and the BOM.
 */
const UNSAFE_AFTER_JSON = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `s` as a JSON string literal (it parses back to `s`, or to its first `max`
 * UTF-16 units plus "…" when longer) with no control or format character left
 * unescaped.
 */
export function quote(s: string, max = 200): string {
  let cut = s;
  if (s.length > max) {
    cut = s.slice(0, max);
    if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1); // never split a surrogate pair
    cut += '…';
  }
  return JSON.stringify(cut).replace(UNSAFE_AFTER_JSON, escape);
}

/**
 * A short description of a JSON value of the wrong type, for "must be a
 * string, got …". Never serializes a whole array or object: a 100,000-deep
 * array overflows JSON.stringify's stack.
 */
export function describeJsonValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (${v.length} items)`;
  if (typeof v === 'string') return `the string ${quote(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `the ${typeof v} ${String(v)}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}
