/**
 * Dequantizers of the codebook ("i-quant") types, bit-exact ports of ggml-quants.c
 * `dequantize_row_iq2_xxs/iq2_xs/iq2_s/iq3_xxs/iq3_s/iq1_s/iq1_m`. Quantizing to these types
 * needs an importance matrix and is not offered; reading them (GGUF → safetensors, requantizing)
 * is.
 */
import { f16ToF32Table } from './fp.js';
import { grid } from './iq-grids.js';
import type { DequantizeFn } from './index.js';

const fround = Math.fround;

/** ksigns_iq2xs[i]: the 7 sign bits i plus an 8th that makes the count even. */
const KSIGNS = new Uint8Array(128);
for (let i = 0; i < 128; i++) {
  let c = 0;
  for (let b = i; b; b >>= 1) c += b & 1;
  KSIGNS[i] = i | ((c & 1) << 7);
}

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

/** 8 outputs: db·grid[g·8 + j], negated where the sign bit j is set. */
function put8(y: Float32Array, yo: number, db: number, g: Int8Array, go: number, signs: number): void {
  for (let j = 0; j < 8; j++) {
    const v = fround(db * g[go + j]);
    y[yo + j] = signs & (1 << j) ? -v : v;
  }
}

const iq2xxs: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  const g = grid('iq2xxs');
  for (let i = 0; i < nb; i++, o += 66) {
    const d = h[u16(b, o)];
    for (let ib = 0; ib < 8; ib++) {
      const q = o + 2 + 8 * ib;
      const aux1 = u32(b, q + 4);
      const db = fround(fround(d * (0.5 + (aux1 >>> 28))) * 0.25);
      for (let l = 0; l < 4; l++, yo += 8) put8(y, yo, db, g, 8 * b[q + l], KSIGNS[(aux1 >>> (7 * l)) & 127]);
    }
  }
};

const iq2xs: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  const g = grid('iq2xs');
  for (let i = 0; i < nb; i++, o += 74) {
    const d = h[u16(b, o)];
    for (let ib = 0; ib < 8; ib++) {
      const sc = b[o + 66 + ib];
      const db0 = fround(fround(d * (0.5 + (sc & 0xf))) * 0.25);
      const db1 = fround(fround(d * (0.5 + (sc >>> 4))) * 0.25);
      for (let l = 0; l < 4; l++, yo += 8) {
        const q = u16(b, o + 2 + 8 * ib + 2 * l);
        put8(y, yo, l < 2 ? db0 : db1, g, 8 * (q & 511), KSIGNS[q >>> 9]);
      }
    }
  }
};

const iq2s: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  const g = grid('iq2s');
  for (let i = 0; i < nb; i++, o += 82) {
    const d = h[u16(b, o)];
    for (let ib = 0; ib < 8; ib++) {
      const sc = b[o + 74 + ib];
      const qh = b[o + 66 + ib];
      const db0 = fround(fround(d * (0.5 + (sc & 0xf))) * 0.25);
      const db1 = fround(fround(d * (0.5 + (sc >>> 4))) * 0.25);
      for (let l = 0; l < 4; l++, yo += 8) {
        const idx = b[o + 2 + 4 * ib + l] | ((qh << (8 - 2 * l)) & 0x300);
        put8(y, yo, l < 2 ? db0 : db1, g, 8 * idx, b[o + 34 + 4 * ib + l]);
      }
    }
  }
};

const iq3xxs: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  const g = grid('iq3xxs');
  for (let i = 0; i < nb; i++, o += 98) {
    const d = h[u16(b, o)];
    for (let ib = 0; ib < 8; ib++) {
      const aux = u32(b, o + 66 + 4 * ib);
      const db = fround(fround(d * (0.5 + (aux >>> 28))) * 0.5);
      const q = o + 2 + 8 * ib;
      for (let l = 0; l < 4; l++, yo += 8) {
        const signs = KSIGNS[(aux >>> (7 * l)) & 127];
        const g1 = 4 * b[q + 2 * l];
        const g2 = 4 * b[q + 2 * l + 1];
        for (let j = 0; j < 4; j++) {
          const v1 = fround(db * g[g1 + j]);
          const v2 = fround(db * g[g2 + j]);
          y[yo + j] = signs & (1 << j) ? -v1 : v1;
          y[yo + j + 4] = signs & (16 << j) ? -v2 : v2;
        }
      }
    }
  }
};

const iq3s: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  const g = grid('iq3s');
  for (let i = 0; i < nb; i++, o += 110) {
    const d = h[u16(b, o)];
    for (let ib = 0; ib < 8; ib++) {
      const sc = b[o + 106 + (ib >>> 1)];
      const db = fround(d * (1 + 2 * (ib & 1 ? sc >>> 4 : sc & 0xf)));
      const qh = b[o + 66 + ib];
      const q = o + 2 + 8 * ib;
      for (let l = 0; l < 4; l++, yo += 8) {
        const signs = b[o + 74 + 4 * ib + l];
        const g1 = 4 * (b[q + 2 * l] | ((qh << (8 - 2 * l)) & 256));
        const g2 = 4 * (b[q + 2 * l + 1] | ((qh << (7 - 2 * l)) & 256));
        for (let j = 0; j < 4; j++) {
          const v1 = fround(db * g[g1 + j]);
          const v2 = fround(db * g[g2 + j]);
          y[yo + j] = signs & (1 << j) ? -v1 : v1;
          y[yo + j + 4] = signs & (16 << j) ? -v2 : v2;
        }
      }
    }
  }
};

const IQ1S_DELTA = 0.125;

const iq1s: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  const g = grid('iq1s');
  for (let i = 0; i < nb; i++, o += 50) {
    const d = h[u16(b, o)];
    for (let ib = 0; ib < 8; ib++) {
      const qh = u16(b, o + 34 + 2 * ib);
      const dl = fround(d * (2 * ((qh >>> 12) & 7) + 1));
      const delta = qh & 0x8000 ? -IQ1S_DELTA : IQ1S_DELTA;
      for (let l = 0; l < 4; l++) {
        const go = 8 * (b[o + 2 + 4 * ib + l] | (((qh >>> (3 * l)) & 7) << 8));
        for (let j = 0; j < 8; j++) y[yo++] = dl * (g[go + j] + delta);
      }
    }
  }
};

const iq1m: DequantizeFn = (b, o, nb, y, yo) => {
  const h = f16ToF32Table();
  const g = grid('iq1s');
  for (let i = 0; i < nb; i++, o += 56) {
    const sc = (k: number) => u16(b, o + 48 + 2 * k);
    const d = h[(sc(0) >>> 12) | ((sc(1) >>> 8) & 0x00f0) | ((sc(2) >>> 4) & 0x0f00) | (sc(3) & 0xf000)];
    for (let ib = 0; ib < 8; ib++) {
      const s = sc(ib >>> 1);
      const dl1 = fround(d * (2 * ((s >>> (6 * (ib & 1))) & 7) + 1));
      const dl2 = fround(d * (2 * ((s >>> (6 * (ib & 1) + 3)) & 7) + 1));
      const qs = o + 4 * ib;
      const h0 = b[o + 32 + 2 * ib];
      const h1 = b[o + 33 + 2 * ib];
      const idx = [b[qs] | ((h0 << 8) & 0x700), b[qs + 1] | ((h0 << 4) & 0x700), b[qs + 2] | ((h1 << 8) & 0x700), b[qs + 3] | ((h1 << 4) & 0x700)];
      const delta = [h0 & 0x08, h0 & 0x80, h1 & 0x08, h1 & 0x80].map((m) => (m ? -IQ1S_DELTA : IQ1S_DELTA));
      for (let l = 0; l < 4; l++) {
        const dl = l < 2 ? dl1 : dl2;
        for (let j = 0; j < 8; j++) y[yo++] = dl * (g[8 * idx[l] + j] + delta[l]);
      }
    }
  }
};

export const IQ_DEQUANTIZERS: Record<string, DequantizeFn> = {
  iq2_xxs: iq2xxs, iq2_xs: iq2xs, iq2_s: iq2s, iq3_xxs: iq3xxs, iq3_s: iq3s, iq1_s: iq1s, iq1_m: iq1m,
};
