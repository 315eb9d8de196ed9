/**
 * Row conversions for the plain float types ggml_quantize_chunk handles: F32 (copy), F16
 * (`ggml_fp32_to_fp16_row`: round to nearest even, overflow → ±inf, NaN → 0x7E00 | sign) and
 * BF16 (`ggml_fp32_to_bf16_row_ref`: round to nearest even, NaN → quiet). Little-endian output.
 */
import { f16ToF32Table } from './fp.js';

/** Bit view of a Float32Array (no copy). */
function bitsOf(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

export function quantizeF32(x: Float32Array, xo: number, n: number, y: Uint8Array, yo: number): void {
  y.set(new Uint8Array(x.buffer, x.byteOffset + xo * 4, n * 4), yo);
}

export function quantizeF16(x: Float32Array, xo: number, n: number, y: Uint8Array, yo: number): void {
  const u = bitsOf(x);
  for (let i = 0; i < n; i++, yo += 2) {
    const w = u[xo + i];
    const a = w & 0x7fffffff;
    let h: number;
    if (a >= 0x38800000) {
      if (a >= 0x477ff000) h = a > 0x7f800000 ? 0x7e00 : 0x7c00;
      else {
        h = (((a >>> 23) - 112) << 10) | ((a >>> 13) & 0x3ff);
        const rem = a & 0x1fff;
        if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++;
      }
    } else {
      const v = x[xo + i];
      h = (v < 0 ? -v : v) * 16777216 + 4503599627370496 - 4503599627370496;
    }
    h |= (w >>> 16) & 0x8000;
    y[yo] = h & 0xff;
    y[yo + 1] = h >>> 8;
  }
}

export function quantizeBF16(x: Float32Array, xo: number, n: number, y: Uint8Array, yo: number): void {
  const u = bitsOf(x);
  for (let i = 0; i < n; i++, yo += 2) {
    const w = u[xo + i];
    const h = (w & 0x7fffffff) > 0x7f800000 ? (w >>> 16) | 64 : (w + 0x7fff + ((w >>> 16) & 1)) >>> 16;
    y[yo] = h & 0xff;
    y[yo + 1] = (h >>> 8) & 0xff;
  }
}

let f16Bits: Uint32Array | undefined;

export function dequantizeF16(b: Uint8Array, o: number, n: number, y: Float32Array, yo: number): void {
  const t = (f16Bits ??= new Uint32Array(f16ToF32Table().buffer));
  const out = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < n; i++, o += 2) out[yo + i] = t[b[o] | (b[o + 1] << 8)];
}

export function dequantizeBF16(b: Uint8Array, o: number, n: number, y: Float32Array, yo: number): void {
  const out = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < n; i++, o += 2) out[yo + i] = ((b[o] | (b[o + 1] << 8)) << 16) >>> 0;
}

export function dequantizeF32(b: Uint8Array, o: number, n: number, y: Float32Array, yo: number): void {
  new Uint8Array(y.buffer, y.byteOffset + yo * 4, n * 4).set(b.subarray(o, o + n * 4));
}
