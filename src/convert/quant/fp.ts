/**
 * float32 helpers that reproduce ggml's C arithmetic exactly (ggml/src/ggml-impl.h, ggml-quants.c).
 *
 * JS numbers are doubles. A C `float` operation on float operands equals `Math.fround` of the
 * same operation done in double (double has more than 2·24+2 bits, so no double-rounding error
 * for + − × ÷ and sqrt). Every quantizer in this folder therefore applies `fround` wherever C
 * stores to a `float`.
 */

const fround = Math.fround;

/** Scratch for bit casts (module-level: no allocation per call). */
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const I32 = new Int32Array(F32.buffer);

/** ggml `GROUP_MAX_EPS` (1e-15f). */
export const GROUP_MAX_EPS = fround(1e-15);

/** The float32 whose bits are `u`. */
export function f32FromBits(u: number): number {
  U32[0] = u >>> 0;
  return F32[0];
}

/**
 * ggml `nearest_int(fval)`: `bits(fval + 12582912.f) & 0x7fffff) - 0x400000`.
 * For |fval| ≤ 4194303 this is round-half-to-even; outside (and for inf/NaN) the bit trick
 * gives a deterministic value that C code relies on through later clamps, so it is emulated.
 */
export function nearestInt(v: number): number {
  if (v <= 4194303 && v >= -4194303) return fround(v + 12582912) - 12582912;
  return nearestIntSlow(v);
}

function nearestIntSlow(v: number): number {
  F32[0] = v + 12582912;
  return (I32[0] & 0x7fffff) - 0x400000;
}

/**
 * `ggml_compute_fp32_to_fp16`: round to nearest even, overflow → ±inf, NaN → 0x7E00 with the
 * sign kept (0xFE00 for a negative NaN), subnormals rounded exactly.
 */
export function f32ToF16(x: number): number {
  F32[0] = x;
  const w = U32[0];
  const sign = (w >>> 16) & 0x8000;
  const a = w & 0x7fffffff;
  if (a >= 0x38800000) {
    // normal f16 range or beyond
    if (a >= 0x477ff000) return a > 0x7f800000 ? sign | 0x7e00 : sign | 0x7c00;
    let h = (((a >>> 23) - 112) << 10) | ((a >>> 13) & 0x3ff);
    const rem = a & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++;
    return sign | h;
  }
  // subnormal f16 or zero: round(|x| · 2^24) to nearest even (exact in double)
  const v = F32[0] < 0 ? -F32[0] : F32[0];
  const r = v * 16777216 + 4503599627370496 - 4503599627370496;
  return sign | r;
}

/** `ggml_compute_fp32_to_bf16`: round to nearest even on the upper 16 bits; NaN → quiet NaN. */
export function f32ToBf16(x: number): number {
  F32[0] = x;
  const u = U32[0];
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 64;
  return ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16) & 0xffff;
}

let f16Table: Float32Array | undefined;

/** f16 bits → float32 value, for every one of the 65536 patterns (built once, 256 KiB). */
export function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 31;
    const m = h & 0x3ff;
    let v: number;
    if (e === 0) v = m * 2 ** -24;
    else if (e === 31) v = m === 0 ? Infinity : NaN;
    else v = (1024 + m) * 2 ** (e - 25);
    t[h] = s * v;
  }
  // NaN: ggml_compute_fp16_to_fp32 keeps the payload and the sign, and the float multiply it
  // does quiets the NaN (bit 22 set)
  const u = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) u[h] = (((h & 0x8000) << 16) | 0x7fc00000 | ((h & 0x3ff) << 13)) >>> 0;
  }
  f16Table = t;
  return t;
}

/** f16 bits → float32 value. */
export function f16ToF32(h: number): number {
  return (f16Table ?? f16ToF32Table())[h & 0xffff];
}
