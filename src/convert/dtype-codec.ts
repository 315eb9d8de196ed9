/**
 * Plain dtype conversions for convert: stored bytes → float32 values, float32 → f16/bf16/f32 bytes,
 * and lossless pass-through when the dtype does not change. Block (quantized) types go through the
 * quantizers in ./quant. All conversions are little-endian.
 */
import { ModelwiseError } from '../errors.js';
import { DTYPE_BYTES, GGML_BY_NAME } from '../dtypes.js';
import { dequantize, dequantizeInto, quantizeRows } from './quant/index.js';

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** IEEE binary16 → number (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let halfTable: Float32Array | undefined;

/** 16-bit elements as a Uint16Array view (a copy when the bytes are not 2-aligned). */
function u16view(bytes: Uint8Array, count: number): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  return new Uint16Array(bytes.slice(0, count * 2).buffer);
}

/**
 * Stored bytes of `dtype` → float32 values (ggml block types are dequantized). With `into` (at
 * least `count` long) the values are written there and a view of it is returned: no allocation.
 */
export function toF32(dtype: string, bytes: Uint8Array, count: number, into?: Float32Array): Float32Array {
  const g = GGML_BY_NAME.get(dtype);
  if (into && into.length < count) throw new RangeError(`toF32: destination of ${into.length} values for ${count}`);
  if (g?.quantized) {
    if (!into) return dequantize(dtype, bytes, count);
    const out = into.subarray(0, count);
    dequantizeInto(dtype, bytes, 0, count, out, 0);
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = into ? into.subarray(0, count) : new Float32Array(count);
  const need = (DTYPE_BYTES[dtype] ?? 0) * count;
  if (!DTYPE_BYTES[dtype]) throw new ModelwiseError('UNSUPPORTED', `cannot convert dtype ${dtype} to float`);
  if (bytes.length < need) throw new ModelwiseError('MALFORMED', `tensor data has ${bytes.length} bytes, ${need} expected for ${count} × ${dtype}`);
  // Fast paths for the common float dtypes (typed-array views; the data is little-endian).
  if (LITTLE_ENDIAN && dtype === 'f32') {
    new Uint8Array(out.buffer, out.byteOffset, count * 4).set(bytes.subarray(0, count * 4));
    return out;
  }
  if (LITTLE_ENDIAN && dtype === 'bf16') {
    const src = u16view(bytes, count);
    const dst = new Uint32Array(out.buffer, out.byteOffset, count);
    for (let i = 0; i < count; i++) dst[i] = src[i]! << 16;
    return out;
  }
  if (LITTLE_ENDIAN && dtype === 'f16') {
    if (!halfTable) {
      halfTable = new Float32Array(65536);
      for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
    }
    const src = u16view(bytes, count);
    const t = halfTable;
    for (let i = 0; i < count; i++) out[i] = t[src[i]!]!;
    return out;
  }
  switch (dtype) {
    case 'f32':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
      break;
    case 'f64':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      break;
    case 'f16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
      break;
    case 'bf16':
      for (let i = 0; i < count; i++) {
        u32buf[0] = dv.getUint16(i * 2, true) << 16;
        out[i] = f32buf[0]!;
      }
      break;
    case 'i8': case 'qint8':
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(i);
      break;
    case 'u8': case 'quint8': case 'bool':
      for (let i = 0; i < count; i++) out[i] = bytes[i]!;
      break;
    case 'i16':
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, true);
      break;
    case 'u16':
      for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, true);
      break;
    case 'i32': case 'qint32':
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, true);
      break;
    case 'u32':
      for (let i = 0; i < count; i++) out[i] = dv.getUint32(i * 4, true);
      break;
    case 'i64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
      break;
    case 'u64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigUint64(i * 8, true));
      break;
    default:
      throw new ModelwiseError('UNSUPPORTED', `cannot convert dtype ${dtype} to float`);
  }
  return out;
}

/** float32 values → stored bytes of a float or ggml type (rows of `rowLength` for block types). */
export function fromF32(dtype: string, values: Float32Array, rowLength: number = values.length): Uint8Array {
  if (dtype === 'f32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  if (GGML_BY_NAME.has(dtype)) return quantizeRows(dtype, values, rowLength);
  throw new ModelwiseError('UNSUPPORTED', `cannot write dtype ${dtype}`);
}

/** Bytes of `count` elements stored as `dtype` (block types by ggml's layout). */
export function storedBytes(dtype: string, count: number): number | undefined {
  const g = GGML_BY_NAME.get(dtype);
  if (g && g.quantized) return count % g.blockSize === 0 ? (count / g.blockSize) * g.typeSize : undefined;
  const b = DTYPE_BYTES[dtype];
  return b === undefined ? undefined : Math.ceil(b * count);
}
