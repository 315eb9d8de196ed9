/**
 * The stored bytes of one ONNX initializer as contiguous little-endian values of its dtype
 * (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto, TensorProto; external data per
 * https://github.com/onnx/onnx/blob/main/docs/ExternalData.md):
 * - raw_data: the slice as stored (ONNX raw data is always little-endian);
 * - typed fields: float_data / double_data copied, int32_data narrowed to the dtype's width (FLOAT16
 *   and BFLOAT16 bits, 8-bit types, one packed byte per element of 4-/2-bit types), int64_data and
 *   uint64_data widened from varints;
 * - external data: the range of the external file, resolved relative to the model's folder
 *   (absolute and `..` locations are refused);
 * - sparse initializers: values scattered into a zero tensor at their indices.
 */
import { SourceFieldReader, WIRE, readVarint, type ProtoField } from '../../codecs/protobuf.js';
import { ModelwiseError } from '../../errors.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { safeRelativePath } from '../../io/tree.js';
import type { Probe } from '../../identify/probe.js';
import { onnxBytes, onnxDtype, type OnnxDtype } from './dtypes.js';
import type { OnnxSparse, OnnxTensor } from './model.js';

/** Element count of dims (undefined when negative or unsafe). */
export function elements(dims: number[]): number | undefined {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) return undefined;
    n *= d;
  }
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Strict decimal for external_data offset/length (what onnx's int() accepts, minus exotic forms). */
export function decimal(s: string | undefined): number | undefined {
  if (s === undefined || !/^\s*\+?\d{1,16}\s*$/.test(s)) return undefined;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Where an external tensor's data is: a safe relative path, offset, length (undefined = unsafe/absent). */
export function externalRange(t: OnnxTensor, want: number | undefined): { location: string; safe?: string; offset: number; length?: number } | undefined {
  const location = t.external?.location;
  if (location === undefined) return undefined;
  const safe = safeRelativePath(location);
  const offset = decimal(t.external?.offset) ?? 0;
  const length = decimal(t.external?.length) ?? want;
  return { location, ...(safe ? { safe } : {}), offset, ...(length !== undefined ? { length } : {}) };
}

function fail(code: 'MALFORMED' | 'UNSUPPORTED' | 'NOT_FOUND' | 'UNEXPECTED_EOF', t: OnnxTensor, what: string, file?: string): never {
  throw new ModelwiseError(code, `tensor ${t.name}: ${what}`, { file, offset: t.at });
}

/** The bytes of a dense initializer. */
export async function denseBytes(probe: Probe, t: OnnxTensor): Promise<Uint8Array> {
  const d = onnxDtype(t.dataType);
  const n = elements(t.dims);
  if (!d || d.bits === 0) fail('UNSUPPORTED', t, `dtype ${t.dataType} has no fixed-size binary form`, probe.path);
  if (n === undefined) fail('MALFORMED', t, `dims ${JSON.stringify(t.dims)} are not a valid shape`, probe.path);
  const want = onnxBytes(d, n)!;
  if (t.dataLocation === 1) {
    const ext = externalRange(t, want);
    if (!ext) fail('MALFORMED', t, 'data_location is EXTERNAL but external_data has no location', probe.path);
    if (!ext.safe) fail('UNSUPPORTED', t, `external data location ${JSON.stringify(ext.location)} is absolute or leaves the model's folder; refused`, probe.path);
    if ((ext.length ?? want) < want) fail('MALFORMED', t, `external length ${ext.length} is shorter than the ${want} bytes its dims need`, probe.path);
    const source = await probe.sibling(ext.safe);
    if (!source) fail('NOT_FOUND', t, `external data file ${ext.safe} is missing next to the model`, probe.path);
    if (ext.offset + want > source.size) fail('UNEXPECTED_EOF', t, `external range ${ext.offset}+${want} runs past the end of ${ext.safe} (${source.size} bytes)`, ext.safe);
    return readExact(source, ext.offset, want, `data of tensor ${t.name}`);
  }
  if (t.raw) {
    if (t.raw.length !== want) fail('MALFORMED', t, `raw_data holds ${t.raw.length} bytes, dims × ${d.name} need ${want}`, probe.path);
    return readExact(probe.source, t.raw.at, want, `raw_data of tensor ${t.name}`);
  }
  if (t.typed) return typedBytes(probe.source, t, d, n, want);
  if (want === 0) return new Uint8Array(0);
  return fail('MALFORMED', t, 'no data (no raw_data, typed values or external data)', probe.path);
}

/** Convert the typed value fields of a TensorProto to contiguous little-endian bytes of its dtype. */
async function typedBytes(source: ByteSource, t: OnnxTensor, d: OnnxDtype, n: number, want: number): Promise<Uint8Array> {
  const field = t.typed!.field;
  if (field === 6) fail('UNSUPPORTED', t, 'string tensors have no fixed-size binary form', source.name);
  // Bytes per stored value: float_data/double_data as is (c64/c128 store pairs), int32_data one
  // element (a whole byte for 4-/2-bit types, which pack two/four per int32 value), 64-bit fields 8.
  const width = field === 4 ? 4 : field === 10 ? 8 : field === 7 || (field === 11 && d.bits === 64) ? 8 : field === 11 ? 4 : Math.max(1, d.bits / 8);
  const out = new Uint8Array(want);
  const dv = new DataView(out.buffer);
  let k = 0;
  const put = (lo: number, hi: number) => {
    if (k + width > want) fail('MALFORMED', t, `typed field ${field} holds more values than dims (${n} elements) allow`, source.name);
    if (width === 1) out[k] = lo & 0xff;
    else if (width === 2) dv.setUint16(k, lo & 0xffff, true);
    else if (width === 4) dv.setUint32(k, lo >>> 0, true);
    else {
      dv.setUint32(k, lo >>> 0, true);
      dv.setUint32(k + 4, hi >>> 0, true);
    }
    k += width;
  };
  const reader = new SourceFieldReader(source, { minWindow: 4096, maxWindow: 4 * 1024 * 1024 });
  let p = t.at;
  while (p < t.end) {
    const f: ProtoField | undefined = await reader.field(p, t.end);
    if (!f) fail('MALFORMED', t, `unreadable field at offset ${p}`, source.name);
    p = f.end;
    if (f.field !== field) continue;
    if (f.wire === WIRE.len) {
      // packed: bounded by what the output can hold (≤ 10 bytes per varint value)
      if (f.length > want * 10 + 16) fail('MALFORMED', t, `typed field ${field} of ${f.length} bytes is larger than ${n} elements can be`, source.name);
      const b = await readExact(source, f.at, f.length, `values of tensor ${t.name}`);
      if (field === 4 || field === 10) {
        const size = field === 4 ? 4 : 8;
        if (b.length % size !== 0) fail('MALFORMED', t, `packed field of ${b.length} bytes is not a whole number of values`, source.name);
        if (k + b.length > want) fail('MALFORMED', t, `typed field ${field} holds more values than dims (${n} elements) allow`, source.name);
        out.set(b, k);
        k += b.length;
      } else {
        for (let q = 0; q < b.length; ) {
          const v = readVarint(b, q);
          if (!v) fail('MALFORMED', t, `bad varint in packed field ${field}`, source.name);
          put(v.lo, v.hi);
          q += v.size;
        }
      }
    } else if (f.wire === WIRE.i32) put(f.value ?? 0, 0);
    else if (f.wire === WIRE.i64 || f.wire === WIRE.varint) put(f.lo ?? 0, f.hi ?? 0);
  }
  if (k !== want) fail('MALFORMED', t, `typed field ${field} holds ${k} bytes of values, dims × ${d.name} need ${want}`, source.name);
  return out;
}

/** A sparse initializer scattered into a dense zero tensor (indices: [NNZ] linear or [NNZ, rank]). */
export async function sparseBytes(probe: Probe, s: OnnxSparse): Promise<Uint8Array> {
  const values = s.values;
  if (!values) throw new ModelwiseError('MALFORMED', 'sparse initializer without values', { file: probe.path });
  const d = onnxDtype(values.dataType);
  const n = elements(s.dims);
  if (!d || d.bits < 8) fail('UNSUPPORTED', values, `sparse ${d?.name ?? values.dataType} tensors are not densified`, probe.path);
  if (n === undefined) fail('MALFORMED', values, `dims ${JSON.stringify(s.dims)} are not a valid shape`, probe.path);
  const size = d.bits / 8;
  const v = await denseBytes(probe, values);
  const nnz = v.length / size;
  const out = new Uint8Array(n * size);
  if (nnz === 0) return out;
  if (!s.indices) fail('MALFORMED', values, 'sparse initializer without indices', probe.path);
  const ib = await denseBytes(probe, s.indices);
  const idt = onnxDtype(s.indices.dataType)?.name;
  if (idt !== 'i64') fail('UNSUPPORTED', values, `sparse indices of dtype ${idt} (expected i64)`, probe.path);
  const iv = new DataView(ib.buffer, ib.byteOffset, ib.byteLength);
  const count = ib.length / 8;
  const rank = s.dims.length;
  const coordinate = count === nnz * rank && rank > 1;
  if (!coordinate && count !== nnz) fail('MALFORMED', values, `${count} indices for ${nnz} values`, probe.path);
  const strides = s.dims.map((_, i) => s.dims.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let k = 0; k < nnz; k++) {
    let linear = 0;
    if (coordinate) {
      for (let j = 0; j < rank; j++) {
        const c = Number(iv.getBigInt64((k * rank + j) * 8, true));
        if (c < 0 || c >= s.dims[j]!) fail('MALFORMED', values, `sparse index ${c} out of range for dim ${j}`, probe.path);
        linear += c * strides[j]!;
      }
    } else linear = Number(iv.getBigInt64(k * 8, true));
    if (linear < 0 || linear >= n) fail('MALFORMED', values, `sparse index ${linear} out of range (${n} elements)`, probe.path);
    out.set(v.subarray(k * size, (k + 1) * size), linear * size);
  }
  return out;
}
