/**
 * Q6_K (ggml-quants.c `quantize_row_q6_K_ref`, `dequantize_row_q6_K`), float32-exact.
 *
 * Block (210 bytes): u8 ql[128], u8 qh[64], i8 scales[16], f16 d.
 */
import { f16ToF32Table, f32ToF16, GROUP_MAX_EPS, nearestInt } from './fp.js';
import { makeQx, qxSteps } from './kcommon.js';

const fround = Math.fround;

const L = new Uint8Array(256);
const SCALES = new Float32Array(32); // > 64 bytes: off the V8 heap
const STEPS_Q6 = qxSteps(32);

export function quantizeQ6K(x: Float32Array, xo: number, nb: number, y: Uint8Array, yo: number): void {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, xo += 256, yo += 210) {
    let maxScale = 0;
    let maxAbs = 0;
    for (let ib = 0; ib < 16; ib++) {
      const s = makeQx(16, 32, x, xo + 16 * ib, L, 16 * ib, STEPS_Q6);
      SCALES[ib] = s;
      const a = Math.abs(s);
      if (a > maxAbs) {
        maxAbs = a;
        maxScale = s;
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
      const v = nearestInt(fround(iscale * SCALES[ib]));
      y[yo + 192 + ib] = v > 127 ? 127 : v;
    }
    const dAll = h[d16];
    for (let j = 0; j < 16; j++) {
      const d = fround(dAll * ((y[yo + 192 + j] << 24) >> 24));
      if (d === 0) continue;
      const o = xo + 16 * j;
      for (let ii = 0; ii < 16; ii++) {
        let l = nearestInt(fround(x[o + ii] / d));
        l = l < -32 ? -32 : l > 31 ? 31 : l;
        L[16 * j + ii] = l + 32;
      }
    }
    let ql = yo;
    let qh = yo + 128;
    for (let j = 0; j < 256; j += 128) {
      for (let l = 0; l < 32; l++) {
        const a = L[j + l];
        const b = L[j + l + 32];
        const c = L[j + l + 64];
        const e = L[j + l + 96];
        y[ql + l] = (a & 0xf) | ((c & 0xf) << 4);
        y[ql + l + 32] = (b & 0xf) | ((e & 0xf) << 4);
        y[qh + l] = (a >>> 4) | ((b >>> 4) << 2) | ((c >>> 4) << 4) | ((e >>> 4) << 6);
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
