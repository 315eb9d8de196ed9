/**
 * src/io/reader.ts: SequentialReader field reads (both byte orders, 64-bit edges), reads that
 * straddle its chunk boundary, and the errors for lengths past the end.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ModelwiseError } from '../src/errors.js';
import { BytesSource, CountingSource } from '../src/io/source.js';
import { SequentialReader, shortestF32 } from '../src/io/reader.js';

function isCode(code: string) {
  return (e: unknown) => e instanceof ModelwiseError && e.code === code;
}

/** Every field kind, in both byte orders, from a reference encoding by DataView/BigInt. */
function encode(le: boolean): Uint8Array {
  const b = new Uint8Array(256);
  const dv = new DataView(b.buffer);
  let p = 0;
  dv.setUint8(p, 0xfe), (p += 1);
  dv.setInt8(p, -3), (p += 1);
  dv.setUint16(p, 0xbeef, le), (p += 2);
  dv.setInt16(p, -2, le), (p += 2);
  dv.setUint32(p, 0xdeadbeef, le), (p += 4);
  dv.setInt32(p, -123456, le), (p += 4);
  dv.setFloat32(p, 1e-5, le), (p += 4);
  dv.setFloat64(p, Math.PI, le), (p += 8);
  for (const v of [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n]) dv.setBigUint64(p, v, le), (p += 8);
  for (const v of [-1n, -(2n ** 32n), -(2n ** 53n) + 1n, -(2n ** 53n), -(2n ** 63n), 2n ** 53n - 1n, 2n ** 63n - 1n]) dv.setBigInt64(p, v, le), (p += 8);
  return b.subarray(0, p);
}

async function readAll(r: SequentialReader): Promise<unknown[]> {
  const out: unknown[] = [await r.u8(), await r.i8(), await r.u16(), await r.i16(), await r.u32(), await r.i32(), await r.f32(), await r.f64()];
  for (let i = 0; i < 7; i++) out.push(await r.u64());
  for (let i = 0; i < 7; i++) out.push(await r.i64());
  return out;
}

const EXPECTED = [
  0xfe, -3, 0xbeef, -2, 0xdeadbeef, -123456, 1e-5, Math.PI,
  0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, '9007199254740992', '18446744073709551615',
  -1, -(2 ** 32), Number.MIN_SAFE_INTEGER, '-9007199254740992', '-9223372036854775808', Number.MAX_SAFE_INTEGER, '9223372036854775807',
];

describe('SequentialReader', () => {
  for (const le of [true, false]) {
    for (const chunk of [256 * 1024, 1, 3, 7]) {
      it(`reads every field kind (${le ? 'little' : 'big'}-endian, chunk ${chunk})`, async () => {
        const bytes = encode(le);
        const r = new SequentialReader(new BytesSource(bytes, 'f.bin'), 0, chunk, le);
        assert.deepEqual(await readAll(r), EXPECTED);
        assert.equal(r.offset, bytes.length);
        assert.equal(r.remaining, 0);
      });
    }
  }
  it('u64n refuses values beyond 2^53 with MALFORMED naming the field and offset', async () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(8, 2n ** 60n, true);
    const r = new SequentialReader(new BytesSource(b, 'n.bin'), 8);
    await assert.rejects(r.u64n('tensor count'), (e: unknown) => e instanceof ModelwiseError && e.code === 'MALFORMED' && e.offset === 8 && /tensor count/.test(e.message));
  });
  it('bytes, string and skip cross chunk boundaries and report EOF with the offset', async () => {
    const text = 'hello, wörld — a string longer than the chunk';
    const enc = new TextEncoder().encode(text);
    const b = new Uint8Array(4 + enc.length + 4);
    new DataView(b.buffer).setUint32(0, enc.length, true);
    b.set(enc, 4);
    new DataView(b.buffer).setUint32(4 + enc.length, 7, true);
    const src = new CountingSource(new BytesSource(b, 's.bin'));
    const r = new SequentialReader(src, 0, 5);
    assert.equal(await r.string(await r.u32()), text);
    assert.equal(await r.u32(), 7);
    assert.equal(r.bytesFetched, src.bytesRead);
    r.seek(2);
    assert.deepEqual(await r.bytes(3), b.subarray(2, 5));
    r.skip(b.length - 5);
    assert.equal(r.remaining, 0);
    await assert.rejects(r.u8('trailer'), (e: unknown) => e instanceof ModelwiseError && e.code === 'UNEXPECTED_EOF' && e.offset === b.length && /trailer/.test(e.message));
  });
  it('refuses lengths past the end or invalid before reading or allocating', async () => {
    const src = new CountingSource(new BytesSource(new Uint8Array(100), 'x.bin'));
    const r = new SequentialReader(src, 90);
    await assert.rejects(r.string(1e12, 'name'), isCode('MALFORMED'));
    await assert.rejects(r.bytes(-1), isCode('MALFORMED'));
    await assert.rejects(r.bytes(1.5), isCode('MALFORMED'));
    await assert.rejects(r.bytes(11), isCode('UNEXPECTED_EOF'));
    assert.throws(() => r.skip(11), isCode('UNEXPECTED_EOF'));
    assert.throws(() => r.skip(-1), isCode('UNEXPECTED_EOF'));
    assert.equal(src.bytesRead, 0, 'nothing read for refused lengths');
    assert.equal(await r.u64(), 0); // 10 bytes left: fine
    await assert.rejects(r.u32('tail'), isCode('UNEXPECTED_EOF')); // 2 left
  });
  it('a view from bytes() stays valid while later reads come from the same buffer', async () => {
    const b = Uint8Array.from({ length: 64 }, (_, i) => i);
    const r = new SequentialReader(new BytesSource(b), 0, 64);
    const first = await r.bytes(4);
    await r.u32();
    assert.deepEqual([...first], [0, 1, 2, 3]);
  });
  describe('skipStrings', () => {
    /** `count` strings with `lengthBytes`-byte lengths, then a u32 marker 0xC0FFEE. */
    function strings(count: number, lengthBytes: 4 | 8, le = true): Uint8Array {
      const parts: number[] = [];
      const push = (v: number, n: number) => {
        const b = new Uint8Array(n);
        const dv = new DataView(b.buffer);
        if (n === 4) dv.setUint32(0, v, le);
        else dv.setBigUint64(0, BigInt(v), le);
        parts.push(...b);
      };
      for (let i = 0; i < count; i++) {
        const s = new TextEncoder().encode('tok'.repeat(i % 5) + 'é'.repeat(i % 3));
        push(s.length, lengthBytes);
        parts.push(...s);
      }
      push(0xc0ffee, 4);
      return Uint8Array.from(parts);
    }
    for (const [lengthBytes, le, chunk] of [[8, true, 256 * 1024], [8, true, 5], [4, true, 3], [8, false, 7], [4, false, 1]] as [4 | 8, boolean, number][]) {
      it(`skips u${lengthBytes * 8} ${le ? 'LE' : 'BE'} length-prefixed strings (chunk ${chunk}), across refills`, async () => {
        const b = strings(1000, lengthBytes, le);
        const r = new SequentialReader(new BytesSource(b), 0, chunk, le);
        await r.skipStrings(1000, lengthBytes);
        assert.equal(await r.u32(), 0xc0ffee);
        assert.equal(r.remaining, 0);
      });
    }
    it('skips nothing for a count of 0 and refuses invalid counts', async () => {
      const r = new SequentialReader(new BytesSource(strings(1, 8)));
      await r.skipStrings(0, 8);
      assert.equal(r.offset, 0);
      await assert.rejects(r.skipStrings(-1, 8), isCode('MALFORMED'));
      await assert.rejects(r.skipStrings(0.5, 8), isCode('MALFORMED'));
    });
    it('a length past the end is MALFORMED naming the field and the offset of the length', async () => {
      const lie = strings(3, 8);
      // The first string is empty (i = 0), so the second length sits at offset 8: make it claim 1 MB.
      const second = 8;
      new DataView(lie.buffer).setBigUint64(second, 1_000_000n, true);
      const r = new SequentialReader(new BytesSource(lie, 'vocab.gguf'));
      await assert.rejects(r.skipStrings(3, 8, 'tokenizer.ggml.tokens'), (e: unknown) => {
        assert.ok(e instanceof ModelwiseError);
        assert.equal(e.code, 'MALFORMED');
        assert.equal(e.offset, second);
        assert.match(e.message, /tokenizer\.ggml\.tokens length 1000000 runs past the end/);
        return true;
      });
    });
    it('a u64 length beyond 2^53 is MALFORMED; a count beyond the data is UNEXPECTED_EOF', async () => {
      const huge = strings(2, 8);
      new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
      await assert.rejects(new SequentialReader(new BytesSource(huge)).skipStrings(2, 8), isCode('MALFORMED'));
      const r = new SequentialReader(new BytesSource(strings(2, 4)));
      await assert.rejects(r.skipStrings(1_000_000, 4), (e: unknown) => e instanceof ModelwiseError && (e.code === 'UNEXPECTED_EOF' || e.code === 'MALFORMED'));
    });
  });
  it('shortestF32 gives the shortest round-tripping decimal', () => {
    assert.equal(shortestF32(Math.fround(1e-5)), 1e-5);
    assert.equal(shortestF32(Math.fround(0.1)), 0.1);
    assert.equal(shortestF32(0), 0);
    assert.ok(Number.isNaN(shortestF32(Number.NaN)));
  });
});
