/**
 * Q5_K (ggml-quants.c `quantize_row_q5_K_ref`, `dequantize_row_q5_K`), float32-exact.
 *
 * Block (176 bytes): f16 d, f16 dmin, u8 scales[12], u8 qh[32], u8 qs[128].
 */
import { f16ToF32Table } from './fp.js';
import { getEngine, qkx2Spec } from './engine.js';
import { kQuantize8x32, scaleMinK4 } from './q4k.js';

const fround = Math.fround;
const SPEC_Q5 = qkx2Spec(-0.5, 0.1, 15, 31);

export function quantizeQ5K(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  const e = getEngine();
  const KL = e.L;
  for (let i = 0; i < nb; i++, xo += 256, yo += 176) {
    kQuantize8x32(e, x, xo, y, yo, SPEC_Q5);
    const qh = yo + 16;
    let ql = yo + 48;
    y.fill(0, qh, qh + 32);
    let m1 = 1;
    let m2 = 2;
    for (let n = 0; n < 256; n += 64) {
      for (let j = 0; j < 32; j++) {
        let l1 = KL[n + j];
        if (l1 > 15) {
          l1 -= 16;
          y[qh + j] |= m1;
        }
        let l2 = KL[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          y[qh + j] |= m2;
        }
        y[ql + j] = l1 | (l2 << 4);
      }
      m1 <<= 2;
      m2 <<= 2;
      ql += 32;
    }
  }
}

export function dequantizeQ5K(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 176) {
    const d = h[b[o] | (b[o + 1] << 8)];
    const min = h[b[o + 2] | (b[o + 3] << 8)];
    const qh = o + 16;
    let ql = o + 48;
    let u1 = 1;
    let u2 = 2;
    for (let j = 0; j < 8; j += 2) {
      const a = scaleMinK4(b, o + 4, j);
      const c = scaleMinK4(b, o + 4, j + 1);
      const d1 = fround(d * (a & 255));
      const m1 = fround(min * (a >>> 8));
      const d2 = fround(d * (c & 255));
      const m2 = fround(min * (c >>> 8));
      for (let l = 0; l < 32; l++) y[yo++] = fround(d1 * ((b[ql + l] & 0xf) + (b[qh + l] & u1 ? 16 : 0))) - m1;
      for (let l = 0; l < 32; l++) y[yo++] = fround(d2 * ((b[ql + l] >>> 4) + (b[qh + l] & u2 ? 16 : 0))) - m2;
      ql += 32;
      u1 <<= 2;
      u2 <<= 2;
    }
  }
}
