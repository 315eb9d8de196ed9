/**
 * ONNX inspection: the ModelProto walked lazily over the file (model.ts), mapped to the common report.
 * Tensors are the initializers and sparse initializers of the main graph and of every nested
 * subgraph, with external data sized from `external_data` (location/offset/length) without reading
 * it; inputs are the main graph's inputs that are not initializers. See README.md.
 */
import { ModelwiseError } from '../../errors.js';
import { BytesSource, type ByteSource } from '../../io/source.js';
import type { TreeEntry } from '../../io/tree.js';
import { LIMITS } from '../../limits.js';
import type { Diagnostic, GraphIO, ModelFile, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { describeQuantization } from '../../inspect/summary.js';
import { onnxBytes, onnxDtype, onnxDtypeName } from './dtypes.js';
import { readOnnxModel, type OnnxModel, type OnnxSparse, type OnnxTensor } from './model.js';
import { describeOnnxQuantization } from './quant.js';
import { denseBytes, elements, externalRange, sparseBytes } from './tensor-data.js';

/** Files up to this size are read in one go (fewer round trips; payloads of small models cost nothing). */
const READ_WHOLE = 4 * 1024 * 1024;

const models = new WeakMap<InspectInput, Promise<OnnxModel>>();

/** The walked model of an input (memoized: readTensor runs once per tensor on the same input). */
function model(input: InspectInput): Promise<OnnxModel> {
  let m = models.get(input);
  if (!m) {
    m = load(input);
    models.set(input, m);
  }
  return m;
}

async function load(input: InspectInput): Promise<OnnxModel> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'ONNX inspection needs the model file');
  const variant = input.id.format?.variant;
  if (variant === 'onnx-text' || variant === 'ort') {
    throw new ModelwiseError('UNSUPPORTED', `${probe.path}: inspecting the ${variant === 'ort' ? 'ONNX Runtime (ORT) flatbuffer' : 'ONNX text'} form is not implemented; convert it to a binary .onnx first`);
  }
  let source: ByteSource = probe.source;
  if (source.size <= READ_WHOLE) source = new BytesSource(source.size <= LIMITS.probeHead ? await probe.head() : await source.read(0, source.size), probe.source.name);
  return readOnnxModel(source);
}

function tensorInfo(t: OnnxTensor, diagnostics: Diagnostic[], files: Map<string, TreeEntry> | undefined): TensorInfo {
  const dtype = onnxDtypeName(t.dataType);
  const d = onnxDtype(t.dataType);
  const n = elements(t.dims);
  const want = n === undefined ? undefined : onnxBytes(d, n);
  const info: TensorInfo = { name: t.name, dtype, shape: [...t.dims], byteLength: null, offset: null };
  const label = `tensor ${t.name}${t.scope ? ` (in ${t.scope})` : ''}`;
  if (!d) diagnostics.push({ code: 'ONNX_UNKNOWN_DTYPE', message: `${label}: data_type ${t.dataType} is not a known TensorProto.DataType` });
  if (t.dataLocation === 1) {
    const ext = externalRange(t, want);
    if (!ext) {
      diagnostics.push({ code: 'MALFORMED', message: `${label}: data_location is EXTERNAL but external_data has no location` });
      return info;
    }
    info.offset = ext.offset;
    info.byteLength = ext.length ?? null;
    info.file = ext.safe ?? ext.location;
    if (!ext.safe) {
      diagnostics.push({ code: 'ONNX_UNSAFE_EXTERNAL_PATH', message: `${label}: external data location ${JSON.stringify(ext.location)} is absolute or leaves the model's folder; not followed` });
    } else if (files) {
      const f = files.get(ext.safe);
      if (!f) diagnostics.push({ code: 'SHARD_MISSING', message: `${label}: external data file ${ext.safe} is missing next to the model` });
      else if (ext.length !== undefined && ext.offset + ext.length > f.size) {
        diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `${label}: bytes ${ext.offset}..${ext.offset + ext.length} lie past the end of ${ext.safe} (${f.size} bytes)` });
      }
    }
    if (want !== undefined && ext.length !== undefined && ext.length < want) {
      diagnostics.push({ code: 'TENSOR_SIZE_MISMATCH', message: `${label}: external length ${ext.length} bytes, dims × ${dtype} need ${want}` });
    }
    return info;
  }
  if (t.raw) {
    info.offset = t.raw.at;
    info.byteLength = t.raw.length;
    if (want !== undefined && t.raw.length !== want) diagnostics.push({ code: 'TENSOR_SIZE_MISMATCH', message: `${label}: raw_data holds ${t.raw.length} bytes, dims × ${dtype} need ${want}` });
  } else if (t.typed) {
    info.offset = t.typed.at;
    if (t.typed.field === 6) info.byteLength = t.typed.bytes;
    else {
      // Values as readTensor returns them: contiguous, in the tensor's dtype.
      info.byteLength = want ?? null;
      const per = d && (d.name === 'c64' || d.name === 'c128') ? 2 : 1;
      const expected = n === undefined || !d ? undefined : d.bits < 8 && t.typed.field === 5 ? onnxBytes(d, n) : n * per;
      if (t.typed.count !== undefined && expected !== undefined && t.typed.count !== expected) {
        diagnostics.push({ code: 'TENSOR_SIZE_MISMATCH', message: `${label}: ${t.typed.count} stored values, dims ${JSON.stringify(t.dims)} need ${expected}` });
      }
    }
  } else {
    info.byteLength = want === 0 || n === 0 ? 0 : null;
    if (n !== 0) diagnostics.push({ code: 'TENSOR_NO_DATA', message: `${label}: no raw_data, typed values or external data` });
  }
  if (t.segment) diagnostics.push({ code: 'ONNX_SEGMENT', message: `${label}: stored as a segment of a larger tensor (TensorProto.segment); sizes may not add up` });
  return info;
}

function sparseInfo(s: OnnxSparse, diagnostics: Diagnostic[], files: Map<string, TreeEntry> | undefined): TensorInfo | undefined {
  if (!s.values) {
    diagnostics.push({ code: 'MALFORMED', message: `sparse initializer without values${s.scope ? ` in ${s.scope}` : ''}` });
    return undefined;
  }
  const v = tensorInfo(s.values, diagnostics, files);
  const ix = s.indices ? tensorInfo(s.indices, diagnostics, files) : undefined;
  const bytes = typeof v.byteLength === 'number' && (!ix || typeof ix.byteLength === 'number') ? v.byteLength + ((ix?.byteLength as number | undefined) ?? 0) : null;
  return { ...v, shape: [...s.dims], byteLength: bytes };
}

const io = (x: { name: string; type: { dtype: string; shape: GraphIO['shape'] } }): GraphIO => ({ name: x.name, dtype: x.type.dtype, shape: x.type.shape });

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe!;
  const m = await model(input);
  const diagnostics: Diagnostic[] = [...m.diagnostics];
  const external = m.tensors.some((t) => t.dataLocation === 1) || m.sparse.some((s) => s.values?.dataLocation === 1 || s.indices?.dataLocation === 1);
  const listing = external && probe.tree ? new Map((await probe.folderFiles()).map((e) => [e.path, e])) : undefined;

  const tensors: TensorInfo[] = m.tensors.map((t) => tensorInfo(t, diagnostics, listing));
  for (const s of m.sparse) {
    const info = sparseInfo(s, diagnostics, listing);
    if (info) tensors.push(info);
  }
  if (m.irVersion === undefined) diagnostics.push({ code: 'MALFORMED', message: `${probe.path}: ModelProto has no ir_version` });

  // Files: the model and every external data file found next to it.
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'entry' }];
  const byFile = new Map<string, { tensors: number; bytes: number; end: number }>();
  for (const t of tensors) {
    if (!t.file) continue;
    const e = byFile.get(t.file) ?? { tensors: 0, bytes: 0, end: 0 };
    e.tensors++;
    if (typeof t.byteLength === 'number') {
      e.bytes += t.byteLength;
      if (typeof t.offset === 'number') e.end = Math.max(e.end, t.offset + t.byteLength);
    }
    byFile.set(t.file, e);
  }
  for (const [path] of byFile) {
    const hit = listing?.get(path);
    if (hit) files.push({ path, size: hit.size, role: 'external-data' });
  }

  const inputs = m.inputs.filter((i) => !m.mainInitializers.has(i.name)).map(io);
  const outputs = m.outputs.map(io);
  const producer = `${m.producerName} ${m.producerVersion}`.trim() || null;
  const opsets: Record<string, number> = {};
  for (const o of m.opsets) opsets[o.domain || 'ai.onnx'] = o.version;
  const opsByDomain: Record<string, Record<string, number>> = {};
  for (const [domain, ops] of m.opsByDomain) if (domain !== '' && domain !== 'ai.onnx') opsByDomain[domain] = Object.fromEntries(ops);

  let quantization: Inspection['quantization'];
  const q = describeOnnxQuantization(m);
  if (q) {
    const byDtype: Record<string, number> = {};
    for (const t of tensors) {
      const n = t.shape ? elements(t.shape.filter((d): d is number => typeof d === 'number')) : undefined;
      if (n !== undefined) byDtype[t.dtype] = (byDtype[t.dtype] ?? 0) + n;
    }
    const mix = describeQuantization(byDtype);
    quantization = { ...q, ...(mix?.bitsPerWeight !== undefined ? { bitsPerWeight: mix.bitsPerWeight } : {}) };
  }

  return {
    format: { variant: external ? 'onnx-external-data' : 'onnx-protobuf', version: m.irVersion !== undefined ? String(m.irVersion) : null },
    producer,
    architecture: null,
    tensors,
    graph: { inputs, outputs, ops: Object.fromEntries(m.ops) },
    ...(quantization ? { quantization } : {}),
    details: {
      irVersion: m.irVersion ?? null,
      opsets,
      ...(m.domain ? { domain: m.domain } : {}),
      ...(m.modelVersion ? { modelVersion: m.modelVersion } : {}),
      ...(m.docString ? { docString: m.docString } : {}),
      ...(m.graphName ? { graphName: m.graphName } : {}),
      nodeCount: m.nodes,
      subgraphCount: m.subgraphs,
      initializerCount: m.tensors.length,
      sparseInitializerCount: m.sparse.length,
      ...(Object.keys(opsByDomain).length ? { opsByDomain } : {}),
      ...(m.constants ? { constantNodes: m.constants } : {}),
      ...(m.functions.length ? { functions: m.functions.map((f) => ({ name: f.name, domain: f.domain, nodes: f.nodes, ops: f.ops })) } : {}),
      ...(m.functionInitializers ? { functionInitializers: m.functionInitializers } : {}),
      ...(m.trainingInfo ? { trainingInfo: m.trainingInfo } : {}),
      ...(byFile.size ? { externalData: [...byFile].map(([file, e]) => ({ file, tensors: e.tensors, bytes: e.bytes, found: listing ? listing.has(file) : null, ...(listing?.get(file) ? { size: listing.get(file)!.size } : {}) })) } : {}),
      ...(m.partial ? { partial: true } : {}),
    },
    metadata: Object.fromEntries(m.metadata),
    files: files.length > 1 ? files : undefined,
    diagnostics,
  };
}

/** The bytes of one initializer (see tensor-data.ts). */
export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'ONNX tensors need the model file');
  const m = await model(input);
  const same = (t: OnnxTensor | undefined) => t !== undefined && t.name === tensor.name;
  const dense = m.tensors.filter(same);
  const sparse = m.sparse.filter((s) => same(s.values));
  if (dense.length + sparse.length === 0) throw new ModelwiseError('NOT_FOUND', `no initializer named ${JSON.stringify(tensor.name)}`, { file: probe.path });
  if (dense.length + sparse.length > 1 && tensor.offset !== null) {
    // Same name in several subgraphs: the offset tells them apart.
    const hit = dense.find((t) => t.raw?.at === tensor.offset || t.typed?.at === tensor.offset);
    if (hit) return denseBytes(probe, hit);
  }
  if (dense.length > 0) return denseBytes(probe, dense[0]!);
  return sparseBytes(probe, sparse[0]!);
}
