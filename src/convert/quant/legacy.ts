/**
 * The 32-element block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: bit-exact ports of ggml's
 * `quantize_row_*_ref` and `dequantize_row_*` (ggml/src/ggml-quants.c), float32 step by step.
 *
 * Signature of every quantizer: (x, xOffset, nBlocks, y, yOffset); x holds f32 input, y receives
 * nBlocks·typeSize bytes. Dequantizers: (bytes, offset, nBlocks, out, outOffset).
 */
import { f16ToF32Table, f32FromBits, f32ToF16 } from './fp.js';

const fround = Math.fround;

function putF16(y: Uint8Array, o: number, v: number): void {
  const h = f32ToF16(v);
  y[o] = h & 0xff;
  y[o + 1] = h >>> 8;
}

/**
 * The element with the largest |x| (the first one on ties), as Q4_0/Q5_0 select it: compared on
 * the bit patterns (|x| bits are monotonic for non-NaN floats), branch-free.
 */
function signedMax(bits: Int32Array, o: number): number {
  let m = 0;
  let w = 0;
  for (let j = 0; j < 32; j++) {
    const b = bits[o + j];
    let a = b & 0x7fffffff;
    a &= ((0x7f800000 - a) >> 31) ^ -1; // NaN never wins (C: amax < NaN is false)
    const dm = a - m;
    const take = ~((dm - 1) >> 31); // −1 when strictly greater
    m += dm & take;
    w ^= (w ^ b) & take;
  }
  return f32FromBits(w);
}

export function quantizeQ8_0(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  const bits = new Int32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < nb; i++, xo += 32, yo += 34) {
    // max |x| on the bit patterns (monotonic for non-NaN floats), branch-free
    let m = 0;
    for (let j = 0; j < 32; j++) {
      const dm = (bits[xo + j] & 0x7fffffff) - m;
      m += dm & ~(dm >> 31);
    }
    let amax = f32FromBits(m);
    if (m > 0x7f800000) {
      // a NaN: C's MAX(amax, |v|) keeps it only when it comes last
      amax = 0;
      for (let j = 0; j < 32; j++) {
        const a = Math.abs(x[xo + j]);
        amax = amax > a ? amax : a;
      }
    }
    const d = fround(amax / 127);
    const id = d !== 0 ? fround(1 / d) : 0;
    putF16(y, yo, d);
    for (let j = 0; j < 32; j++) {
      const v = fround(x[xo + j] * id);
      // roundf (ties away from zero): floor(v + 0.5), corrected for negative ties
      let q = ((v + 128.5) | 0) - 128;
      if (q - v === 0.5 && v < 0) q--;
      if (!(v > -128 && v < 128)) q = roundfToInt(v);
      y[yo + 2 + j] = q;
    }
  }
}

export function quantizeQ4_0(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  const bits = new Int32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < nb; i++, xo += 32, yo += 18) {
    const d = fround(signedMax(bits, xo) / -8);
    const id = d !== 0 ? fround(1 / d) : 0;
    putF16(y, yo, d);
    for (let j = 0; j < 16; j++) {
      let q0 = (((fround(fround(x[xo + j] * id) + 8.5) | 0) << 24) >> 24);
      let q1 = (((fround(fround(x[xo + 16 + j] * id) + 8.5) | 0) << 24) >> 24);
      if (q0 > 15) q0 = 15;
      if (q1 > 15) q1 = 15;
      y[yo + 2 + j] = (q0 & 0xff) | (q1 << 4);
    }
  }
}

/** `(int)roundf(v)` as x86 converts it: out of int32 range (inf, NaN) gives 0x80000000. */
function roundfToInt(v: number): number {
  const r = v < 0 ? -Math.floor(0.5 - v) : Math.floor(v + 0.5);
  return r > -2147483649 && r < 2147483648 ? r | 0 : -2147483648;
}

/** min and max of 32 values (FLT_MAX / −FLT_MAX start, as in C). */
let bMin = 0;
let bMax = 0;
function minMax(x: Float32Array, o: number): void {
  let min = 3.4028234663852886e38;
  let max = -3.4028234663852886e38;
  for (let j = 0; j < 32; j++) {
    const v = x[o + j];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  bMin = min;
  bMax = max;
}

export function quantizeQ4_1(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 20) {
    minMax(x, xo);
    const min = bMin;
    const d = fround(fround(bMax - min) / 15);
    const id = d !== 0 ? fround(1 / d) : 0;
    putF16(y, yo, d);
    putF16(y, yo + 2, min);
    for (let j = 0; j < 16; j++) {
      let q0 = (((fround(fround(fround(x[xo + j] - min) * id) + 0.5) | 0) << 24) >> 24);
      let q1 = (((fround(fround(fround(x[xo + 16 + j] - min) * id) + 0.5) | 0) << 24) >> 24);
      if (q0 > 15) q0 = 15;
      if (q1 > 15) q1 = 15;
      y[yo + 4 + j] = (q0 & 0xff) | (q1 << 4);
    }
  }
}

export function quantizeQ5_0(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  const bits = new Int32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < nb; i++, xo += 32, yo += 22) {
    const d = fround(signedMax(bits, xo) / -16);
    const id = d !== 0 ? fround(1 / d) : 0;
    putF16(y, yo, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      let q0 = (((fround(fround(x[xo + j] * id) + 16.5) | 0) << 24) >> 24);
      let q1 = (((fround(fround(x[xo + 16 + j] * id) + 16.5) | 0) << 24) >> 24);
      if (q0 > 31) q0 = 31;
      if (q1 > 31) q1 = 31;
      y[yo + 6 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      qh |= ((q0 & 0x10) >>> 4) << j;
      qh |= ((q1 & 0x10) >>> 4) << (j + 16);
    }
    y[yo + 2] = qh & 0xff;
    y[yo + 3] = (qh >>> 8) & 0xff;
    y[yo + 4] = (qh >>> 16) & 0xff;
    y[yo + 5] = qh >>> 24;
  }
}

export function quantizeQ5_1(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 24) {
    minMax(x, xo);
    const min = bMin;
    const d = fround(fround(bMax - min) / 31);
    const id = d !== 0 ? fround(1 / d) : 0;
    putF16(y, yo, d);
    putF16(y, yo + 2, min);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      // (uint8_t)(float): truncation, then the low 8 bits
      const q0 = (fround(fround(fround(x[xo + j] - min) * id) + 0.5) | 0) & 0xff;
      const q1 = (fround(fround(fround(x[xo + 16 + j] - min) * id) + 0.5) | 0) & 0xff;
      y[yo + 8 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      qh |= ((q0 & 0x10) >>> 4) << j;
      qh |= ((q1 & 0x10) >>> 4) << (j + 16);
    }
    y[yo + 4] = qh & 0xff;
    y[yo + 5] = (qh >>> 8) & 0xff;
    y[yo + 6] = (qh >>> 16) & 0xff;
    y[yo + 7] = qh >>> 24;
  }
}

// ---------------------------------------------------------------- dequantization

export function dequantizeQ8_0(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 34, yo += 32) {
    const d = h[b[o] | (b[o + 1] << 8)];
    for (let j = 0; j < 32; j++) y[yo + j] = ((b[o + 2 + j] << 24) >> 24) * d;
  }
}

export function dequantizeQ4_0(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 18, yo += 32) {
    const d = h[b[o] | (b[o + 1] << 8)];
    for (let j = 0; j < 16; j++) {
      const q = b[o + 2 + j];
      y[yo + j] = ((q & 15) - 8) * d;
      y[yo + 16 + j] = ((q >>> 4) - 8) * d;
    }
  }
}

export function dequantizeQ4_1(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 20, yo += 32) {
    const d = h[b[o] | (b[o + 1] << 8)];
    const m = h[b[o + 2] | (b[o + 3] << 8)];
    for (let j = 0; j < 16; j++) {
      const q = b[o + 4 + j];
      y[yo + j] = fround((q & 15) * d) + m;
      y[yo + 16 + j] = fround((q >>> 4) * d) + m;
    }
  }
}

export function dequantizeQ5_0(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 22, yo += 32) {
    const d = h[b[o] | (b[o + 1] << 8)];
    const qh = b[o + 2] | (b[o + 3] << 8) | (b[o + 4] << 16) | (b[o + 5] << 24);
    for (let j = 0; j < 16; j++) {
      const q = b[o + 6 + j];
      y[yo + j] = (((q & 15) | (((qh >>> j) << 4) & 0x10)) - 16) * d;
      y[yo + 16 + j] = (((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) - 16) * d;
    }
  }
}

export function dequantizeQ5_1(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 24, yo += 32) {
    const d = h[b[o] | (b[o + 1] << 8)];
    const m = h[b[o + 2] | (b[o + 3] << 8)];
    const qh = b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24);
    for (let j = 0; j < 16; j++) {
      const q = b[o + 8 + j];
      y[yo + j] = fround(((q & 15) | (((qh >>> j) << 4) & 0x10)) * d) + m;
      y[yo + 16 + j] = fround(((q >>> 4) | ((qh >>> (j + 12)) & 0x10)) * d) + m;
    }
  }
}
