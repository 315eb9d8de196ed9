/**
 * GGUF v3 writer (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): header, metadata,
 * tensor infos with offsets computed from the planned sizes, alignment padding, then tensor data
 * in tensor-info order (llama.cpp requires contiguous, aligned offsets).
 */
import { ModelwiseError } from '../../errors.js';
import { GGML_BY_NAME } from '../../dtypes.js';

export type GgufKv =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'u64' | 'i64' | 'f64'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; elementType: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'u64' | 'i64' | 'f64' | 'bool' | 'string'; value: (number | string | boolean)[] };

const TYPE_ID: Record<string, number> = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 };

export interface GgufTensorEntry {
  name: string;
  /** ggml dtype name (f32, f16, q4_k …). */
  dtype: string;
  /** ggml `ne` order (innermost first). */
  ne: number[];
  byteLength: number;
}

class Buf {
  private parts: Uint8Array[] = [];
  length = 0;
  private push(b: Uint8Array) {
    this.parts.push(b);
    this.length += b.length;
  }
  num(type: string, v: number | boolean) {
    const size = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8 }[type]!;
    const b = new Uint8Array(size);
    const dv = new DataView(b.buffer);
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    switch (type) {
      case 'u8': case 'bool': dv.setUint8(0, n); break;
      case 'i8': dv.setInt8(0, n); break;
      case 'u16': dv.setUint16(0, n, true); break;
      case 'i16': dv.setInt16(0, n, true); break;
      case 'u32': dv.setUint32(0, n, true); break;
      case 'i32': dv.setInt32(0, n, true); break;
      case 'f32': dv.setFloat32(0, n, true); break;
      case 'u64': dv.setBigUint64(0, BigInt(n), true); break;
      case 'i64': dv.setBigInt64(0, BigInt(n), true); break;
      case 'f64': dv.setFloat64(0, n, true); break;
    }
    this.push(b);
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.num('u64', b.length);
    this.push(b);
  }
  raw(b: Uint8Array) {
    this.push(b);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let p = 0;
    for (const c of this.parts) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}

export const GGUF_ALIGNMENT = 32;

/** Header bytes (padded to the alignment) and each tensor's padded size, for entries in this order. */
export function ggufHeader(kvs: [string, GgufKv][], tensors: GgufTensorEntry[], alignment = GGUF_ALIGNMENT): { header: Uint8Array; padding: number[] } {
  const b = new Buf();
  b.raw(new TextEncoder().encode('GGUF'));
  b.num('u32', 3);
  b.num('u64', tensors.length);
  b.num('u64', kvs.length);
  for (const [k, v] of kvs) {
    b.str(k);
    b.num('u32', TYPE_ID[v.type]!);
    if (v.type === 'string') b.str(v.value);
    else if (v.type === 'array') {
      b.num('u32', TYPE_ID[v.elementType]!);
      b.num('u64', v.value.length);
      for (const x of v.value) {
        if (v.elementType === 'string') b.str(String(x));
        else b.num(v.elementType, x as number | boolean);
      }
    } else b.num(v.type, v.value);
  }
  let offset = 0;
  const padding: number[] = [];
  for (const t of tensors) {
    const g = GGML_BY_NAME.get(t.dtype);
    if (!g) throw new ModelwiseError('UNSUPPORTED', `dtype ${t.dtype} of ${t.name} is not a ggml type`);
    if (new TextEncoder().encode(t.name).length >= 64) throw new ModelwiseError('UNSUPPORTED', `tensor name ${t.name} is longer than the 63 bytes GGUF readers accept (llama.cpp, gguf-py); convert this model to safetensors instead`);
    b.str(t.name);
    b.num('u32', t.ne.length);
    for (const d of t.ne) b.num('u64', d);
    b.num('u32', g.id);
    b.num('u64', offset);
    const pad = (alignment - (t.byteLength % alignment)) % alignment;
    padding.push(pad);
    offset += t.byteLength + pad;
  }
  const headPad = (alignment - (b.length % alignment)) % alignment;
  b.raw(new Uint8Array(headPad));
  return { header: b.bytes(), padding };
}
