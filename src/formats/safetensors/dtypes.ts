/** safetensors dtype names (shared by the detector and the inspector). */

/**
 * Every dtype of the current spec (safetensors/src/tensor.rs `Dtype`, 0.6: BOOL F4 F6_E2M3 F6_E3M2
 * U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 I16 U16 F16 BF16 I32 U32 F32 C64 F64 I64 U64) plus the FNUZ fp8
 * variants some forks write → [canonical name, bits per element]. fp8 names follow the oracle
 * (`f8e4m3fn`, `f8e5m2`, as ONNX/PyTorch spell them); the rest are the spec's names in lowercase.
 */
export const SAFETENSORS_DTYPES: Record<string, [string, number]> = {
  BOOL: ['bool', 8], F4: ['f4', 4], F6_E2M3: ['f6_e2m3', 6], F6_E3M2: ['f6_e3m2', 6], U8: ['u8', 8], I8: ['i8', 8],
  F8_E5M2: ['f8e5m2', 8], F8_E4M3: ['f8e4m3fn', 8], F8_E8M0: ['f8_e8m0', 8], F8_E4M3FNUZ: ['f8e4m3fnuz', 8], F8_E5M2FNUZ: ['f8e5m2fnuz', 8],
  I16: ['i16', 16], U16: ['u16', 16], F16: ['f16', 16], BF16: ['bf16', 16], I32: ['i32', 32], U32: ['u32', 32], F32: ['f32', 32],
  C64: ['c64', 64], F64: ['f64', 64], I64: ['i64', 64], U64: ['u64', 64],
};

/** safetensors dtype → canonical dtype name (unknown ones lowercased). */
export function canonicalDtype(dtype: string): string {
  return SAFETENSORS_DTYPES[dtype]?.[0] ?? SAFETENSORS_DTYPES[dtype.toUpperCase()]?.[0] ?? dtype.toLowerCase();
}
