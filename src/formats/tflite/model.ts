/**
 * The TFLite `Model` flatbuffer (schema.fbs, tensorflow/compiler/mlir/lite/schema/schema.fbs) read
 * into plain native structures through the flatc-generated accessors (./generated/) over a lazy
 * ByteBuffer (./lazy-buffer.ts). Field names follow the schema. Only the tables are read: for a
 * buffer, the position and length of its `data` vector (or its external offset/size), never the
 * bytes. Every vector length is checked against the file (its last element is read first) and
 * against the caps below before a loop runs over it.
 */
import { ModelwiseError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { ByteSource } from '../../io/source.js';
import type { Diagnostic } from '../../types.js';
import { LazyByteBuffer } from './lazy-buffer.js';
import { BuiltinOperator, Model, QuantizationDetails, TensorType, type Buffer as FbBuffer, type Tensor as FbTensor } from './generated/schema_generated.js';

/** Caps on counts read from the file (each vector is also checked against the file size). */
export const TFLITE_LIMITS = {
  /** Tensors, operators and buffers per model: the largest converted LLMs have a few 10k. */
  entries: 10_000_000,
  /** Subgraphs, operator codes, signature defs, metadata entries. */
  smallEntries: 1_000_000,
  /** Quantization parameters kept per tensor (per-channel arrays of real models: ≤ a few 10k). */
  quantValues: 65_536,
} as const;

/** TensorType → canonical dtype (names as the oracle and ../../dtypes.ts use them). */
export const TFLITE_DTYPES: Record<number, string> = {
  [TensorType.FLOAT32]: 'f32', [TensorType.FLOAT16]: 'f16', [TensorType.INT32]: 'i32', [TensorType.UINT8]: 'u8',
  [TensorType.INT64]: 'i64', [TensorType.STRING]: 'string', [TensorType.BOOL]: 'bool', [TensorType.INT16]: 'i16',
  [TensorType.COMPLEX64]: 'c64', [TensorType.INT8]: 'i8', [TensorType.FLOAT64]: 'f64', [TensorType.COMPLEX128]: 'c128',
  [TensorType.UINT64]: 'u64', [TensorType.RESOURCE]: 'resource', [TensorType.VARIANT]: 'variant', [TensorType.UINT32]: 'u32',
  [TensorType.UINT16]: 'u16', [TensorType.INT4]: 'i4', [TensorType.BFLOAT16]: 'bf16', [TensorType.INT2]: 'i2',
  [TensorType.UINT4]: 'u4', [TensorType.FLOAT8_E4M3FN]: 'f8e4m3fn', [TensorType.FLOAT8_E5M2]: 'f8e5m2',
};

export const dtypeOf = (type: number): string => TFLITE_DTYPES[type] ?? `tensor_type_${type}`;

/** BuiltinOperator name of a code (the enum's own name), or the number for codes newer than the schema. */
export const builtinName = (code: number): string => (BuiltinOperator as unknown as Record<number, string>)[code] ?? String(code);

export interface TfliteQuantization {
  scale: number[];
  zeroPoint: number[];
  min: number[];
  max: number[];
  /** Counts as stored (the arrays above keep at most TFLITE_LIMITS.quantValues). */
  scaleCount: number;
  zeroPointCount: number;
  quantizedDimension: number;
  details?: string;
}

export interface TfliteTensor {
  index: number;
  name: string;
  type: number;
  shape: number[];
  shapeSignature?: number[];
  buffer: number;
  quantization?: TfliteQuantization;
  isVariable: boolean;
  sparse: boolean;
  hasRank: boolean;
  externalBuffer: number;
}

export interface TfliteBuffer {
  index: number;
  /** Position and length of the inline `data` vector (absolute in the file). */
  dataStart?: number;
  dataLength: number;
  /** External data (schema 3c, models > 2 GB): absolute offset and size, valid when offset > 1. */
  offset?: number;
  size?: number;
  /** Set when the Buffer table could not be read. */
  damaged?: boolean;
}

export interface TfliteOperatorCode {
  /** max(builtin_code, deprecated_builtin_code) (schema 3a). */
  code: number;
  version: number;
  custom?: string;
}

export interface TfliteSubgraph {
  index: number;
  name: string;
  tensorCount: number;
  /** Decoded for subgraph 0 only (the report's tensors and graph). */
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  /** opcode_index of each operator, in execution order. */
  operators: number[];
}

export interface TfliteSignature {
  key: string;
  subgraphIndex: number;
  inputs: { name: string; tensorIndex: number }[];
  outputs: { name: string; tensorIndex: number }[];
}

export interface TfliteModel {
  identifier: string;
  version: number;
  description?: string;
  operatorCodes: TfliteOperatorCode[];
  subgraphs: TfliteSubgraph[];
  buffers: TfliteBuffer[];
  metadata: { name: string; buffer: number }[];
  metadataBuffer: number[];
  signatureDefs: TfliteSignature[];
  /** Bytes of the file read to decode the tables. */
  bytesLoaded: number;
  /** Entries that could not be decoded (the rest of the model still is). */
  diagnostics: Diagnostic[];
}

const u64 = (v: bigint): number => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.NaN);
const i64 = (v: bigint): number => Number(v);

/** A vector length, checked: its last element is read (so the vector lies inside the file) and the count is capped. */
function count(bb: LazyByteBuffer, n: number, last: (i: number) => unknown, cap: number, what: string): number {
  if (n > cap) throw new ModelwiseError('LIMIT_EXCEEDED', `${what}: ${n} entries exceed the limit of ${cap}`, { file: bb.source.name });
  if (n > 0) last(n - 1);
  return Math.max(0, n);
}

function ints(bb: LazyByteBuffer, n: number, at: (i: number) => number | null, cap: number, what: string): number[] {
  const len = count(bb, n, at, cap, what);
  const out: number[] = new Array(len);
  for (let i = 0; i < len; i++) out[i] = at(i) ?? 0;
  return out;
}

function readQuantization(bb: LazyByteBuffer, t: FbTensor): TfliteQuantization | undefined {
  const q = t.quantization();
  if (!q) return undefined;
  const cap = (n: number): number => Math.min(Math.max(0, n), TFLITE_LIMITS.quantValues);
  const scaleCount = count(bb, q.scaleLength(), (i) => q.scale(i), Number.MAX_SAFE_INTEGER, 'quantization scale');
  const zeroPointCount = count(bb, q.zeroPointLength(), (i) => q.zeroPoint(i), Number.MAX_SAFE_INTEGER, 'quantization zero_point');
  const minCount = count(bb, q.minLength(), (i) => q.min(i), Number.MAX_SAFE_INTEGER, 'quantization min');
  const maxCount = count(bb, q.maxLength(), (i) => q.max(i), Number.MAX_SAFE_INTEGER, 'quantization max');
  const floats = (n: number, at: (i: number) => number | null): number[] => Array.from({ length: cap(n) }, (_, i) => at(i) ?? 0);
  const dt = q.detailsType();
  const out: TfliteQuantization = {
    scale: floats(scaleCount, (i) => q.scale(i)),
    zeroPoint: Array.from({ length: cap(zeroPointCount) }, (_, i) => i64(q.zeroPoint(i) ?? 0n)),
    min: floats(minCount, (i) => q.min(i)),
    max: floats(maxCount, (i) => q.max(i)),
    scaleCount,
    zeroPointCount,
    quantizedDimension: q.quantizedDimension(),
  };
  if (dt !== QuantizationDetails.NONE) out.details = (QuantizationDetails as unknown as Record<number, string>)[dt] ?? `details_type_${dt}`;
  if (!scaleCount && !zeroPointCount && !minCount && !maxCount && !out.details) return undefined;
  return out;
}

function readTensor(bb: LazyByteBuffer, t: FbTensor, index: number): TfliteTensor {
  const shape = ints(bb, t.shapeLength(), (i) => t.shape(i), LIMITS.tensorRank, `tensor ${index} shape`);
  const sigLen = t.shapeSignatureLength();
  const out: TfliteTensor = {
    index,
    name: t.name() ?? '',
    type: t.type(),
    shape,
    buffer: t.buffer(),
    isVariable: t.isVariable(),
    sparse: t.sparsity() !== null,
    hasRank: t.hasRank(),
    externalBuffer: t.externalBuffer(),
  };
  if (sigLen > 0) out.shapeSignature = ints(bb, sigLen, (i) => t.shapeSignature(i), LIMITS.tensorRank, `tensor ${index} shape_signature`);
  const q = readQuantization(bb, t);
  if (q) out.quantization = q;
  return out;
}

function readBuffer(bb: LazyByteBuffer, b: FbBuffer, index: number): TfliteBuffer {
  const out: TfliteBuffer = { index, dataLength: 0 };
  // Buffer.data is field 0 (vtable slot 4): its position is needed, its bytes are not read.
  const slot = bb.__offset(b.bb_pos, 4);
  if (slot) {
    const v = bb.vectorAt(b.bb_pos + slot, 1, `buffer ${index} data`);
    out.dataStart = v.start;
    out.dataLength = v.length;
  }
  const offset = u64(b.offset());
  const size = u64(b.size());
  if (offset !== 0 || size !== 0) {
    out.offset = offset;
    out.size = size;
  }
  return out;
}

/** Decode the Model tables of a TFLite file (weights untouched). */
export async function readTfliteModel(source: ByteSource): Promise<TfliteModel> {
  if (source.size < 8) throw new ModelwiseError('UNEXPECTED_EOF', `file of ${source.size} bytes is too short for a flatbuffer`, { file: source.name, offset: 0 });
  const bb = new LazyByteBuffer(source);
  const E = TFLITE_LIMITS.entries;
  const S = TFLITE_LIMITS.smallEntries;
  const { m, identifier } = await bb.run(() => {
    const root = bb.readInt32(0);
    if (root < 8 || root >= source.size) bb.fail(0, `root table offset ${root} is outside the file`);
    return { m: Model.getRootAsModel(bb), identifier: String.fromCharCode(bb.readUint8(4), bb.readUint8(5), bb.readUint8(6), bb.readUint8(7)) };
  });
  const head = await bb.run(() => ({
    version: m.version(),
    description: m.description() ?? undefined,
    operatorCodes: count(bb, m.operatorCodesLength(), (i) => m.operatorCodes(i), S, 'operator_codes'),
    subgraphs: count(bb, m.subgraphsLength(), (i) => m.subgraphs(i), S, 'subgraphs'),
    buffers: count(bb, m.buffersLength(), (i) => m.buffers(i), E, 'buffers'),
    metadata: count(bb, m.metadataLength(), (i) => m.metadata(i), S, 'metadata'),
    signatureDefs: count(bb, m.signatureDefsLength(), (i) => m.signatureDefs(i), S, 'signature_defs'),
    metadataBuffer: ints(bb, m.metadataBufferLength(), (i) => m.metadataBuffer(i), S, 'metadata_buffer'),
  }));
  const model: TfliteModel = {
    identifier,
    version: head.version,
    ...(head.description !== undefined ? { description: head.description } : {}),
    operatorCodes: [],
    subgraphs: [],
    buffers: [],
    metadata: [],
    metadataBuffer: head.metadataBuffer,
    signatureDefs: [],
    bytesLoaded: 0,
    diagnostics: [],
  };
  /** One entry decoded, or a diagnostic when it is damaged (MALFORMED); other errors propagate. */
  const step = async <T>(what: string, fn: () => T): Promise<T | undefined> => {
    try {
      return await bb.run(fn);
    } catch (e) {
      if (!(e instanceof ModelwiseError) || e.code !== 'MALFORMED') throw e;
      if (model.diagnostics.length < 100) model.diagnostics.push({ code: 'MALFORMED_ENTRY', message: `${what}: ${e.message}` });
      return undefined;
    }
  };
  for (let i = 0; i < head.operatorCodes; i++) {
    const oc = await step(`operator code ${i}`, () => {
      const oc = m.operatorCodes(i)!;
      const custom = oc.customCode();
      return { code: Math.max(oc.builtinCode(), oc.deprecatedBuiltinCode()), version: oc.version(), ...(custom !== null ? { custom } : {}) };
    });
    model.operatorCodes.push(oc ?? { code: -1, version: 0 });
  }
  for (let i = 0; i < head.buffers; i++) model.buffers.push((await step(`buffer ${i}`, () => readBuffer(bb, m.buffers(i)!, i))) ?? { index: i, dataLength: 0, damaged: true });
  for (let s = 0; s < head.subgraphs; s++) {
    const sg = await bb.run(() => {
      const g = m.subgraphs(s)!;
      return {
        name: g.name() ?? '',
        tensorCount: count(bb, g.tensorsLength(), (i) => g.tensors(i), E, `subgraph ${s} tensors`),
        operatorCount: count(bb, g.operatorsLength(), (i) => g.operators(i), E, `subgraph ${s} operators`),
        inputs: ints(bb, g.inputsLength(), (i) => g.inputs(i), E, `subgraph ${s} inputs`),
        outputs: ints(bb, g.outputsLength(), (i) => g.outputs(i), E, `subgraph ${s} outputs`),
      };
    });
    const sub: TfliteSubgraph = { index: s, name: sg.name, tensorCount: sg.tensorCount, tensors: [], inputs: sg.inputs, outputs: sg.outputs, operators: [] };
    const g = await bb.run(() => m.subgraphs(s)!);
    for (let k = 0; k < sg.operatorCount; k++) sub.operators.push((await step(`subgraph ${s} operator ${k}`, () => g.operators(k)!.opcodeIndex())) ?? -1);
    if (s === 0) {
      for (let k = 0; k < sg.tensorCount; k++) {
        const t = await step(`subgraph ${s} tensor ${k}`, () => readTensor(bb, g.tensors(k)!, k));
        if (t) sub.tensors.push(t);
      }
    }
    model.subgraphs.push(sub);
  }
  for (let i = 0; i < head.metadata; i++) {
    model.metadata.push(await bb.run(() => ({ name: m.metadata(i)!.name() ?? '', buffer: m.metadata(i)!.buffer() })));
  }
  for (let i = 0; i < head.signatureDefs; i++) {
    model.signatureDefs.push(
      await bb.run(() => {
        const sd = m.signatureDefs(i)!;
        const maps = (n: number, at: (k: number) => { name(): string | null; tensorIndex(): number } | null, what: string) =>
          Array.from({ length: count(bb, n, at, S, what) }, (_, k) => ({ name: at(k)!.name() ?? '', tensorIndex: at(k)!.tensorIndex() }));
        return {
          key: sd.signatureKey() ?? '',
          subgraphIndex: sd.subgraphIndex(),
          inputs: maps(sd.inputsLength(), (k) => sd.inputs(k), `signature ${i} inputs`),
          outputs: maps(sd.outputsLength(), (k) => sd.outputs(k), `signature ${i} outputs`),
        };
      }),
    );
  }
  model.bytesLoaded = bb.loaded;
  return model;
}

/** Whether a buffer's data is stored outside the flatbuffer (offset > 1 and size > 0, as the runtime reads it). */
export const isExternal = (b: TfliteBuffer): boolean => (b.offset ?? 0) > 1 && (b.size ?? 0) > 0;

/** Absolute data range of a buffer, or undefined when it holds none. */
export function bufferRange(b: TfliteBuffer): { offset: number; length: number; external: boolean } | undefined {
  if (isExternal(b)) return { offset: b.offset!, length: b.size!, external: true };
  if (b.dataLength > 0 && b.dataStart !== undefined) return { offset: b.dataStart, length: b.dataLength, external: false };
  return undefined;
}

/** Read a small buffer's bytes (metadata), at most `max` bytes. */
export async function readBufferPrefix(source: ByteSource, b: TfliteBuffer, max: number): Promise<Uint8Array | undefined> {
  const r = bufferRange(b);
  if (!r || r.offset + r.length > source.size || !Number.isSafeInteger(r.offset)) return undefined;
  return source.read(r.offset, Math.min(r.length, max));
}
