/**
 * TensorProto.DataType (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) → canonical dtype
 * names (the oracle's names: f32 u8 … f8e4m3fn u4 i4 f4e2m1), with storage bits per element and the
 * typed field of TensorProto that holds the values when raw_data is not used.
 */

export interface OnnxDtype {
  id: number;
  /** Canonical lowercase name. */
  name: string;
  /** Bits per element as stored in raw_data (4-bit types pack two per byte); 0 for strings. */
  bits: number;
  /** TensorProto field of the typed values: 4 float_data, 5 int32_data, 6 string_data, 7 int64_data, 10 double_data, 11 uint64_data. */
  field: number;
}

const D = (id: number, name: string, bits: number, field: number): OnnxDtype => ({ id, name, bits, field });

/** Every TensorProto.DataType up to onnx 1.19 (UINT2/INT2 = 25/26). */
export const ONNX_DTYPES: readonly OnnxDtype[] = [
  D(0, 'undefined', 0, 0),
  D(1, 'f32', 32, 4),
  D(2, 'u8', 8, 5),
  D(3, 'i8', 8, 5),
  D(4, 'u16', 16, 5),
  D(5, 'i16', 16, 5),
  D(6, 'i32', 32, 5),
  D(7, 'i64', 64, 7),
  D(8, 'string', 0, 6),
  D(9, 'bool', 8, 5),
  D(10, 'f16', 16, 5),
  D(11, 'f64', 64, 10),
  D(12, 'u32', 32, 11),
  D(13, 'u64', 64, 11),
  D(14, 'c64', 64, 4),
  D(15, 'c128', 128, 10),
  D(16, 'bf16', 16, 5),
  D(17, 'f8e4m3fn', 8, 5),
  D(18, 'f8e4m3fnuz', 8, 5),
  D(19, 'f8e5m2', 8, 5),
  D(20, 'f8e5m2fnuz', 8, 5),
  D(21, 'u4', 4, 5),
  D(22, 'i4', 4, 5),
  D(23, 'f4e2m1', 4, 5),
  D(24, 'f8e8m0', 8, 5),
  D(25, 'u2', 2, 5),
  D(26, 'i2', 2, 5),
];

const BY_ID = new Map(ONNX_DTYPES.map((d) => [d.id, d]));
const BY_NAME = new Map(ONNX_DTYPES.map((d) => [d.name, d]));

/** The dtype of a TensorProto.DataType value; undefined for ids this table does not know. */
export function onnxDtype(id: number): OnnxDtype | undefined {
  return BY_ID.get(id);
}

export function onnxDtypeByName(name: string): OnnxDtype | undefined {
  return BY_NAME.get(name);
}

/** Canonical name of a data type id (`onnx_type_<n>` for ids past the table, like the oracle). */
export function onnxDtypeName(id: number): string {
  return BY_ID.get(id)?.name ?? `onnx_type_${id}`;
}

/** Bytes of `elements` values of a dtype (sub-byte types round up to whole bytes); undefined for strings/unknown. */
export function onnxBytes(d: OnnxDtype | undefined, elements: number): number | undefined {
  if (!d || d.bits === 0) return undefined;
  return Math.ceil((elements * d.bits) / 8);
}
