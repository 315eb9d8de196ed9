/** Little-endian byte builder and CRC-32 helpers for the synthetic model writers. */
import { crc32 } from '../../src/codecs/crc32.js';

export class ByteWriter {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(4096);
  private pos = 0;
  private flushed = 0;

  get length(): number {
    return this.flushed + this.pos;
  }
  private room(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    this.chunks.push(this.cur.subarray(0, this.pos));
    this.flushed += this.pos;
    this.cur = new Uint8Array(Math.max(4096, n));
    this.pos = 0;
  }
  u8(v: number): this {
    this.room(1);
    this.cur[this.pos++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    this.room(4);
    new DataView(this.cur.buffer, this.cur.byteOffset).setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
    return this;
  }
  i32(v: number): this {
    return this.u32(v >>> 0);
  }
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`u64 out of range: ${v}`);
    return this.u32(v % 0x1_0000_0000).u32(Math.floor(v / 0x1_0000_0000));
  }
  bytes(b: Uint8Array | string): this {
    const u = typeof b === 'string' ? new TextEncoder().encode(b) : b;
    this.room(u.length);
    this.cur.set(u, this.pos);
    this.pos += u.length;
    return this;
  }
  zeros(n: number): this {
    this.room(n);
    this.cur.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }
  build(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of [...this.chunks, this.cur.subarray(0, this.pos)]) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export { crc32 };

/** GF(2) 32×32 matrix (as 32 column words) applied to a vector. */
function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}

function gf2Square(mat: Uint32Array): Uint32Array {
  const sq = new Uint32Array(32);
  for (let n = 0; n < 32; n++) sq[n] = gf2Times(mat, mat[n]!);
  return sq;
}

/**
 * CRC-32 of `n` zero bytes without touching them (zlib's crc32_combine operator, raised to the
 * n-th power by squaring): stored members of a sparse checkpoint still get a correct CRC.
 */
export function crc32OfZeros(n: number): number {
  // Operator for one zero bit: shift right, xor the polynomial when the low bit was set.
  let odd: Uint32Array = new Uint32Array(32);
  odd[0] = 0xedb88320;
  for (let i = 1, row = 1; i < 32; i++, row <<= 1) odd[i] = row >>> 0;
  let even = gf2Square(odd); // 2 zero bits
  odd = gf2Square(even); // 4 zero bits
  let crc = 0xffffffff;
  let len = n;
  // Apply len zero bytes: start with the 8-bit operator and square up.
  while (len > 0) {
    even = gf2Square(odd);
    if (len & 1) crc = gf2Times(even, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
    odd = gf2Square(even);
    if (len & 1) crc = gf2Times(odd, crc);
    len = Math.floor(len / 2);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Any reflected CRC-32 (`poly` in reflected form: 0xedb88320 for zip's CRC-32, 0x82f63b78 for
 * CRC-32C) with `extendZeros`: the CRC of `data` followed by `n` zero bytes, from the CRC of
 * `data` alone, without touching the zeros — crc(A‖0ⁿ) = Lⁿ(crc(A)) ⊕ Lⁿ(~0) ⊕ ~0, where L is
 * the linear "shift one zero byte through the register" operator.
 */
export function reflectedCrc32(poly: number): { crc(b: Uint8Array, prev?: number): number; extendZeros(crc: number, n: number): number } {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  const applyZeros = (reg: number, n: number): number => {
    let odd: Uint32Array = new Uint32Array(32);
    odd[0] = poly >>> 0;
    for (let i = 1, row = 1; i < 32; i++, row <<= 1) odd[i] = row >>> 0;
    let even = gf2Square(odd);
    odd = gf2Square(even);
    let len = n;
    while (len > 0) {
      even = gf2Square(odd);
      if (len & 1) reg = gf2Times(even, reg);
      len = Math.floor(len / 2);
      if (len === 0) break;
      odd = gf2Square(even);
      if (len & 1) reg = gf2Times(odd, reg);
      len = Math.floor(len / 2);
    }
    return reg >>> 0;
  };
  return {
    crc(b: Uint8Array, prev = 0): number {
      let c = (prev ^ 0xffffffff) >>> 0;
      for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
      return (c ^ 0xffffffff) >>> 0;
    },
    extendZeros(crc: number, n: number): number {
      if (n === 0) return crc >>> 0;
      return (applyZeros(crc >>> 0, n) ^ applyZeros(0xffffffff, n) ^ 0xffffffff) >>> 0;
    },
  };
}

export const CRC32 = reflectedCrc32(0xedb88320);
export const CRC32C = reflectedCrc32(0x82f63b78);

/** TensorFlow's masked CRC-32C (tensorflow/core/lib/hash/crc32c.h `Mask`). */
export function maskCrc32c(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
