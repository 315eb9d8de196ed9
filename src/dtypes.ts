/**
 * Canonical dtype names (../shared/DESIGN.md) and their storage sizes, plus the ggml type table
 * (ggml/include/ggml.h; sizes checked against ggml_blck_size / ggml_type_size, see
 * ../shared/notes/gguf-and-quantization.md §1.4). One table for every format that needs it.
 */

/** Bytes per element of the plain (non-block) canonical dtypes. */
export const DTYPE_BYTES: Record<string, number> = {
  f64: 8, f32: 4, f16: 2, bf16: 2,
  f8_e4m3: 1, f8_e5m2: 1, f8e4m3fn: 1, f8e4m3fnuz: 1, f8e5m2: 1, f8e5m2fnuz: 1, f8_e8m0: 1,
  i64: 8, i32: 4, i16: 2, i8: 1, u64: 8, u32: 4, u16: 2, u8: 1, bool: 1,
  c64: 8, c128: 16, qint8: 1, quint8: 1, qint32: 4, quint4x2: 0.5, quint2x4: 0.25,
};

/** Bits per element for a canonical dtype (block types included), or undefined when unknown. */
export function bitsPerElement(dtype: string): number | undefined {
  const b = DTYPE_BYTES[dtype];
  if (b !== undefined) return b * 8;
  const g = GGML_BY_NAME.get(dtype);
  return g ? (g.typeSize * 8) / g.blockSize : undefined;
}

export interface GgmlType {
  id: number;
  /** Canonical lowercase name (`q4_k`). */
  name: string;
  blockSize: number;
  typeSize: number;
  /** True for quantized block types. */
  quantized: boolean;
}

const T = (id: number, name: string, blockSize: number, typeSize: number, quantized = true): GgmlType => ({ id, name, blockSize, typeSize, quantized });

/** ggml_type ids → layout. Ids 4, 5 (Q4_2, Q4_3) and 31–33, 36–38 (runtime repacks) are removed types. */
export const GGML_TYPES: readonly GgmlType[] = [
  T(0, 'f32', 1, 4, false),
  T(1, 'f16', 1, 2, false),
  T(2, 'q4_0', 32, 18),
  T(3, 'q4_1', 32, 20),
  T(6, 'q5_0', 32, 22),
  T(7, 'q5_1', 32, 24),
  T(8, 'q8_0', 32, 34),
  T(9, 'q8_1', 32, 36),
  T(10, 'q2_k', 256, 84),
  T(11, 'q3_k', 256, 110),
  T(12, 'q4_k', 256, 144),
  T(13, 'q5_k', 256, 176),
  T(14, 'q6_k', 256, 210),
  T(15, 'q8_k', 256, 292),
  T(16, 'iq2_xxs', 256, 66),
  T(17, 'iq2_xs', 256, 74),
  T(18, 'iq3_xxs', 256, 98),
  T(19, 'iq1_s', 256, 50),
  T(20, 'iq4_nl', 32, 18),
  T(21, 'iq3_s', 256, 110),
  T(22, 'iq2_s', 256, 82),
  T(23, 'iq4_xs', 256, 136),
  T(24, 'i8', 1, 1, false),
  T(25, 'i16', 1, 2, false),
  T(26, 'i32', 1, 4, false),
  T(27, 'i64', 1, 8, false),
  T(28, 'f64', 1, 8, false),
  T(29, 'iq1_m', 256, 56),
  T(30, 'bf16', 1, 2, false),
  T(34, 'tq1_0', 256, 54),
  T(35, 'tq2_0', 256, 66),
  T(39, 'mxfp4', 32, 17),
  T(40, 'nvfp4', 64, 36),
  T(41, 'q1_0', 128, 18),
  T(42, 'q2_0', 64, 18),
];

export const GGML_BY_ID = new Map(GGML_TYPES.map((t) => [t.id, t]));
export const GGML_BY_NAME = new Map(GGML_TYPES.map((t) => [t.name, t]));

/** llama_ftype (general.file_type) names (include/llama.h). */
export const LLAMA_FTYPES: Record<number, string> = {
  0: 'ALL_F32', 1: 'MOSTLY_F16', 2: 'MOSTLY_Q4_0', 3: 'MOSTLY_Q4_1', 4: 'MOSTLY_Q4_1_SOME_F16',
  5: 'MOSTLY_Q4_2', 6: 'MOSTLY_Q4_3', 7: 'MOSTLY_Q8_0', 8: 'MOSTLY_Q5_0', 9: 'MOSTLY_Q5_1',
  10: 'MOSTLY_Q2_K', 11: 'MOSTLY_Q3_K_S', 12: 'MOSTLY_Q3_K_M', 13: 'MOSTLY_Q3_K_L', 14: 'MOSTLY_Q4_K_S',
  15: 'MOSTLY_Q4_K_M', 16: 'MOSTLY_Q5_K_S', 17: 'MOSTLY_Q5_K_M', 18: 'MOSTLY_Q6_K', 19: 'MOSTLY_IQ2_XXS',
  20: 'MOSTLY_IQ2_XS', 21: 'MOSTLY_Q2_K_S', 22: 'MOSTLY_IQ3_XS', 23: 'MOSTLY_IQ3_XXS', 24: 'MOSTLY_IQ1_S',
  25: 'MOSTLY_IQ4_NL', 26: 'MOSTLY_IQ3_S', 27: 'MOSTLY_IQ3_M', 28: 'MOSTLY_IQ2_S', 29: 'MOSTLY_IQ2_M',
  30: 'MOSTLY_IQ4_XS', 31: 'MOSTLY_IQ1_M', 32: 'MOSTLY_BF16', 33: 'MOSTLY_Q4_0_4_4', 34: 'MOSTLY_Q4_0_4_8',
  35: 'MOSTLY_Q4_0_8_8', 36: 'MOSTLY_TQ1_0', 37: 'MOSTLY_TQ2_0', 38: 'MOSTLY_MXFP4_MOE', 39: 'MOSTLY_NVFP4',
  40: 'MOSTLY_Q1_0', 41: 'MOSTLY_Q2_0',
};

/** The short name users know (`Q4_K_M`, `F16`) for a llama ftype. */
export function ftypeShortName(ftype: number): string | undefined {
  const n = LLAMA_FTYPES[ftype & ~1024];
  if (!n) return undefined;
  const s = n.replace(/^MOSTLY_/, '').replace(/^ALL_/, '');
  return ftype & 1024 ? `${s} (guessed)` : s;
}

/** Bytes of a ggml tensor with `elements` elements of `type` (undefined when not a whole number of blocks). */
export function ggmlBytes(type: GgmlType, elements: number): number | undefined {
  if (elements % type.blockSize !== 0) return undefined;
  return (elements / type.blockSize) * type.typeSize;
}
