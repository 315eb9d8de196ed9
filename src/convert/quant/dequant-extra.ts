/**
 * Dequantizers for the remaining ggml types (ggml-quants.c `dequantize_row_*`, ggml-impl.h
 * scale decoders), bit-exact: Q8_1, Q8_K, TQ1_0, TQ2_0, MXFP4, NVFP4, IQ4_NL, IQ4_XS, Q1_0,
 * Q2_0, and the plain F64/I8/I16/I32/I64 (converted to the nearest float32).
 */
import { f16ToF32Table } from './fp.js';
import type { DequantizeFn } from './index.js';

const fround = Math.fround;
const KVALUES_IQ4NL = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
/** E2M1 values, doubled (the ½ is in the scale decoders). */
const KVALUES_MXFP4 = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const s8 = (v: number) => (v << 24) >> 24;

/** ggml_e8m0_to_fp32_half: 2^(e − 128). */
function e8m0Half(e: number): number {
  U32[0] = e < 2 ? 0x00200000 << e : (e - 1) << 23;
  return F32[0];
}

/** ggml_ue4m3_to_fp32: ½ · UE4M3 (0 and 0x7F decode to 0). */
function ue4m3Half(x: number): number {
  if (x === 0 || x === 0x7f) return 0;
  const exp = (x >>> 3) & 0xf;
  const man = x & 7;
  const raw = exp === 0 ? man * 2 ** -9 : (1 + man / 8) * 2 ** (exp - 7);
  return fround(raw * 0.5);
}

const q8_1: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 36) {
    const d = h[u16(b, o)];
    for (let j = 0; j < 32; j++) y[yo++] = s8(b[o + 4 + j]) * d;
  }
};

const q8_k: DequantizeFn = (b, o, nb, y, yo) => {
  for (let i = 0; i < nb; i++, o += 292) {
    U32[0] = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
    const d = F32[0];
    for (let j = 0; j < 256; j++) y[yo++] = d * s8(b[o + 4 + j]);
  }
};

const POW3 = [1, 3, 9, 27, 81, 243];
const trit = (q: number, n: number) => ((((q * POW3[n]) & 255) * 3) >>> 8) - 1;

const tq1_0: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 54) {
    const d = h[u16(b, o + 52)];
    for (let n = 0; n < 5; n++) for (let m = 0; m < 32; m++) y[yo++] = trit(b[o + m], n) * d;
    for (let n = 0; n < 5; n++) for (let m = 0; m < 16; m++) y[yo++] = trit(b[o + 32 + m], n) * d;
    for (let n = 0; n < 4; n++) for (let j = 0; j < 4; j++) y[yo++] = trit(b[o + 48 + j], n) * d;
  }
};

const tq2_0: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 66) {
    const d = h[u16(b, o + 64)];
    for (let j = 0; j < 64; j += 32) {
      for (let l = 0; l < 4; l++) for (let m = 0; m < 32; m++) y[yo++] = (((b[o + j + m] >>> (2 * l)) & 3) - 1) * d;
    }
  }
};

const mxfp4: DequantizeFn = (b, o, nb, y, yo) => {
  for (let i = 0; i < nb; i++, o += 17, yo += 32) {
    const d = e8m0Half(b[o]);
    for (let j = 0; j < 16; j++) {
      y[yo + j] = KVALUES_MXFP4[b[o + 1 + j] & 15] * d;
      y[yo + j + 16] = KVALUES_MXFP4[b[o + 1 + j] >>> 4] * d;
    }
  }
};

const nvfp4: DequantizeFn = (b, o, nb, y, yo) => {
  for (let i = 0; i < nb; i++, o += 36) {
    for (let s = 0; s < 4; s++, yo += 16) {
      const d = ue4m3Half(b[o + s]);
      for (let j = 0; j < 8; j++) {
        const q = b[o + 4 + 8 * s + j];
        y[yo + j] = KVALUES_MXFP4[q & 15] * d;
        y[yo + j + 8] = KVALUES_MXFP4[q >>> 4] * d;
      }
    }
  }
};

const iq4_nl: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 18, yo += 32) {
    const d = h[u16(b, o)];
    for (let j = 0; j < 16; j++) {
      y[yo + j] = d * KVALUES_IQ4NL[b[o + 2 + j] & 15];
      y[yo + j + 16] = d * KVALUES_IQ4NL[b[o + 2 + j] >>> 4];
    }
  }
};

const iq4_xs: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 136) {
    const d = h[u16(b, o)];
    const sh = u16(b, o + 2);
    for (let ib = 0; ib < 8; ib++, yo += 32) {
      const ls = ((b[o + 4 + (ib >>> 1)] >>> (4 * (ib & 1))) & 0xf) | (((sh >>> (2 * ib)) & 3) << 4);
      const dl = fround(d * (ls - 32));
      const q = o + 8 + 16 * ib;
      for (let j = 0; j < 16; j++) {
        y[yo + j] = dl * KVALUES_IQ4NL[b[q + j] & 15];
        y[yo + j + 16] = dl * KVALUES_IQ4NL[b[q + j] >>> 4];
      }
    }
  }
};

const q1_0: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 18) {
    const d = h[u16(b, o)];
    for (let j = 0; j < 128; j++) y[yo++] = (b[o + 2 + (j >>> 3)] >>> (j & 7)) & 1 ? d : -d;
  }
};

const q2_0: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  for (let i = 0; i < nb; i++, o += 18) {
    const d = h[u16(b, o)];
    for (let j = 0; j < 64; j++) y[yo++] = (((b[o + 2 + (j >>> 2)] >>> (2 * (j & 3))) & 3) - 1) * d;
  }
};

/** Plain numeric types (little-endian), rounded to the nearest float32. */
function plain(bytes: number, read: (v: DataView, o: number) => number): DequantizeFn {
  return (b, o, n, y, yo) => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < n; i++, o += bytes) y[yo + i] = read(v, o);
  };
}

/** int64 → nearest float32 (through BigInt when a double would round twice). */
function i64ToF32(v: DataView, o: number): number {
  const x = v.getBigInt64(o, true);
  const ax = x < 0n ? -x : x;
  if (ax <= 2n ** 53n) return Number(x);
  // keep 25 significant bits plus a sticky bit, which a double holds exactly; fround then rounds once
  const shift = BigInt(ax.toString(2).length - 26);
  const sticky = ax & ((1n << shift) - 1n) ? 1n : 0n;
  const r = Number(((ax >> shift) | sticky) << shift);
  return x < 0n ? -r : r;
}

export const EXTRA_DEQUANTIZERS: Record<string, DequantizeFn> = {
  q8_1, q8_k, tq1_0, tq2_0, mxfp4, nvfp4, iq4_nl, iq4_xs, q1_0, q2_0,
  f64: plain(8, (v, o) => v.getFloat64(o, true)),
  i8: plain(1, (v, o) => v.getInt8(o)),
  i16: plain(2, (v, o) => v.getInt16(o, true)),
  i32: plain(4, (v, o) => v.getInt32(o, true)),
  i64: plain(8, i64ToF32),
};
