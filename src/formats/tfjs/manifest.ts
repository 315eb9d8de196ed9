/**
 * The TF.js weights manifest (tfjs-core src/io/types.ts WeightsManifestConfig) and where each
 * weight's bytes are: every group's shard files (`paths`) are concatenated in order, and the
 * group's weights follow one another in that buffer (tfjs-core io_utils.ts decodeWeights /
 * weights_loader.ts). Quantized weights (uint8 / uint16 affine `q × scale + min`, float16) keep the
 * manifest dtype in the report and are stored in the quantized type; `dequantizeTfjs` decodes them.
 * String weights are variable-length (u32 length + bytes per element), so the offsets of the
 * weights after one are only known by reading its lengths.
 */
import { ModelwiseError } from '../../errors.js';
import { isObject } from '../../identify/probe.js';
import type { TensorInfo, TensorQuantization } from '../../types.js';

/** tfjs dtype → canonical name (the oracle's TFJS_DTYPES). */
export const TFJS_DTYPES: Record<string, string> = {
  float32: 'f32', int32: 'i32', bool: 'bool', string: 'string', complex64: 'c64', float16: 'f16', uint8: 'u8', uint16: 'u16', int64: 'i64', int8: 'i8', int16: 'i16',
};
/** Bytes per element as stored (tfjs-core DTYPE_VALUE_SIZE_MAP). */
export const TFJS_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, float16: 2, uint8: 1, uint16: 2, int64: 8, int8: 1, int16: 2 };

/** Weights listed in one manifest (guards a pathological JSON). */
const MAX_WEIGHTS = 10_000_000;

export interface ManifestWeight {
  name: string;
  /** The entry's dtype (what the weight decodes to). */
  dtype: string;
  shape: number[] | null;
  elements: number | null;
  /** The stored dtype: the quantization dtype when quantized. */
  stored: string;
  quantization?: { dtype: string; scale?: number; min?: number; original?: string };
  group: number;
  /** Offset in the group's concatenated shards, byte length as stored (null after a string weight / for strings). */
  offset: number | null;
  byteLength: number | null;
}

export interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
  /** Bytes the group's weights take (null when a string weight makes it unknown). */
  bytes: number | null;
}

export function parseManifest(v: unknown, file: string): ManifestGroup[] {
  if (!Array.isArray(v)) throw new ModelwiseError('MALFORMED', 'weightsManifest is not an array', { file, expected: '[{paths, weights}]' });
  const groups: ManifestGroup[] = [];
  let total = 0;
  v.forEach((g, gi) => {
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new ModelwiseError('MALFORMED', `weightsManifest group ${gi} has no paths/weights arrays`, { file });
    const paths = g.paths.filter((p): p is string => typeof p === 'string');
    const weights: ManifestWeight[] = [];
    let offset: number | null = 0;
    for (const w of g.weights) {
      if (++total > MAX_WEIGHTS) throw new ModelwiseError('LIMIT_EXCEEDED', `weightsManifest lists more than ${MAX_WEIGHTS} weights`, { file });
      if (!isObject(w) || typeof w.name !== 'string' || typeof w.dtype !== 'string') throw new ModelwiseError('MALFORMED', `weightsManifest group ${gi} has an entry without name/dtype`, { file });
      const shape = Array.isArray(w.shape) && w.shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) ? (w.shape as number[]) : null;
      const elements = shape ? shape.reduce((a, b) => a * b, 1) : null;
      const q = isObject(w.quantization) && typeof w.quantization.dtype === 'string' ? w.quantization : undefined;
      const stored = q ? (q.dtype as string) : w.dtype;
      const size = TFJS_BYTES[stored];
      const byteLength = elements !== null && size !== undefined && w.dtype !== 'string' ? elements * size : null;
      weights.push({
        name: w.name,
        dtype: w.dtype,
        shape,
        elements,
        stored,
        ...(q
          ? {
              quantization: {
                dtype: q.dtype as string,
                ...(typeof q.scale === 'number' ? { scale: q.scale } : {}),
                ...(typeof q.min === 'number' ? { min: q.min } : {}),
                ...(typeof q.original_dtype === 'string' ? { original: q.original_dtype } : {}),
              },
            }
          : {}),
        group: gi,
        offset,
        byteLength,
      });
      offset = offset !== null && byteLength !== null ? offset + byteLength : null;
    }
    groups.push({ paths, weights, bytes: offset });
  });
  return groups;
}

/** The report's tensor for a weight (dtype = the entry's; byteLength/offset as stored). */
export function weightTensor(w: ManifestWeight, file: string | undefined, offsetInFile: number | null): TensorInfo {
  const t: TensorInfo = {
    name: w.name,
    dtype: TFJS_DTYPES[w.dtype] ?? w.dtype,
    shape: w.shape,
    byteLength: w.byteLength,
    offset: offsetInFile,
    ...(file ? { file } : {}),
  };
  if (w.quantization) {
    const q: TensorQuantization = { scheme: w.quantization.dtype === 'float16' ? 'float16' : 'affine', storedDtype: TFJS_DTYPES[w.quantization.dtype] ?? w.quantization.dtype, bits: (TFJS_BYTES[w.quantization.dtype] ?? 0) * 8 };
    if (w.quantization.scale !== undefined) q.scale = w.quantization.scale;
    if (w.quantization.min !== undefined) q.min = w.quantization.min;
    if (w.quantization.original) q.originalDtype = w.quantization.original;
    t.quantization = q;
  }
  return t;
}

/** IEEE half → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Decode a quantized TF.js weight's stored bytes (tfjs-core io_utils.ts decodeWeights): uint8 /
 * uint16 → `q × scale + min` (rounded for int32 weights), float16 → float. Used by `convert` for
 * tensors whose `quantization` is set.
 */
export function dequantizeTfjs(tensor: TensorInfo, bytes: Uint8Array): Float32Array {
  const q = tensor.quantization;
  const stored = typeof q?.storedDtype === 'string' ? q.storedDtype : undefined;
  if (!q || !stored) throw new ModelwiseError('USAGE', `tensor ${tensor.name} is not a quantized TF.js weight`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (stored === 'f16') {
    const out = new Float32Array(bytes.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
    return out;
  }
  if (stored !== 'u8' && stored !== 'u16') throw new ModelwiseError('UNSUPPORTED', `TF.js quantization dtype ${stored} of ${tensor.name}`);
  if (typeof q.scale !== 'number' || typeof q.min !== 'number') throw new ModelwiseError('MALFORMED', `quantized weight ${tensor.name} lacks scale/min`);
  const size = stored === 'u8' ? 1 : 2;
  const out = new Float32Array(Math.floor(bytes.length / size));
  const round = tensor.dtype === 'i32';
  for (let i = 0; i < out.length; i++) {
    const v = (size === 1 ? bytes[i]! : dv.getUint16(i * 2, true)) * q.scale + q.min;
    out[i] = round ? Math.round(v) : v;
  }
  return out;
}
