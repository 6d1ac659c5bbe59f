import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { firstInvalidUtf8 } from '../../src/server/utf8.ts';

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

describe('firstInvalidUtf8', () => {
  it('is -1 for well-formed text, including every sequence length and the edges of the ranges', () => {
    for (const s of ['', 'plain ascii', 'é', '模型', '🦙', '\u0000\u007f\u0080\u07ff\u0800\uffff', '\u{10000}\u{10ffff}', '\ufffd']) {
      assert.equal(firstInvalidUtf8(Buffer.from(s)), -1, JSON.stringify(s));
    }
  });

  it('names the first byte of the first ill-formed sequence', () => {
    const cases: Array<[string, Buffer, number]> = [
      ['lone continuation byte', b(0x61, 0x80, 0x61), 1],
      ['0xff', b(0x61, 0x62, 0xff), 2],
      ['overlong 2-byte (C0 80)', b(0xc0, 0x80), 0],
      ['overlong 3-byte (E0 80 80)', b(0x61, 0xe0, 0x80, 0x80), 1],
      ['overlong 4-byte (F0 80 80 80)', b(0xf0, 0x80, 0x80, 0x80), 0],
      ['UTF-16 surrogate (ED A0 80)', b(0x7b, 0xed, 0xa0, 0x80, 0x7d), 1],
      ['above U+10FFFF (F4 90 80 80)', b(0xf4, 0x90, 0x80, 0x80), 0],
      ['F5 lead byte', b(0xf5, 0x80, 0x80, 0x80), 0],
      ['truncated at the end', b(0x61, 0xe6, 0xa8), 1],
      ['truncated before ASCII', b(0xe6, 0xa8, 0x61), 0],
      ['valid, then bad', Buffer.concat([Buffer.from('模型'), b(0xc3, 0x28)]), 6],
    ];
    for (const [what, bytes, at] of cases) {
      assert.equal(firstInvalidUtf8(bytes), at, what);
      assert.equal(isUtf8(bytes), false, `${what}: Node agrees it is invalid`);
    }
  });

  it('property: agrees with buffer.isUtf8, and the offset is exactly where a valid prefix stops', () => {
    // Mostly-valid input: UTF-8 text with random bytes spliced in, plus pure random bytes.
    const text = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => Buffer.from(s));
    const noisy = fc.tuple(text, fc.uint8Array({ maxLength: 4 }), text).map(([a, n, c]) => Buffer.concat([a, n, c]));
    const input = fc.oneof(text, noisy, fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)));
    fc.assert(
      fc.property(input, (bytes) => {
        const at = firstInvalidUtf8(bytes);
        assert.equal(at === -1, isUtf8(bytes));
        if (at === -1) return;
        assert.ok(isUtf8(bytes.subarray(0, at)), 'everything before the offset is valid');
        for (let n = 1; n <= 4; n++) assert.ok(!isUtf8(bytes.subarray(at, at + n)), `no character of ${n} bytes starts at the offset`);
      }),
      { numRuns: 3000 },
    );
  });
});
