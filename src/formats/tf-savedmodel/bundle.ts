/**
 * The TensorFlow messages stored in checkpoint tables, decoded field by field from their .proto
 * definitions (hand-written walkers over ../../codecs/protobuf.ts; see README for why not codegen):
 *
 * - DataType (tensorflow/core/framework/types.proto): DT_FLOAT = 1 … DT_UINT4 = 30; `_REF` = +100;
 * - TensorShapeProto (tensor_shape.proto): dim = 2 (Dim { size = 1 int64, name = 2 }), unknown_rank = 3;
 * - BundleHeaderProto (tensorflow/core/protobuf/tensor_bundle.proto): num_shards = 1,
 *   endianness = 2 (LITTLE = 0, BIG = 1), version = 3 (VersionDef { producer = 1, min_consumer = 2 });
 * - BundleEntryProto: dtype = 1, shape = 2, shard_id = 3, offset = 4, size = 5, crc32c = 6 (fixed32),
 *   slices = 7 (TensorSliceProto);
 * - SavedTensorSlices (tensorflow/core/util/saved_tensor_slice.proto), the V1 checkpoint's "" entry:
 *   meta = 1 (SavedTensorSliceMeta { tensor = 1 (SavedSliceMeta { name = 1, shape = 2, type = 3,
 *   slice = 4 }), versions = 2 }), data = 2.
 */
import { WIRE, int64, readVarint, scanMessage, fieldString, type ProtoField } from '../../codecs/protobuf.js';
import { LIMITS } from '../../limits.js';
import type { Dim } from '../../types.js';

/** DataType number → canonical dtype (the oracle's names; types.proto order). */
const DTYPES: Record<number, string> = {
  0: 'invalid', 1: 'f32', 2: 'f64', 3: 'i32', 4: 'u8', 5: 'i16', 6: 'i8', 7: 'string', 8: 'c64', 9: 'i64',
  10: 'bool', 11: 'qint8', 12: 'quint8', 13: 'qint32', 14: 'bf16', 15: 'qint16', 16: 'quint16', 17: 'u16',
  18: 'c128', 19: 'f16', 20: 'resource', 21: 'variant', 22: 'u32', 23: 'u64', 24: 'f8e5m2', 25: 'f8e4m3fn',
  26: 'f8e4m3fnuz', 27: 'f8e4m3b11fnuz', 28: 'f8e5m2fnuz', 29: 'i4', 30: 'u4',
};

/** Canonical dtype of a TF DataType; reference types (101…) get a `_ref` suffix as stored. */
export function tfDtype(v: number): string {
  if (v > 100 && v < 200) return `${DTYPES[v - 100] ?? String(v - 100)}_ref`;
  return DTYPES[v] ?? String(v);
}

/** Bytes per element of the fixed-size TF dtypes (string, resource and variant have none). */
export const TF_DTYPE_BYTES: Record<string, number> = {
  f32: 4, f64: 8, i32: 4, u8: 1, i16: 2, i8: 1, c64: 8, i64: 8, bool: 1, qint8: 1, quint8: 1, qint32: 4,
  bf16: 2, qint16: 2, quint16: 2, u16: 2, c128: 16, f16: 2, u32: 4, u64: 8, f8e5m2: 1, f8e4m3fn: 1,
  f8e4m3fnuz: 1, f8e4m3b11fnuz: 1, f8e5m2fnuz: 1,
};

/** TensorShapeProto → shape: -1 (any negative) → "?", unknown_rank → null; undefined when malformed. */
export function tfShape(buf: Uint8Array, start: number, end: number): Dim[] | null | undefined {
  const s = scanMessage(buf, start, end, { maxFields: LIMITS.tensorRank * 2 + 8 });
  if (!s.ok || !s.complete) return undefined;
  const dims: Dim[] = [];
  let unknownRank = false;
  for (const f of s.fields) {
    if (f.field === 2 && f.wire === WIRE.len) {
      if (dims.length >= LIMITS.tensorRank) return undefined;
      const d = scanMessage(buf, f.at, f.end, { maxFields: 8 });
      if (!d.ok) return undefined;
      const size = d.fields.find((g) => g.field === 1 && g.wire === WIRE.varint);
      const n = size ? int64(size.lo!, size.hi!) : 0;
      dims.push(n < 0 ? '?' : n);
    } else if (f.field === 3 && f.wire === WIRE.varint) unknownRank = f.value !== 0;
  }
  return unknownRank ? null : dims;
}

/** A whole message's fields or undefined when the bytes are not one. */
function fields(buf: Uint8Array): ProtoField[] | undefined {
  const s = scanMessage(buf, 0, buf.length, { maxFields: 10_000 });
  return s.ok && s.complete ? s.fields : undefined;
}

const uint = (f: ProtoField | undefined): number | undefined => (f && f.wire === WIRE.varint ? f.value : undefined);

export interface BundleHeader {
  numShards: number;
  littleEndian: boolean;
  producer?: number;
}

export function parseBundleHeader(buf: Uint8Array): BundleHeader | undefined {
  const fs = fields(buf);
  if (!fs) return undefined;
  const h: BundleHeader = { numShards: 1, littleEndian: true };
  for (const f of fs) {
    if (f.field === 1 && f.wire === WIRE.varint) h.numShards = f.value ?? 0;
    else if (f.field === 2 && f.wire === WIRE.varint) h.littleEndian = f.value === 0;
    else if (f.field === 3 && f.wire === WIRE.len) {
      const v = scanMessage(buf, f.at, f.end, { maxFields: 64 });
      if (v.ok) h.producer = uint(v.fields.find((g) => g.field === 1));
    }
  }
  return h;
}

export interface BundleEntry {
  dtype: number;
  shape: Dim[] | null;
  shardId: number;
  offset: number;
  size: number;
  slices: number;
}

/** BundleEntryProto; undefined when the bytes are not one (or a count exceeds a safe integer). */
export function parseBundleEntry(buf: Uint8Array): BundleEntry | undefined {
  const fs = fields(buf);
  if (!fs) return undefined;
  const e: BundleEntry = { dtype: 0, shape: [], shardId: 0, offset: 0, size: 0, slices: 0 };
  for (const f of fs) {
    switch (f.field) {
      case 1: if (f.wire !== WIRE.varint) return undefined; e.dtype = f.value ?? -1; break;
      case 2: {
        if (f.wire !== WIRE.len) return undefined;
        const s = tfShape(buf, f.at, f.end);
        if (s === undefined) return undefined;
        e.shape = s;
        break;
      }
      case 3: case 4: case 5: {
        if (f.wire !== WIRE.varint || f.value === undefined) return undefined;
        if (f.field === 3) e.shardId = f.value;
        else if (f.field === 4) e.offset = f.value;
        else e.size = f.value;
        break;
      }
      case 7: if (f.wire !== WIRE.len) return undefined; e.slices++; break;
      default: break; // crc32c = 6 and anything newer
    }
  }
  return e;
}

export interface SliceMeta {
  name: string;
  dtype: number;
  shape: Dim[] | null;
  slices: number;
}

/** The tensors a V1 checkpoint lists in its "" entry (SavedTensorSlices.meta.tensor). */
export function parseSavedTensorSlices(buf: Uint8Array): SliceMeta[] | undefined {
  const fs = fields(buf);
  if (!fs) return undefined;
  const meta = fs.find((f) => f.field === 1 && f.wire === WIRE.len);
  if (!meta) return [];
  const m = scanMessage(buf, meta.at, meta.end, { maxFields: 1_000_000 });
  if (!m.ok) return undefined;
  const out: SliceMeta[] = [];
  for (const t of m.fields) {
    if (t.field !== 1 || t.wire !== WIRE.len) continue;
    const s = scanMessage(buf, t.at, t.end, { maxFields: 100_000 });
    if (!s.ok) return undefined;
    const one: SliceMeta = { name: '', dtype: 0, shape: [], slices: 0 };
    for (const g of s.fields) {
      if (g.field === 1 && g.wire === WIRE.len) one.name = fieldString(buf, g, LIMITS.headerString) ?? '';
      else if (g.field === 2 && g.wire === WIRE.len) one.shape = tfShape(buf, g.at, g.end) ?? null;
      else if (g.field === 3 && g.wire === WIRE.varint) one.dtype = g.value ?? 0;
      else if (g.field === 4) one.slices++;
    }
    out.push(one);
  }
  return out;
}

/** A checkpoint key as text: UTF-8 when it is, else with \xNN escapes. */
export function keyText(key: Uint8Array): string {
  const ok = key.every((b) => b >= 0x20 && b < 0x7f);
  if (ok) return String.fromCharCode(...key);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(key);
  } catch {
    return [...key].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  }
}

export { readVarint };
