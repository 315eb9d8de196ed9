/**
 * Q3_K (ggml-quants.c `quantize_row_q3_K_ref`, `dequantize_row_q3_K`), float32-exact.
 *
 * Block (110 bytes): u8 hmask[32], u8 qs[64], u8 scales[12] (16 6-bit signed scales), f16 d.
 */
import { f16ToF32Table, f32ToF16, nearestInt } from './fp.js';
import { getEngine } from './engine.js';
import { pack2bit } from './q2k.js';

const fround = Math.fround;


/** The 6-bit scale code of sub-block j (0..63) from the 12 scale bytes at b[s]. */
function scaleQ3(b: Uint8Array, s: number, j: number): number {
  const lo = j < 8 ? b[s + j] & 0xf : b[s + j - 8] >>> 4;
  return lo | (((b[s + 8 + (j & 3)] >>> (2 * (j >>> 2))) & 3) << 4);
}

export function quantizeQ3K(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  const h = f16ToF32Table();
  const e = getEngine();
  const { SC, RD, L } = e;
  for (let i = 0; i < nb; i++, xo += 256, yo += 110) {
    e.stage(x, xo);
    e.q3x16();
    let maxScale = 0;
    let amax = 0;
    for (let j = 0; j < 16; j++) {
      const a = Math.abs(SC[j]);
      if (a > amax) {
        amax = a;
        maxScale = SC[j];
      }
    }
    const s = yo + 96;
    y.fill(0, s, s + 12);
    let d16 = 0;
    if (maxScale !== 0) {
      const iscale = fround(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        let l = (nearestInt(fround(iscale * SC[j])) << 24) >> 24;
        l = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
        if (j < 8) y[s + j] = l & 0xf;
        else y[s + j - 8] |= (l & 0xf) << 4;
        y[s + 8 + (j & 3)] |= (l >>> 4) << (2 * (j >>> 2));
      }
      d16 = f32ToF16(fround(1 / iscale));
    }
    y[yo + 108] = d16 & 0xff;
    y[yo + 109] = d16 >>> 8;
    const dAll = h[d16];
    for (let j = 0; j < 16; j++) RD[j] = fround(dAll * (scaleQ3(y, s, j) - 32));
    e.requantSym(16, 16, -4, 3);
    y.fill(0, yo, yo + 32);
    for (let j = 0; j < 256; j++) {
      if (L[j] > 3) {
        y[yo + (j & 31)] |= 1 << (j >>> 5);
        L[j] -= 4;
      }
    }
    pack2bit(L, y, yo + 32);
  }
}

export function dequantizeQ3K(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 110) {
    const dAll = h[b[o + 108] | (b[o + 109] << 8)];
    let q = o + 32;
    let is = 0;
    let m = 1;
    for (let n = 0; n < 256; n += 128) {
      for (let shift = 0; shift < 8; shift += 2) {
        let dl = fround(dAll * (scaleQ3(b, o + 96, is++) - 32));
        for (let l = 0; l < 16; l++) y[yo++] = fround(dl * (((b[q + l] >>> shift) & 3) - (b[o + l] & m ? 0 : 4)));
        dl = fround(dAll * (scaleQ3(b, o + 96, is++) - 32));
        for (let l = 0; l < 16; l++) y[yo++] = fround(dl * (((b[q + l + 16] >>> shift) & 3) - (b[o + l + 16] & m ? 0 : 4)));
        m <<= 1;
      }
      q += 32;
    }
  }
}
