/**
 * Tiny ONNX writers for tests: just enough of onnx.proto to build models field by field (hostile ones
 * included). Not used by the library itself.
 */
import { pb } from '../../codecs/protobuf.js';
import { BytesSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { Probe } from '../../identify/probe.js';
import { finalize, locateSource, openModel } from '../../inspect/inspect.js';
import type { Identification, ModelReport } from '../../types.js';

export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT64: 13, BFLOAT16: 16, UINT4: 21, INT4: 22 } as const;

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export interface TensorSpec {
  name: string;
  dtype: number;
  dims: number[];
  raw?: Uint8Array;
  floats?: number[];
  doubles?: number[];
  int32?: number[];
  int64?: number[];
  uint64?: number[];
  strings?: string[];
  /** Write repeated values one field each instead of packed. */
  unpacked?: boolean;
  external?: { location: string; offset?: number; length?: number };
  /** Pack dims (legal, though writers emit them unpacked). */
  packedDims?: boolean;
}

const varints = (vs: number[]) => pb.concat(...vs.map((v) => pb.rawVarint(v)));

/** TensorProto bytes (the message body). */
export function tensorProto(t: TensorSpec): Uint8Array {
  const parts: Uint8Array[] = [];
  if (t.packedDims) parts.push(pb.bytes(1, varints(t.dims)));
  else parts.push(...t.dims.map((d) => pb.varint(1, d)));
  parts.push(pb.varint(2, t.dtype));
  if (t.floats) parts.push(t.unpacked ? pb.concat(...t.floats.map((f) => pb.float(4, f))) : pb.bytes(4, bytesOf(new Float32Array(t.floats))));
  if (t.int32) parts.push(t.unpacked ? pb.concat(...t.int32.map((v) => pb.varint(5, v))) : pb.bytes(5, varints(t.int32)));
  if (t.strings) parts.push(...t.strings.map((s) => pb.string(6, s)));
  if (t.int64) parts.push(t.unpacked ? pb.concat(...t.int64.map((v) => pb.varint(7, v))) : pb.bytes(7, varints(t.int64)));
  parts.push(pb.string(8, t.name));
  if (t.raw) parts.push(pb.bytes(9, t.raw));
  if (t.doubles) parts.push(pb.bytes(10, bytesOf(new Float64Array(t.doubles))));
  if (t.uint64) parts.push(pb.bytes(11, varints(t.uint64)));
  if (t.external) {
    parts.push(pb.message(13, pb.string(1, 'location'), pb.string(2, t.external.location)));
    if (t.external.offset !== undefined) parts.push(pb.message(13, pb.string(1, 'offset'), pb.string(2, String(t.external.offset))));
    if (t.external.length !== undefined) parts.push(pb.message(13, pb.string(1, 'length'), pb.string(2, String(t.external.length))));
    parts.push(pb.varint(14, 1));
  }
  return pb.concat(...parts);
}

export const f32 = (...v: number[]) => bytesOf(new Float32Array(v));

/** A TypeProto.Tensor type: dims as numbers (dim_value), strings (dim_param) or null (neither); no dims array = no shape. */
export function tensorType(elem: number, dims?: (number | string | null)[]): Uint8Array {
  const shape = dims && pb.message(2, ...dims.map((d) => pb.message(1, ...(d === null ? [] : typeof d === 'number' ? [pb.varint(1, d)] : [pb.string(2, d)]))));
  return pb.message(1, pb.varint(1, elem), ...(shape ? [shape] : []));
}
export const seqType = (inner: Uint8Array) => pb.message(4, pb.message(1, inner));
export const mapType = (key: number, value: Uint8Array) => pb.message(5, pb.varint(1, key), pb.message(2, value));
export const optionalType = (inner: Uint8Array) => pb.message(9, pb.message(1, inner));

/** ValueInfoProto with a TypeProto body (from tensorType / seqType …). */
export const valueInfo = (name: string, type?: Uint8Array) => pb.concat(pb.string(1, name), ...(type ? [pb.message(2, type)] : []));

export const attrInt = (name: string, i: number) => pb.concat(pb.string(1, name), pb.varint(3, i), pb.varint(20, 2));
export const attrGraph = (name: string, g: Uint8Array) => pb.concat(pb.string(1, name), pb.message(6, g), pb.varint(20, 5));
export const attrTensor = (name: string, t: Uint8Array) => pb.concat(pb.string(1, name), pb.message(5, t), pb.varint(20, 4));

export function node(op: string, inputs: string[], outputs: string[], opts: { domain?: string; name?: string; attrs?: Uint8Array[] } = {}): Uint8Array {
  return pb.concat(
    ...inputs.map((i) => pb.string(1, i)),
    ...outputs.map((o) => pb.string(2, o)),
    ...(opts.name ? [pb.string(3, opts.name)] : []),
    pb.string(4, op),
    ...(opts.attrs ?? []).map((a) => pb.message(5, a)),
    ...(opts.domain ? [pb.string(7, opts.domain)] : []),
  );
}

export function graph(o: { name?: string; nodes?: Uint8Array[]; initializers?: Uint8Array[]; sparse?: Uint8Array[]; inputs?: Uint8Array[]; outputs?: Uint8Array[] }): Uint8Array {
  return cat([
    ...(o.nodes ?? []).map((n) => pb.message(1, n)),
    pb.string(2, o.name ?? 'g'),
    ...(o.initializers ?? []).map((t) => pb.message(5, t)),
    ...(o.inputs ?? []).map((v) => pb.message(11, v)),
    ...(o.outputs ?? []).map((v) => pb.message(12, v)),
    ...(o.sparse ?? []).map((s) => pb.message(15, s)),
  ]);
}

/** Concatenate many parts (pb.concat spreads its arguments, which overflows the stack past ~100k). */
export function cat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const sparseTensor = (values: Uint8Array, indices: Uint8Array, dims: number[]) => pb.concat(pb.message(1, values), pb.message(2, indices), ...dims.map((d) => pb.varint(3, d)));

export function modelProto(o: { ir?: number; producer?: string; version?: string; domain?: string; modelVersion?: number; doc?: string; opsets?: [string, number][]; graph?: Uint8Array; metadata?: [string, string][]; functions?: Uint8Array[] }): Uint8Array {
  return pb.concat(
    pb.varint(1, o.ir ?? 8),
    ...(o.producer !== undefined ? [pb.string(2, o.producer)] : []),
    ...(o.version !== undefined ? [pb.string(3, o.version)] : []),
    ...(o.domain !== undefined ? [pb.string(4, o.domain)] : []),
    ...(o.modelVersion !== undefined ? [pb.varint(5, o.modelVersion)] : []),
    ...(o.doc !== undefined ? [pb.string(6, o.doc)] : []),
    ...(o.graph ? [pb.message(7, o.graph)] : []),
    ...(o.opsets ?? [['', 17]]).map(([d, v]) => pb.message(8, ...(d ? [pb.string(1, d)] : []), pb.varint(2, v))),
    ...(o.metadata ?? []).map(([k, v]) => pb.message(14, pb.string(1, k), pb.string(2, v))),
    ...(o.functions ?? []).map((f) => pb.message(25, f)),
  );
}

/** FunctionProto { name = 1; node = 7; domain = 10 }. */
export const functionProto = (name: string, domain: string, nodes: Uint8Array[]) => pb.concat(pb.string(1, name), ...nodes.map((n) => pb.message(7, n)), pb.string(10, domain));

const src = (b: Uint8Array | ByteSource, name: string) => (b instanceof Uint8Array ? new BytesSource(b, name) : b);

/** Identify + inspect a model file (with sibling files in a MemoryTree), and read tensors. */
export async function open(model: Uint8Array | ByteSource, siblings: Record<string, Uint8Array | ByteSource> = {}) {
  const files: Record<string, ByteSource> = { 'model.onnx': src(model, 'model.onnx') };
  for (const [k, v] of Object.entries(siblings)) files[k] = src(v, k);
  const tree = new MemoryTree('m', files);
  const { id, probe } = await locateSource(files['model.onnx']!, { path: 'model.onnx', tree, treePath: 'model.onnx' });
  if (id.format?.id !== 'onnx') throw new Error(`not identified as ONNX: ${id.reason}`);
  const m = await openModel(id, probe, undefined);
  const report = finalize(id, await m.impl.inspect!(m.input));
  const read = (name: string) => m.impl.readTensor!(m.input, report.tensors.items.find((t) => t.name === name)!);
  return { report, read };
}

/** Inspect without identification (for files the detector refuses, e.g. truncated ones). */
export async function direct(bytes: Uint8Array): Promise<ModelReport> {
  const id: Identification = { path: 'model.onnx', source: 'bytes', size: bytes.length, format: { id: 'onnx', variant: 'onnx-protobuf', version: '8', name: 'ONNX' }, confidence: 'high', evidence: [] };
  const probe = new Probe(new BytesSource(bytes, 'model.onnx'), 'model.onnx');
  const m = await openModel(id, probe, undefined);
  return finalize(id, await m.impl.inspect!(m.input));
}

