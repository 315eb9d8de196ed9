import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { snappyDecompress, snappyLength } from './snappy.js';
import { snappyCompress } from '../../test/helpers/tf-builders.js';
import { isModelwiseError } from '../errors.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('snappy', () => {
  it('round-trips literals and overlapping copies', () => {
    const inputs = [enc(''), enc('a'), enc('hello hello hello hello hello'), new Uint8Array(5000).fill(7), Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) % 251)];
    for (const x of inputs) {
      const c = snappyCompress(x);
      assert.equal(snappyLength(c), x.length);
      assert.deepEqual(snappyDecompress(c), x);
    }
  });

  it('decodes every element kind (1-, 2- and 4-byte offsets, long literals)', () => {
    // "abcd" literal, copy-1 (len 4, offset 4), copy-4 (len 2, offset 1), literal of 61 bytes (1 extra length byte)
    const lit61 = new Uint8Array(61).fill(0x7a);
    const c = new Uint8Array([
      4 + 10 + 61, 12, 0x61, 0x62, 0x63, 0x64, // preamble 75 (1 byte), literal len 4
      0b000_000_01, 4, // copy-1: len 4, offset 4 → "abcd"
      ((2 - 1) << 2) | 3, 1, 0, 0, 0, // copy-4: len 2, offset 1 → "dd"
      ((4 - 1) << 2) | 2, 2, 0, // copy-2: len 4, offset 2 → "dddd"
      60 << 2, 60, ...lit61,
    ]);
    const out = snappyDecompress(c);
    assert.equal(new TextDecoder().decode(out.subarray(0, 14)), 'abcdabcddddddd');
    assert.deepEqual(out.subarray(14), lit61);
  });

  it('refuses lying lengths, bad offsets and cut input with MALFORMED / LIMIT_EXCEEDED', () => {
    const bad: [string, Uint8Array, string][] = [
      ['offset past output', new Uint8Array([8, 0, 0x61, 0b000_111_01, 9]), 'MALFORMED'],
      ['zero offset', new Uint8Array([8, 0, 0x61, 0b000_111_01, 0]), 'MALFORMED'],
      ['literal past input', new Uint8Array([10, 36, 1, 2]), 'MALFORMED'],
      ['short output', new Uint8Array([5, 0, 0x61]), 'MALFORMED'],
      ['output overrun', new Uint8Array([1, 4, 1, 2]), 'MALFORMED'],
      ['huge stated length', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0]), 'LIMIT_EXCEEDED'],
      ['cut preamble', new Uint8Array([0x80]), 'MALFORMED'],
      ['cut copy', new Uint8Array([4, 0, 0x61, 0b10]), 'MALFORMED'],
    ];
    for (const [what, b, code] of bad) {
      assert.throws(() => snappyDecompress(b, { maxOutput: 1 << 20 }), (e: unknown) => isModelwiseError(e) && e.code === code, what);
    }
    // a stated length far beyond what the input could expand to is refused before allocating
    assert.throws(() => snappyDecompress(new Uint8Array([0x80, 0x80, 0x40, 0]), { maxOutput: 1 << 30 }), /states/);
  });
});
