/**
 * Q2_K (ggml-quants.c `quantize_row_q2_K_ref`, `dequantize_row_q2_K`), float32-exact.
 *
 * Block (84 bytes): u8 scales[16] (low nibble scale, high nibble min), u8 qs[64], f16 d, f16 dmin.
 */
import { f16ToF32Table, f32ToF16, nearestInt } from './fp.js';
import { getEngine, qkx2Spec } from './engine.js';

const fround = Math.fround;

const SPEC_Q2 = qkx2Spec(-0.5, 0.1, 15, 3);

/** 2-bit packing shared with Q3_K: qs[32h + l] = L[128h+l] | L[+32]<<2 | L[+64]<<4 | L[+96]<<6. */
export function pack2bit(L: Uint8Array, y: Uint8Array, q: number): void {
  for (let j = 0; j < 256; j += 128) {
    for (let l = 0; l < 32; l++) {
      y[q + j / 4 + l] = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6);
    }
  }
}

export function quantizeQ2K(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  const h = f16ToF32Table();
  const e = getEngine();
  const { SC, MN, RD, RM, L } = e;
  for (let i = 0; i < nb; i++, xo += 256, yo += 84) {
    e.stage(x, xo);
    e.k16x16(SPEC_Q2);
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 16; j++) {
      if (SC[j] > maxScale) maxScale = SC[j];
      if (MN[j] > maxMin) maxMin = MN[j];
    }
    let d16 = 0;
    if (maxScale > 0) {
      const iscale = fround(15 / maxScale);
      for (let j = 0; j < 16; j++) y[yo + j] = nearestInt(fround(iscale * SC[j]));
      d16 = f32ToF16(fround(maxScale / 15));
    } else {
      y.fill(0, yo, yo + 16);
    }
    let m16 = 0;
    if (maxMin > 0) {
      const iscale = fround(15 / maxMin);
      for (let j = 0; j < 16; j++) y[yo + j] |= nearestInt(fround(iscale * MN[j])) << 4;
      m16 = f32ToF16(fround(maxMin / 15));
    }
    y[yo + 80] = d16 & 0xff;
    y[yo + 81] = d16 >>> 8;
    y[yo + 82] = m16 & 0xff;
    y[yo + 83] = m16 >>> 8;
    const dAll = h[d16];
    const mAll = h[m16];
    for (let j = 0; j < 16; j++) {
      const sc = y[yo + j];
      RD[j] = fround(dAll * (sc & 0xf));
      RM[j] = fround(mAll * (sc >>> 4));
    }
    e.requantAsym(16, 16, 3);
    pack2bit(L, y, yo + 16);
  }
}

export function dequantizeQ2K(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 84) {
    const d = h[b[o + 80] | (b[o + 81] << 8)];
    const min = h[b[o + 82] | (b[o + 83] << 8)];
    let q = o + 16;
    let is = o;
    for (let n = 0; n < 256; n += 128) {
      for (let shift = 0; shift < 8; shift += 2) {
        let sc = b[is++];
        let dl = fround(d * (sc & 0xf));
        let ml = fround(min * (sc >>> 4));
        for (let l = 0; l < 16; l++) y[yo++] = fround(dl * ((b[q + l] >>> shift) & 3)) - ml;
        sc = b[is++];
        dl = fround(d * (sc & 0xf));
        ml = fround(min * (sc >>> 4));
        for (let l = 0; l < 16; l++) y[yo++] = fround(dl * ((b[q + l + 16] >>> shift) & 3)) - ml;
      }
      q += 32;
    }
  }
}
