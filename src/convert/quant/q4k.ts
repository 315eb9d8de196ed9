/**
 * Q4_K (ggml-quants.c `quantize_row_q4_K_ref`, `dequantize_row_q4_K`), float32-exact, plus the
 * 6-bit scale/min packing and re-quantization that Q5_K shares.
 *
 * Block (144 bytes): f16 d, f16 dmin, u8 scales[12], u8 qs[128].
 */
import { getEngine, qkx2Spec, type Engine, type Qkx2Spec } from './engine.js';
import { f16ToF32Table, f32ToF16, nearestInt } from './fp.js';

const fround = Math.fround;
const SPEC_Q4 = qkx2Spec(-1, 0.1, 20, 15);

/**
 * The 8×32 part of quantize_row_q4_K_ref / q5_K_ref for the super-block at x[xo]: sub-block
 * searches, 6-bit scale and min codes into y[yo+4..yo+16], d/dmin into y[yo..yo+4], then the
 * re-quantization of every element into e.L (0..nmax).
 */
export function kQuantize8x32(e: Engine, x: Float32Array, xo: number, y: Uint8Array, yo: number, spec: Qkx2Spec): void {
  const nmax = spec.nmax;
  e.stage(x, xo);
  e.k8x32(spec);
  const SC = e.SC;
  const MN = e.MN;
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    if (SC[j] > maxScale) maxScale = SC[j];
    if (MN[j] > maxMin) maxMin = MN[j];
  }
  const invScale = maxScale > 0 ? fround(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fround(63 / maxMin) : 0;
  const s = yo + 4;
  for (let j = 0; j < 8; j++) {
    let ls = nearestInt(fround(invScale * SC[j])) & 255;
    let lm = nearestInt(fround(invMin * MN[j])) & 255;
    if (ls > 63) ls = 63;
    if (lm > 63) lm = 63;
    if (j < 4) {
      y[s + j] = ls;
      y[s + j + 4] = lm;
    } else {
      y[s + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      y[s + j - 4] |= (ls >>> 4) << 6;
      y[s + j] |= (lm >>> 4) << 6;
    }
  }
  const d16 = f32ToF16(fround(maxScale / 63));
  const m16 = f32ToF16(fround(maxMin / 63));
  y[yo] = d16 & 0xff;
  y[yo + 1] = d16 >>> 8;
  y[yo + 2] = m16 & 0xff;
  y[yo + 3] = m16 >>> 8;
  const h = f16ToF32Table();
  const dAll = h[d16];
  const mAll = h[m16];
  for (let j = 0; j < 8; j++) {
    const sm = scaleMinK4(y, s, j);
    e.RD[j] = fround(dAll * (sm & 255));
    e.RM[j] = fround(mAll * (sm >>> 8));
  }
  e.requantAsym(8, 32, nmax);
}

export function quantizeQ4K(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  const e = getEngine();
  const L = e.L;
  for (let i = 0; i < nb; i++, xo += 256, yo += 144) {
    kQuantize8x32(e, x, xo, y, yo, SPEC_Q4);
    const q = yo + 16;
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) y[q + 32 * c + l] = L[64 * c + l] | (L[64 * c + l + 32] << 4);
    }
  }
}

/** get_scale_min_k4 for sub-block j of the 12 scale bytes at b[s]: returns sc | m << 8. */
export function scaleMinK4(b: Uint8Array, s: number, j: number): number {
  if (j < 4) return (b[s + j] & 63) | ((b[s + j + 4] & 63) << 8);
  const sc = (b[s + j + 4] & 0xf) | ((b[s + j - 4] >>> 6) << 4);
  const m = (b[s + j + 4] >>> 4) | ((b[s + j] >>> 6) << 4);
  return sc | (m << 8);
}

export function dequantizeQ4K(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 144) {
    const d = h[b[o] | (b[o + 1] << 8)];
    const min = h[b[o + 2] | (b[o + 3] << 8)];
    let q = o + 16;
    for (let j = 0; j < 8; j += 2) {
      const a = scaleMinK4(b, o + 4, j);
      const c = scaleMinK4(b, o + 4, j + 1);
      const d1 = fround(d * (a & 255));
      const m1 = fround(min * (a >>> 8));
      const d2 = fround(d * (c & 255));
      const m2 = fround(min * (c >>> 8));
      for (let l = 0; l < 32; l++) y[yo++] = fround(d1 * (b[q + l] & 0xf)) - m1;
      for (let l = 0; l < 32; l++) y[yo++] = fround(d2 * (b[q + l] >>> 4)) - m2;
      q += 32;
    }
  }
}
