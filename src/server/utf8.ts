/**
 * Where a byte string stops being well-formed UTF-8 (Unicode 15, table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF, no truncated
 * sequences). Used to refuse JSON bodies that are not UTF-8 (RFC 8259 §8.1)
 * with the offset of the first bad byte, instead of letting
 * `toString('utf8')` replace it silently with U+FFFD.
 */
import { isUtf8 } from 'node:buffer';

/** [lowest, highest] allowed value of the 2nd byte, by lead byte; later bytes are always 80..BF. */
function secondByteRange(lead: number): readonly [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf]; // no overlong 3-byte forms
  if (lead === 0xed) return [0x80, 0x9f]; // no surrogates D800..DFFF
  if (lead === 0xf0) return [0x90, 0xbf]; // no overlong 4-byte forms
  if (lead === 0xf4) return [0x80, 0x8f]; // nothing above U+10FFFF
  return [0x80, 0xbf];
}

/** Sequence length announced by a lead byte, or 0 when the byte can never start a sequence. */
function sequenceLength(lead: number): number {
  if (lead <= 0x7f) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0; // 80..BF (continuation), C0/C1 (overlong), F5..FF
}

/**
 * The offset of the first byte of the first ill-formed sequence, or -1 when
 * `b` is entirely well-formed. Agrees with `buffer.isUtf8` on validity (which
 * answers the common case at SIMD speed first).
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  if (isUtf8(b)) return -1;
  let i = 0;
  while (i < b.length) {
    const lead = b[i]!;
    const n = sequenceLength(lead);
    if (n === 0 || i + n > b.length) return i;
    if (n > 1) {
      const [lo, hi] = secondByteRange(lead);
      const second = b[i + 1]!;
      if (second < lo || second > hi) return i;
      for (let k = 2; k < n; k++) {
        const c = b[i + k]!;
        if (c < 0x80 || c > 0xbf) return i;
      }
    }
    i += n;
  }
  return -1; // unreachable when isUtf8 said no; kept total for safety
}
