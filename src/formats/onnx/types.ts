/**
 * TypeProto / ValueInfoProto of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto),
 * decoded from bytes in memory, into the oracle's vocabulary: a tensor type is its element dtype and
 * a shape of dim_value numbers, dim_param strings and "?" for a dim with neither (null when no shape
 * is declared); composite types read `seq(f32)`, `map(i64,f32)`, `optional(seq(f32))`, `sparse(f32)`.
 */
import { WIRE, int64, scanMessage, type ProtoField } from '../../codecs/protobuf.js';
import { decodeUtf8 } from '../../io/bytes.js';
import type { Dim } from '../../types.js';
import { onnxDtype, onnxDtypeName } from './dtypes.js';

/** Nesting of TypeProto (sequence of map of optional …) decoded; deeper is reported as `unknown`. */
const MAX_TYPE_DEPTH = 32;
/** Dims decoded from one TensorShapeProto (ranks past LIMITS.tensorRank are still listed up to this). */
const MAX_DIMS = 4096;

export interface OnnxType {
  dtype: string;
  shape: Dim[] | null;
}

const UNKNOWN: OnnxType = { dtype: 'unknown', shape: null };

function str(buf: Uint8Array, f: ProtoField): string {
  return decodeUtf8(buf.subarray(f.at, f.end));
}

/** Fields of the LEN field `f` of `buf` (undefined when malformed). */
function fieldsOf(buf: Uint8Array, f: ProtoField): ProtoField[] | undefined {
  if (f.wire !== WIRE.len) return undefined;
  const s = scanMessage(buf, f.at, f.end);
  return s.ok ? s.fields : undefined;
}

/** TensorShapeProto.Dimension { dim_value = 1; dim_param = 2; denotation = 3 }: the last of the oneof wins. */
function dimension(buf: Uint8Array, f: ProtoField): Dim {
  let d: Dim = '?';
  for (const g of fieldsOf(buf, f) ?? []) {
    if (g.field === 1 && g.wire === WIRE.varint) d = int64(g.lo!, g.hi!);
    else if (g.field === 2 && g.wire === WIRE.len) d = str(buf, g);
  }
  return d;
}

/** TypeProto.Tensor / SparseTensor { elem_type = 1; shape = 2 }. */
function tensorType(buf: Uint8Array, f: ProtoField): { elem: number; shape: Dim[] | null } {
  let elem = 0;
  let shape: Dim[] | null = null;
  for (const g of fieldsOf(buf, f) ?? []) {
    if (g.field === 1 && g.wire === WIRE.varint) elem = int64(g.lo!, g.hi!);
    else if (g.field === 2 && g.wire === WIRE.len) {
      // repeated fields of one message merge: a second `shape` appends its dims
      shape ??= [];
      for (const h of fieldsOf(buf, g) ?? []) {
        if (h.field === 1 && h.wire === WIRE.len && shape.length < MAX_DIMS) shape.push(dimension(buf, h));
      }
    }
  }
  return { elem, shape };
}

/** Decode the TypeProto in the LEN field `f` of `buf`. */
export function typeProto(buf: Uint8Array, f: ProtoField | undefined, depth = 0): OnnxType {
  if (!f || depth > MAX_TYPE_DEPTH) return UNKNOWN;
  const fields = fieldsOf(buf, f);
  if (!fields) return UNKNOWN;
  // `value` is a oneof: the last member present wins, as in every protobuf parser.
  let kind: ProtoField | undefined;
  for (const g of fields) if (g.wire === WIRE.len && [1, 4, 5, 7, 8, 9].includes(g.field)) kind = g;
  if (!kind) return UNKNOWN;
  const inner = (n: number): ProtoField | undefined => fieldsOf(buf, kind!)?.filter((h) => h.field === n && h.wire === WIRE.len).pop();
  switch (kind.field) {
    case 1: {
      const t = tensorType(buf, kind);
      return { dtype: onnxDtypeName(t.elem), shape: t.shape };
    }
    case 4:
      return { dtype: `seq(${typeProto(buf, inner(1), depth + 1).dtype})`, shape: null };
    case 5: {
      let key = 0;
      for (const h of fieldsOf(buf, kind) ?? []) if (h.field === 1 && h.wire === WIRE.varint) key = int64(h.lo!, h.hi!);
      return { dtype: `map(${onnxDtype(key)?.name ?? '?'},${typeProto(buf, inner(2), depth + 1).dtype})`, shape: null };
    }
    case 9:
      return { dtype: `optional(${typeProto(buf, inner(1), depth + 1).dtype})`, shape: null };
    case 8: {
      const t = tensorType(buf, kind);
      return { dtype: `sparse(${onnxDtype(t.elem)?.name ?? '?'})`, shape: null };
    }
    default:
      return UNKNOWN; // opaque_type
  }
}

/** ValueInfoProto { name = 1; type = 2; doc_string = 3 } held whole in `buf`. */
export function valueInfo(buf: Uint8Array): { name: string; type: OnnxType; denotation?: string } | undefined {
  const s = scanMessage(buf);
  if (!s.ok) return undefined;
  let name = '';
  let type: ProtoField | undefined;
  for (const f of s.fields) {
    if (f.field === 1 && f.wire === WIRE.len) name = str(buf, f);
    else if (f.field === 2 && f.wire === WIRE.len) type = f;
  }
  return { name, type: typeProto(buf, type) };
}
