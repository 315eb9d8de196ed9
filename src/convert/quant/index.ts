/**
 * Quantization API: bit-exact TypeScript ports of ggml's reference quantizers
 * (`quantize_row_*_ref`, which llama-quantize uses when no importance matrix is given) and of
 * its dequantizers. Type names are the canonical lowercase ggml names of src/dtypes.ts
 * (`q4_k`); upper case (`Q4_K`) is accepted too.
 *
 * Everything is synchronous, allocation-free per block, and runs anywhere (no node:* imports),
 * so the converter can call it from worker threads on slices of a tensor. The float-heavy parts
 * run as WebAssembly kernels generated at first use (wasm/; native float32, SIMD), with the
 * TypeScript ports as the fallback where WebAssembly is unavailable — both give ggml's bytes.
 */
import { GGML_BY_NAME, type GgmlType } from '../../dtypes.js';
import { dequantizeBF16, dequantizeF16, dequantizeF32, quantizeBF16, quantizeF16, quantizeF32 } from './floats.js';
import {
  dequantizeQ4_0, dequantizeQ4_1, dequantizeQ5_0, dequantizeQ5_1, dequantizeQ8_0,
  quantizeQ4_0, quantizeQ4_1, quantizeQ5_0, quantizeQ5_1, quantizeQ8_0,
} from './legacy.js';
import { dequantizeQ2K, quantizeQ2K } from './q2k.js';
import { dequantizeQ3K, quantizeQ3K } from './q3k.js';
import { dequantizeQ4K, quantizeQ4K } from './q4k.js';
import { dequantizeQ5K, quantizeQ5K } from './q5k.js';
import { dequantizeQ6K, quantizeQ6K } from './q6k.js';
import { EXTRA_DEQUANTIZERS } from './dequant-extra.js';
import { IQ_DEQUANTIZERS } from './dequant-iq.js';
import { rowQuantizer } from './engine.js';

export {
  chooseTensorType, compareTensorNames, createPolicyState, FILE_TYPES, planTensorTypes, tensorAllowsQuantization,
  type FileType, type ModelFacts, type PlannedTensor, type PolicyOptions, type PolicyTensor,
} from './policy.js';
export { engineKind } from './engine.js';
export { prepareKernels as prepareQuantKernels } from './wasm/index.js';

/** (src, srcOffset in elements, count in blocks, dst, dstOffset in bytes). */
export type QuantizeFn = (x: Float32Array, xo: number, nBlocks: number, y: Uint8Array, yo: number) => void;
/** (src, srcOffset in bytes, count in blocks, dst, dstOffset in elements). */
export type DequantizeFn = (b: Uint8Array, o: number, nBlocks: number, y: Float32Array, yo: number) => void;

const QUANTIZERS: Record<string, QuantizeFn> = {
  f32: quantizeF32,
  f16: rowQuantizer('f16row', 1, 2, quantizeF16),
  bf16: rowQuantizer('bf16row', 1, 2, quantizeBF16),
  q8_0: rowQuantizer('q8_0', 32, 34, quantizeQ8_0),
  q4_0: rowQuantizer('q4_0', 32, 18, quantizeQ4_0),
  q4_1: rowQuantizer('q4_1', 32, 20, quantizeQ4_1),
  q5_0: rowQuantizer('q5_0', 32, 22, quantizeQ5_0),
  q5_1: rowQuantizer('q5_1', 32, 24, quantizeQ5_1),
  q2_k: quantizeQ2K, q3_k: quantizeQ3K, q4_k: quantizeQ4K, q5_k: quantizeQ5K, q6_k: quantizeQ6K,
};

const DEQUANTIZERS: Record<string, DequantizeFn> = {
  f32: dequantizeF32, f16: dequantizeF16, bf16: dequantizeBF16,
  q8_0: dequantizeQ8_0, q4_0: dequantizeQ4_0, q4_1: dequantizeQ4_1, q5_0: dequantizeQ5_0, q5_1: dequantizeQ5_1,
  q2_k: dequantizeQ2K, q3_k: dequantizeQ3K, q4_k: dequantizeQ4K, q5_k: dequantizeQ5K, q6_k: dequantizeQ6K,
  ...EXTRA_DEQUANTIZERS,
  ...IQ_DEQUANTIZERS,
};

/** The ggml type for a name (`q4_k` or `Q4_K`); throws for an unknown name. */
export function ggmlType(type: string): GgmlType {
  const t = GGML_BY_NAME.get(type.toLowerCase());
  if (!t) throw new Error(`unknown ggml type "${type}"`);
  return t;
}

/** Types quantizeRows accepts (the ones llama-quantize writes without an imatrix). */
export const QUANTIZABLE_TYPES: readonly string[] = Object.keys(QUANTIZERS);
/** Types dequantize accepts. */
export const DEQUANTIZABLE_TYPES: readonly string[] = Object.keys(DEQUANTIZERS);

export function canQuantize(type: string): boolean {
  return type.toLowerCase() in QUANTIZERS;
}

export function canDequantize(type: string): boolean {
  return type.toLowerCase() in DEQUANTIZERS;
}

/** Bytes of `n` elements of `type` (throws unless n is a whole number of blocks). */
export function quantizedSize(type: string, n: number): number {
  const t = ggmlType(type);
  if (!Number.isSafeInteger(n) || n < 0 || n % t.blockSize !== 0) {
    throw new Error(`${n} elements is not a whole number of ${t.name} blocks (${t.blockSize})`);
  }
  return (n / t.blockSize) * t.typeSize;
}

/**
 * Quantize `n` elements of src (from srcOffset) into dst at dstOffset — the allocation-free form
 * of quantizeRows (rows do not matter to the reference quantizers, only whole blocks).
 */
export function quantizeInto(type: string, src: Float32Array, srcOffset: number, n: number, dst: Uint8Array, dstOffset: number): number {
  const t = ggmlType(type);
  const fn = QUANTIZERS[t.name];
  if (!fn) throw new Error(`quantizing to ${t.name} is not supported (supported: ${QUANTIZABLE_TYPES.join(', ')})`);
  const size = quantizedSize(t.name, n);
  if (srcOffset < 0 || srcOffset + n > src.length) throw new RangeError('source range out of bounds');
  if (dstOffset < 0 || dstOffset + size > dst.length) throw new RangeError('destination too small');
  fn(src, srcOffset, n / t.blockSize, dst, dstOffset);
  return size;
}

/**
 * Quantize a row-major matrix (`src.length / rowLength` rows of `rowLength` values) the way
 * `ggml_quantize_chunk(type, src, dst, 0, nrows, rowLength, NULL)` does. Returns the bytes.
 */
export function quantizeRows(type: string, src: Float32Array, rowLength: number): Uint8Array {
  const t = ggmlType(type);
  if (!Number.isSafeInteger(rowLength) || rowLength <= 0) throw new RangeError(`bad row length ${rowLength}`);
  if (src.length % rowLength !== 0) throw new RangeError(`${src.length} values are not whole rows of ${rowLength}`);
  if (rowLength % t.blockSize !== 0) {
    throw new RangeError(`row length ${rowLength} is not a multiple of the ${t.name} block size ${t.blockSize}`);
  }
  const out = new Uint8Array(quantizedSize(t.name, src.length));
  quantizeInto(t.name, src, 0, src.length, out, 0);
  return out;
}

/** Dequantize `n` elements from bytes (at byteOffset) into dst at dstOffset. */
export function dequantizeInto(type: string, bytes: Uint8Array, byteOffset: number, n: number, dst: Float32Array, dstOffset: number): void {
  const t = ggmlType(type);
  const fn = DEQUANTIZERS[t.name];
  if (!fn) throw new Error(`dequantizing ${t.name} is not supported`);
  const size = quantizedSize(t.name, n);
  if (byteOffset < 0 || byteOffset + size > bytes.length) throw new RangeError(`${t.name}: need ${size} bytes for ${n} values`);
  if (dstOffset < 0 || dstOffset + n > dst.length) throw new RangeError('destination too small');
  fn(bytes, byteOffset, n / t.blockSize, dst, dstOffset);
}

/** The `n` float32 values of a tensor stored as `type` in `bytes` (ggml's `to_float`). */
export function dequantize(type: string, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  dequantizeInto(type, bytes, 0, n, out, 0);
  return out;
}
