/**
 * GGUF header reader (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md, ggml/src/gguf.cpp).
 * Reads the key/value metadata and tensor infos front to back; long arrays (tokenizer vocabularies)
 * are skipped over after a short preview, so a 150k-token header costs one pass of small reads and
 * no per-token allocation. Tensor data is never read.
 */
import { ModelwiseError } from '../../errors.js';
import { INSPECT_LIMITS, LIMITS } from '../../limits.js';
import { SequentialReader } from '../../io/reader.js';
import type { ByteSource } from '../../io/source.js';
import { GGML_BY_ID, ftypeShortName, ggmlBytes } from '../../dtypes.js';
import type { Diagnostic, HyperParameters, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { describeQuantization, elementCount } from '../../inspect/summary.js';
import { shardPattern } from '../detection.js';

export const VALUE_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const;
const SCALAR_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];

export type GgufValue = number | string | boolean | GgufValue[] | GgufArraySummary;

/** A long array, summarised: its element type, length and first elements. */
export interface GgufArraySummary {
  type: string;
  length: number;
  head: GgufValue[];
}

export interface GgufHeader {
  version: number;
  littleEndian: boolean;
  tensorCount: number;
  metadata: Record<string, GgufValue>;
  types: Record<string, string>;
  tensors: TensorInfo[];
  alignment: number;
  dataOffset: number;
  diagnostics: Diagnostic[];
}

/** Options for callers that need whole arrays (the converter needs the vocabulary). */
export interface GgufReadOptions {
  /** Decode arrays up to this many elements whole; longer ones are summarised. */
  fullArrays?: number;
}

async function readLen(r: SequentialReader, v1: boolean, what: string): Promise<number> {
  return v1 ? r.u32(what) : r.u64n(what);
}

async function readString(r: SequentialReader, v1: boolean, what: string): Promise<string> {
  const n = await readLen(r, v1, `${what} length`);
  if (n > LIMITS.headerString) {
    throw new ModelwiseError('LIMIT_EXCEEDED', `${what} of ${n} bytes exceeds the ${LIMITS.headerString}-byte string limit`, { file: r.source.name, offset: r.offset });
  }
  return r.string(n, what);
}

async function readScalar(r: SequentialReader, type: number, v1: boolean, what: string): Promise<number | string | boolean> {
  switch (type) {
    case 0: return r.u8(what);
    case 1: return r.i8(what);
    case 2: return r.u16(what);
    case 3: return r.i16(what);
    case 4: return r.u32(what);
    case 5: return r.i32(what);
    case 6: return r.f32(what);
    case 7: return (await r.u8(what)) !== 0;
    case 8: return readString(r, v1, what);
    case 10: return r.u64(what);
    case 11: return r.i64(what);
    case 12: return r.f64(what);
    default:
      throw new ModelwiseError('MALFORMED', `unknown metadata value type ${type} for ${what}`, { file: r.source.name, offset: r.offset, expected: '0–12' });
  }
}

async function readValue(r: SequentialReader, type: number, v1: boolean, key: string, opts: GgufReadOptions, depth = 0): Promise<{ value: GgufValue; type: string }> {
  if (type !== 9) return { value: await readScalar(r, type, v1, key), type: VALUE_TYPES[type] ?? String(type) };
  if (depth > 4) throw new ModelwiseError('MALFORMED', `arrays nested too deep in ${key}`, { file: r.source.name, offset: r.offset });
  const elem = await r.u32(`${key} element type`);
  const n = await readLen(r, v1, `${key} array length`);
  const elemName = elem === 9 ? 'array' : (VALUE_TYPES[elem] ?? String(elem));
  const typeName = `array<${elemName}>[${n}]`;
  const full = n <= Math.max(INSPECT_LIMITS.arrayPreview, opts.fullArrays ?? 0);
  const keep = full ? n : INSPECT_LIMITS.arrayPreview;
  // Fixed-size elements beyond the preview are skipped without reading them.
  const size = elem < SCALAR_SIZE.length ? SCALAR_SIZE[elem]! : 0;
  if (size > 0) {
    if (n * size > r.remaining) {
      throw new ModelwiseError('MALFORMED', `array ${key} of ${n} × ${size} bytes runs past the end of the file`, { file: r.source.name, offset: r.offset });
    }
    const out: GgufValue[] = [];
    for (let i = 0; i < Math.min(n, keep); i++) out.push(await readScalar(r, elem, v1, key));
    r.skip((n - Math.min(n, keep)) * size, key);
    return { value: full ? out : { type: elemName, length: n, head: out }, type: typeName };
  }
  // Strings and nested arrays: each element has its own length, so walk them (skip string bodies).
  if (n > INSPECT_LIMITS.arrayDecode) {
    throw new ModelwiseError('LIMIT_EXCEEDED', `array ${key} has ${n} elements, above the ${INSPECT_LIMITS.arrayDecode} limit`, { file: r.source.name, offset: r.offset });
  }
  const out: GgufValue[] = [];
  if (elem === 8 && !full) {
    // Vocabularies: keep a preview, skip the rest in one checked pass over the buffer.
    for (let i = 0; i < keep; i++) out.push(await readString(r, v1, key));
    await r.skipStrings(n - keep, v1 ? 4 : 8, key);
    return { value: { type: elemName, length: n, head: out }, type: typeName };
  }
  for (let i = 0; i < n; i++) {
    if (elem === 8) {
      if (i < keep) out.push(await readString(r, v1, key));
      else r.skip(await readLen(r, v1, `${key} string length`), key);
    } else {
      const v = await readValue(r, elem, v1, key, opts, depth + 1);
      if (i < keep) out.push(v.value);
    }
  }
  return { value: full ? out : { type: elemName, length: n, head: out }, type: typeName };
}

/** Parse a GGUF header (metadata + tensor infos). Throws ModelwiseError on structural damage. */
export async function readGgufHeader(source: ByteSource, opts: GgufReadOptions = {}): Promise<GgufHeader> {
  const r = new SequentialReader(source, 0);
  const magic = await r.bytes(4, 'magic');
  const m = String.fromCharCode(...magic);
  if (m !== 'GGUF' && m !== 'FUGG') throw new ModelwiseError('MALFORMED', `bad magic "${m}"`, { file: source.name, offset: 0, expected: 'GGUF' });
  let version = await r.u32('version');
  if (version !== 0 && (version & 0xffff) === 0) {
    r.littleEndian = false;
    version = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
  }
  if (version < 1 || version > 3) throw new ModelwiseError('UNSUPPORTED', `GGUF version ${version}`, { file: source.name, offset: 4, expected: '1, 2 or 3' });
  const v1 = version === 1;
  const tensorCount = await readLen(r, v1, 'tensor count');
  const kvCount = await readLen(r, v1, 'metadata count');
  // Every KV takes ≥ 13 bytes and every tensor info ≥ 24: counts beyond the file are lies.
  if (kvCount > INSPECT_LIMITS.metadataEntries || kvCount * 13 > source.size) {
    throw new ModelwiseError('MALFORMED', `metadata count ${kvCount} cannot fit in a ${source.size}-byte file`, { file: source.name, offset: v1 ? 12 : 16 });
  }
  if (tensorCount * 24 > source.size) {
    throw new ModelwiseError('MALFORMED', `tensor count ${tensorCount} cannot fit in a ${source.size}-byte file`, { file: source.name, offset: 8 });
  }
  const metadata: Record<string, GgufValue> = {};
  const types: Record<string, string> = {};
  const diagnostics: Diagnostic[] = [];
  for (let i = 0; i < kvCount; i++) {
    const at = r.offset;
    const key = await readString(r, v1, `metadata key #${i}`);
    const type = await r.u32(`type of ${key}`);
    const { value, type: typeName } = await readValue(r, type, v1, key, opts);
    if (key in metadata) diagnostics.push({ code: 'GGUF_DUPLICATE_KEY', message: `metadata key ${key} appears twice (offset ${at}); the last value is kept` });
    metadata[key] = value;
    types[key] = typeName;
  }
  let alignment = 32;
  const a = metadata['general.alignment'];
  if (a !== undefined) {
    if (typeof a === 'number' && a > 0 && (a & (a - 1)) === 0) alignment = a;
    else diagnostics.push({ code: 'GGUF_BAD_ALIGNMENT', message: `general.alignment ${JSON.stringify(a)} is not a power of two; 32 assumed` });
  }
  const tensors: TensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = await readString(r, v1, `tensor name #${i}`);
    const nDims = await r.u32(`dimension count of ${name}`);
    if (nDims > 4) throw new ModelwiseError('MALFORMED', `tensor ${name} has ${nDims} dimensions`, { file: source.name, offset: r.offset - 4, expected: 'at most 4 (GGML_MAX_DIMS)' });
    const shape: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const at = r.offset;
      const dim = v1 ? await r.u32(`dimension of ${name}`) : await r.u64(`dimension of ${name}`);
      if (typeof dim !== 'number') throw new ModelwiseError('MALFORMED', `tensor ${name} dimension ${dim} is beyond any file`, { file: source.name, offset: at });
      shape.push(dim);
    }
    const typeId = await r.u32(`type of ${name}`);
    const offset = await r.u64(`offset of ${name}`);
    const t = GGML_BY_ID.get(typeId);
    const n = elementCount(shape) ?? 0;
    let byteLength: number | null = null;
    if (!t) diagnostics.push({ code: 'GGUF_UNKNOWN_TYPE', message: `tensor ${name} has unknown ggml type ${typeId}` });
    else {
      byteLength = ggmlBytes(t, n) ?? null;
      if (byteLength === null) diagnostics.push({ code: 'GGUF_BAD_SHAPE', message: `tensor ${name}: ${n} elements is not a whole number of ${t.name} blocks of ${t.blockSize}` });
    }
    tensors.push({ name, dtype: t?.name ?? `ggml_type_${typeId}`, shape, byteLength, offset });
  }
  const dataOffset = tensorCount > 0 ? Math.ceil(r.offset / alignment) * alignment : r.offset;
  // Bounds: each tensor's data must lie inside the file (a truncated download shows here).
  let expected = 0;
  for (const t of tensors) {
    if (typeof t.offset !== 'number' || t.byteLength === null) continue;
    if (t.offset !== expected) diagnostics.push({ code: 'GGUF_OFFSET_GAP', message: `tensor ${t.name} at data offset ${t.offset}, expected ${expected} (llama.cpp rejects this)` });
    expected = Math.ceil((t.offset + (t.byteLength as number)) / alignment) * alignment;
    const end = dataOffset + t.offset + (t.byteLength as number);
    if (end > source.size) {
      diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `tensor ${t.name} ends at byte ${end}, past the end of the ${source.size}-byte file (truncated download?)` });
    }
    t.offset = dataOffset + t.offset; // absolute offset in the file
  }
  return { version, littleEndian: r.littleEndian, tensorCount, metadata, types, tensors, alignment, dataOffset, diagnostics };
}

function num(v: GgufValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')) return Math.max(...(v as number[]));
  return undefined;
}

/** The architecture's hyper-parameters from `{arch}.*` keys. */
export function ggufHyperParameters(md: Record<string, GgufValue>): HyperParameters {
  const arch = typeof md['general.architecture'] === 'string' ? (md['general.architecture'] as string) : '';
  const k = (s: string) => md[`${arch}.${s}`];
  const hp: HyperParameters = {};
  const set = (key: keyof HyperParameters, v: number | undefined) => {
    if (v !== undefined) hp[key] = v;
  };
  set('contextLength', num(k('context_length')));
  set('embeddingLength', num(k('embedding_length')));
  set('layers', num(k('block_count')));
  set('feedForwardLength', num(k('feed_forward_length')));
  set('heads', num(k('attention.head_count')));
  set('kvHeads', num(k('attention.head_count_kv')) ?? num(k('attention.head_count')));
  set('headDim', num(k('attention.key_length')) ?? (hp.embeddingLength && hp.heads ? hp.embeddingLength / hp.heads : undefined));
  set('valueDim', num(k('attention.value_length')));
  set('vocabSize', num(k('vocab_size')));
  set('experts', num(k('expert_count')));
  set('expertsUsed', num(k('expert_used_count')));
  set('slidingWindow', num(k('attention.sliding_window')));
  set('ropeDimensions', num(k('rope.dimension_count')));
  set('ropeFreqBase', num(k('rope.freq_base')));
  const perLayer = ['attention.head_count', 'attention.head_count_kv', 'feed_forward_length'].filter((s) => Array.isArray(k(s)));
  if (perLayer.length) hp.perLayer = perLayer;
  const swa = k('attention.sliding_window_pattern');
  if (swa !== undefined) hp.slidingWindowPattern = swa;
  return hp;
}

function arrayLength(v: GgufValue | undefined): number | undefined {
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === 'object' && 'length' in v) return v.length;
  return undefined;
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'GGUF inspection needs the file');
  const h = await readGgufHeader(probe.source);
  const md = h.metadata;
  const tensors = [...h.tensors];
  const diagnostics = [...h.diagnostics];
  // Split models: read the other shards' tensor infos so the report covers the whole model.
  const splitCount = num(md['split.count']);
  const files = input.id.files;
  const sp = shardPattern(probe.name);
  if (splitCount && splitCount > 1 && sp) {
    for (let i = 1; i <= splitCount; i++) {
      const name = `${sp.prefix}-${String(i).padStart(sp.width, '0')}-of-${String(sp.total).padStart(sp.width, '0')}${sp.suffix}`;
      if (name === probe.name) continue;
      const s = await probe.sibling(name);
      if (!s) {
        diagnostics.push({ code: 'SHARD_MISSING', message: `shard ${name} of ${splitCount} is missing` });
        continue;
      }
      const sh = await readGgufHeader(s);
      for (const t of sh.tensors) tensors.push({ ...t, file: name });
      diagnostics.push(...sh.diagnostics.map((d) => ({ ...d, message: `${name}: ${d.message}` })));
    }
  }
  const arch = typeof md['general.architecture'] === 'string' ? (md['general.architecture'] as string) : null;
  const ftype = num(md['general.file_type']);
  const byDtype: Record<string, number> = {};
  for (const t of tensors) byDtype[t.dtype] = (byDtype[t.dtype] ?? 0) + (elementCount(t.shape) ?? 0);
  const q = describeQuantization(byDtype);
  const fileType = ftype !== undefined ? ftypeShortName(ftype) : undefined;
  const quantization = q ? { summary: fileType ? `${fileType}: ${q.summary}` : q.summary, ...(fileType ? { fileType } : {}), ...(q.bitsPerWeight !== undefined ? { bitsPerWeight: q.bitsPerWeight } : {}) } : undefined;
  const tokenModel = typeof md['tokenizer.ggml.model'] === 'string' ? (md['tokenizer.ggml.model'] as string) : undefined;
  const vocab = arrayLength(md['tokenizer.ggml.tokens']);
  const chatTemplate = Object.keys(md).some((k) => k.startsWith('tokenizer.chat_template'));
  const tokenizer = tokenModel || vocab !== undefined ? {
    ...(tokenModel ? { model: tokenModel } : {}),
    ...(vocab !== undefined ? { vocabSize: vocab } : {}),
    ...(typeof md['tokenizer.ggml.pre'] === 'string' ? { pre: md['tokenizer.ggml.pre'] } : {}),
    ...(arrayLength(md['tokenizer.ggml.merges']) !== undefined ? { merges: arrayLength(md['tokenizer.ggml.merges']) } : {}),
    chatTemplate,
    ...Object.fromEntries(['bos', 'eos', 'eot', 'unknown', 'padding'].filter((s) => typeof md[`tokenizer.ggml.${s}_token_id`] === 'number').map((s) => [`${s}TokenId`, md[`tokenizer.ggml.${s}_token_id`]])),
  } : undefined;
  const hp = ggufHyperParameters(md);
  if (hp.vocabSize === undefined && vocab !== undefined) hp.vocabSize = vocab;
  return {
    format: { version: String(h.version) },
    producer: null,
    architecture: arch,
    tensors,
    ...(quantization ? { quantization } : {}),
    hyperParameters: hp,
    ...(tokenizer ? { tokenizer } : {}),
    details: {
      endianness: h.littleEndian ? 'little' : 'big',
      alignment: h.alignment,
      dataOffset: h.dataOffset,
      metadataTypes: h.types,
      ...(typeof md['general.type'] === 'string' ? { type: md['general.type'] } : {}),
      ...(h.tensorCount === 0 ? { vocabOnly: true } : {}),
    },
    metadata: md,
    ...(files ? { files } : {}),
    diagnostics,
  };
}

/** The stored bytes of one tensor (ggml block layout as stored; big-endian files are not swapped). */
export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'GGUF tensors need the file');
  if (typeof tensor.offset !== 'number' || typeof tensor.byteLength !== 'number') {
    throw new ModelwiseError('UNSUPPORTED', `tensor ${tensor.name} has no readable data range`, { file: probe.path });
  }
  const source = tensor.file ? await probe.sibling(tensor.file) : probe.source;
  if (!source) throw new ModelwiseError('NOT_FOUND', `shard ${tensor.file} is missing`, { file: probe.path });
  const { readExact } = await import('../../io/source.js');
  return readExact(source, tensor.offset, tensor.byteLength, `data of tensor ${tensor.name}`);
}
