/**
 * Q6_K (ggml-quants.c `quantize_row_q6_K_ref`, `dequantize_row_q6_K`), float32-exact.
 *
 * Block (210 bytes): u8 ql[128], u8 qh[64], i8 scales[16], f16 d.
 */
import { f16ToF32Table, f32ToF16, GROUP_MAX_EPS, nearestInt } from './fp.js';
import { getEngine } from './engine.js';

const fround = Math.fround;


export function quantizeQ6K(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  const h = f16ToF32Table();
  const e = getEngine();
  const { SC, RD, L } = e;
  for (let i = 0; i < nb; i++, xo += 256, yo += 210) {
    e.stage(x, xo);
    e.qx16();
    let maxScale = 0;
    let maxAbs = 0;
    for (let ib = 0; ib < 16; ib++) {
      const a = Math.abs(SC[ib]);
      if (a > maxAbs) {
        maxAbs = a;
        maxScale = SC[ib];
      }
    }
    if (maxAbs < GROUP_MAX_EPS) {
      y.fill(0, yo, yo + 210);
      continue;
    }
    const iscale = fround(-128 / maxScale);
    const d16 = f32ToF16(fround(1 / iscale));
    y[yo + 208] = d16 & 0xff;
    y[yo + 209] = d16 >>> 8;
    for (let ib = 0; ib < 16; ib++) {
      const v = nearestInt(fround(iscale * SC[ib]));
      y[yo + 192 + ib] = v > 127 ? 127 : v;
    }
    const dAll = h[d16];
    for (let j = 0; j < 16; j++) RD[j] = fround(dAll * ((y[yo + 192 + j] << 24) >> 24));
    e.requantSym(16, 16, -32, 31);
    let ql = yo;
    let qh = yo + 128;
    for (let j = 0; j < 256; j += 128) {
      for (let l = 0; l < 32; l++) {
        const a = L[j + l];
        const b = L[j + l + 32];
        const c = L[j + l + 64];
        const d = L[j + l + 96];
        y[ql + l] = (a & 0xf) | ((c & 0xf) << 4);
        y[ql + l + 32] = (b & 0xf) | ((d & 0xf) << 4);
        y[qh + l] = (a >>> 4) | ((b >>> 4) << 2) | ((c >>> 4) << 4) | ((d >>> 4) << 6);
      }
      ql += 64;
      qh += 32;
    }
  }
}

export function dequantizeQ6K(b: Uint8Array, o: number, nb: number, y: Float32Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 210) {
    const d = h[b[o + 208] | (b[o + 209] << 8)];
    let ql = o;
    let qh = o + 128;
    let sc = o + 192;
    for (let n = 0; n < 256; n += 128) {
      for (let l = 0; l < 32; l++) {
        const is = l >>> 4;
        const hb = b[qh + l];
        const q1 = ((b[ql + l] & 0xf) | ((hb & 3) << 4)) - 32;
        const q2 = ((b[ql + l + 32] & 0xf) | (((hb >>> 2) & 3) << 4)) - 32;
        const q3 = ((b[ql + l] >>> 4) | (((hb >>> 4) & 3) << 4)) - 32;
        const q4 = ((b[ql + l + 32] >>> 4) | (((hb >>> 6) & 3) << 4)) - 32;
        y[yo + l] = fround(d * ((b[sc + is] << 24) >> 24)) * q1;
        y[yo + l + 32] = fround(d * ((b[sc + is + 2] << 24) >> 24)) * q2;
        y[yo + l + 64] = fround(d * ((b[sc + is + 4] << 24) >> 24)) * q3;
        y[yo + l + 96] = fround(d * ((b[sc + is + 6] << 24) >> 24)) * q4;
      }
      yo += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}
