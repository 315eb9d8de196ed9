/**
 * safetensors writer (https://github.com/huggingface/safetensors#format): u64 header length, JSON
 * header padded with spaces to 8 bytes, then the tensors back to back. The header is written first
 * (all sizes are known from the plan), then each tensor as it is produced.
 */
import { ModelwiseError } from '../../errors.js';

/** Canonical dtype → safetensors dtype name. */
export const SAFETENSORS_DTYPE: Record<string, string> = {
  f64: 'F64', f32: 'F32', f16: 'F16', bf16: 'BF16', i64: 'I64', i32: 'I32', i16: 'I16', i8: 'I8',
  u64: 'U64', u32: 'U32', u16: 'U16', u8: 'U8', bool: 'BOOL', f8_e4m3: 'F8_E4M3', f8e4m3fn: 'F8_E4M3',
  f8_e5m2: 'F8_E5M2', f8e5m2: 'F8_E5M2', f8_e8m0: 'F8_E8M0', c64: 'C64',
};

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  /** numpy/PyTorch order (row-major, outermost first). */
  shape: number[];
  byteLength: number;
}

/** The header bytes (length prefix included) for entries written in this order. */
export function safetensorsHeader(entries: SafetensorsEntry[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const e of entries) {
    const dt = SAFETENSORS_DTYPE[e.dtype];
    if (!dt) throw new ModelwiseError('UNSUPPORTED', `dtype ${e.dtype} of ${e.name} has no safetensors equivalent`);
    if (e.name in header) throw new ModelwiseError('USAGE', `duplicate tensor name ${e.name}`);
    header[e.name] = { dtype: dt, shape: e.shape, data_offsets: [offset, offset + e.byteLength] };
    offset += e.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}
