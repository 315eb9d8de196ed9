/**
 * Core ML inspection: `.mlmodel` (one Model protobuf, ./model.ts), `.mlpackage` (Manifest.json →
 * root model + weights/weight.bin blob headers, ./blob.ts) and `.mlmodelc` (metadata.json and
 * model.mil text, ./compiled.ts). Weights are located (file, offset, size), never read by inspect;
 * `readTensor` reads one.
 */
import { ModelwiseError } from '../../errors.js';
import { isObject } from '../../identify/probe.js';
import { decodeUtf8 } from '../../io/bytes.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { dirname, joinPath, safeRelativePath, type TreeEntry } from '../../io/tree.js';
import type { Diagnostic, GraphIO, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { elementCount } from '../../inspect/summary.js';
import { readBlobHeader, readStorageHeader } from './blob.js';
import { parseMilText, schemaEntry } from './compiled.js';
import type { Feature } from './features.js';
import { MIL_BITS, type BlobConst } from './mil.js';
import { readModel, type CoreMLModel } from './model.js';

/** Files of the model reachable from the inspector's input, with paths relative to one root. */
interface Root {
  /** The entry file and its path relative to the root. */
  entry?: { source: ByteSource; path: string };
  open(rel: string): Promise<ByteSource | undefined>;
  list(): Promise<TreeEntry[] | undefined>;
}

function rootOf(input: InspectInput): Root {
  const p = input.probe;
  if (p) {
    return {
      entry: { source: p.source, path: p.name },
      open: async (rel) => (rel === p.name ? p.source : p.sibling(rel)),
      list: async () => (p.tree ? p.folderFiles() : undefined),
    };
  }
  const t = input.tree;
  return {
    open: async (rel) => {
      try {
        return t ? await t.tree.open(rel) : undefined;
      } catch {
        return undefined;
      }
    },
    list: async () => t?.entries,
  };
}

const MAX_JSON = 64 * 1024 * 1024;

async function readJson(root: Root, rel: string): Promise<unknown> {
  const s = await root.open(rel);
  if (!s || s.size > MAX_JSON) return undefined;
  try {
    return JSON.parse(decodeUtf8(await s.read(0, s.size)));
  } catch {
    return undefined;
  }
}

const io = (f: Feature): GraphIO => ({
  name: f.name,
  dtype: f.dtype,
  shape: f.shape,
  ...(f.kind ? { kind: f.kind } : {}),
  ...(f.description ? { description: f.description } : {}),
  ...(f.optional ? { optional: true } : {}),
  ...(f.flexible ? { flexible: f.flexible } : {}),
});

export async function inspect(input: InspectInput): Promise<Inspection> {
  const root = rootOf(input);
  const variant = input.id.format?.variant;
  if (variant === 'mlmodelc') return compiled(root);
  if (variant === 'mlpackage') return mlpackage(root);
  if (!root.entry) throw new ModelwiseError('USAGE', 'a .mlmodel inspection needs the file');
  return fromModel(root, root.entry.source, undefined, dirname(root.entry.path), {});
}

/** Manifest.json → the root model item; the model file and its folder (where weights/ lives). */
async function mlpackage(root: Root): Promise<Inspection> {
  const entryName = root.entry?.path.split('/').pop();
  // A package's Manifest.json is its entry; a model file inspected alone is read as an .mlmodel.
  if (root.entry && entryName !== 'Manifest.json') return fromModel(root, root.entry.source, undefined, dirname(root.entry.path), {});
  const manifest = await readJson(root, 'Manifest.json');
  if (!isObject(manifest) || !isObject(manifest.itemInfoEntries)) throw new ModelwiseError('MALFORMED', 'Manifest.json is not an .mlpackage manifest (itemInfoEntries)', { file: 'Manifest.json' });
  const items = Object.entries(manifest.itemInfoEntries).filter(([, v]) => isObject(v) && typeof v.path === 'string') as [string, Record<string, unknown>][];
  const rootId = typeof manifest.rootModelIdentifier === 'string' ? manifest.rootModelIdentifier : undefined;
  const rootItem = items.find(([k]) => k === rootId)?.[1];
  if (!rootItem) throw new ModelwiseError('MALFORMED', `Manifest.json names root model ${rootId ?? '(none)'}, which is not among its items`, { file: 'Manifest.json' });
  const modelRel = safeRelativePath(joinPath('Data', rootItem.path as string));
  const model = modelRel ? await root.open(modelRel) : undefined;
  const manifestDetails = {
    fileFormatVersion: manifest.fileFormatVersion ?? null,
    rootModel: rootItem.path,
    items: items.map(([id, v]) => ({ id, path: v.path, ...(typeof v.name === 'string' ? { name: v.name } : {}), ...(typeof v.author === 'string' ? { author: v.author } : {}), ...(typeof v.description === 'string' ? { description: v.description } : {}) })),
  };
  if (!model || !modelRel) {
    // The manifest alone (a package seen file by file, e.g. over HTTP, or an incomplete copy).
    return {
      producer: null,
      architecture: null,
      tensors: [],
      details: { manifest: manifestDetails },
      metadata: {},
      diagnostics: [{ code: 'SHARD_MISSING', message: `root model Data/${rootItem.path as string} is not reachable from Manifest.json: open the .mlpackage folder` }],
    };
  }
  return fromModel(root, model, modelRel, dirname(modelRel), { manifest: manifestDetails });
}

async function fromModel(root: Root, source: ByteSource, modelRel: string | undefined, modelDir: string, extra: Record<string, unknown>): Promise<Inspection> {
  const m = await readModel(source);
  if (m.specificationVersion === undefined && !m.kind) throw new ModelwiseError('MALFORMED', 'not a Core ML Model message (no specificationVersion, no model type)', { file: source.name, offset: 0 });
  const diagnostics: Diagnostic[] = [...m.diagnostics];
  const tensors: TensorInfo[] = m.tensors.map((t) => (modelRel ? { ...t, file: modelRel } : t));
  const blobs = await resolveBlobs(root, m.blobs, modelDir, diagnostics);
  tensors.push(...blobs.tensors);
  const ud = m.metadata.userDefined;
  const tools = ud['com.github.apple.coremltools.version'];
  const metadata: Record<string, unknown> = {};
  for (const k of ['shortDescription', 'versionString', 'author', 'license'] as const) if (m.metadata[k]) metadata[k] = m.metadata[k];
  Object.assign(metadata, ud);
  const quantized = tensors.filter((t) => t.quantization);
  const palettized = quantized.filter((t) => t.quantization?.scheme === 'lookup-table' || t.quantization?.scheme === 'palettized').length;
  return {
    format: { version: m.specificationVersion !== undefined ? String(m.specificationVersion) : null },
    producer: tools ? `coremltools ${tools}` : null,
    architecture: m.kind ?? null,
    tensors,
    graph: { inputs: m.inputs.map(io), outputs: m.outputs.map(io), ops: m.ops },
    ...(quantized.length
      ? { quantization: { summary: `${quantized.length} of ${tensors.length} weights quantized (${[...new Set(quantized.map((t) => t.dtype))].join(', ')})${palettized ? `, ${palettized} palettized (lookup table)` : ''}` } }
      : {}),
    details: {
      specificationVersion: m.specificationVersion ?? null,
      modelType: m.kind ?? null,
      isUpdatable: m.isUpdatable,
      model: m.outline,
      ...(m.layers ? { layers: m.layers } : {}),
      ...(m.functions.length ? { functions: m.functions } : {}),
      ...(m.predictedFeatureName ? { predictedFeatureName: m.predictedFeatureName } : {}),
      ...(m.predictedProbabilitiesName ? { predictedProbabilitiesName: m.predictedProbabilitiesName } : {}),
      ...(blobs.files.length ? { weightFiles: blobs.files } : {}),
      ...extra,
    },
    metadata,
    diagnostics,
  };
}

/** MIL constexpr ops that expand compressed weights at load time, and the compression each means. */
const CONSTEXPR: Record<string, string> = {
  constexpr_lut_to_dense: 'palettized', constexpr_affine_dequantize: 'linear', constexpr_blockwise_shift_scale: 'linear',
  constexpr_sparse_to_dense: 'sparse', constexpr_cast: 'cast', constexpr_lut_to_sparse: 'palettized+sparse', constexpr_sparse_blockwise_shift_scale: 'linear+sparse',
};

/** Blob-file constants → tensors, sized from the 64-byte metadata records of weight.bin. */
async function resolveBlobs(root: Root, blobs: BlobConst[], modelDir: string, diagnostics: Diagnostic[]): Promise<{ tensors: TensorInfo[]; files: { path: string; size: number; blobs?: number; version?: number }[] }> {
  const tensors: TensorInfo[] = [];
  const files = new Map<string, { source?: ByteSource; info: { path: string; size: number; blobs?: number; version?: number } }>();
  let bad = 0;
  for (const b of blobs) {
    const rel = safeRelativePath(joinPath(modelDir, b.fileName.replace(/^@model_path\//, '')));
    const scheme = CONSTEXPR[b.op];
    const t: TensorInfo = { name: b.name, dtype: b.dtype, shape: b.shape, byteLength: null, offset: null, ...(rel ? { file: rel } : {}), ...(scheme ? { quantization: { scheme, op: b.op } } : {}) };
    tensors.push(t);
    if (!rel) {
      diagnostics.push({ code: 'COREML_BAD_BLOB_PATH', message: `${b.name}: blob file "${b.fileName}" is outside the model` });
      continue;
    }
    let f = files.get(rel);
    if (!f) {
      const source = await root.open(rel);
      const head = source ? await readStorageHeader(source) : undefined;
      f = { source, info: { path: rel, size: source?.size ?? 0, ...(head ? { blobs: head.count, version: head.version } : {}) } };
      files.set(rel, f);
      if (!source) diagnostics.push({ code: 'SHARD_MISSING', message: `weight file ${rel} is missing (${b.fileName})` });
    }
    if (!f.source) continue;
    const h = await readBlobHeader(f.source, b.offset);
    const n = elementCount(b.shape);
    const bits = MIL_BITS[b.dtype];
    const want = n !== undefined && bits !== undefined ? Math.ceil((n * bits) / 8) : undefined;
    if (!h || !h.sentinel) {
      bad++;
      if (bad <= 20) diagnostics.push({ code: 'COREML_BAD_BLOB', message: `${b.name}: no blob metadata (sentinel 0xDEADBEEF) at offset ${b.offset} of ${rel}` });
      continue;
    }
    if (h.sizeInBytes === undefined || h.dataOffset === undefined || h.dataOffset + h.sizeInBytes > f.source.size) {
      diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `${b.name}: blob data ${h.dataOffset}+${h.sizeInBytes} lies past the end of ${rel} (${f.source.size} bytes)` });
      continue;
    }
    if (want !== undefined && h.sizeInBytes !== want) diagnostics.push({ code: 'TENSOR_SIZE_MISMATCH', message: `${b.name}: blob holds ${h.sizeInBytes} bytes, ${b.dtype} ${JSON.stringify(b.shape)} needs ${want}` });
    t.byteLength = h.sizeInBytes;
    t.offset = h.dataOffset;
  }
  if (bad > 20) diagnostics.push({ code: 'COREML_BAD_BLOB', message: `${bad - 20} more constants without blob metadata` });
  return { tensors, files: [...files.values()].map((f) => f.info) };
}

/** A compiled .mlmodelc: metadata.json and model.mil. */
async function compiled(root: Root): Promise<Inspection> {
  const diagnostics: Diagnostic[] = [];
  const raw = await readJson(root, 'metadata.json');
  const meta = Array.isArray(raw) ? raw[0] : raw;
  const md = isObject(meta) ? meta : undefined;
  if (!md) diagnostics.push({ code: 'COREML_NO_METADATA', message: 'metadata.json is missing or not JSON: inputs, outputs and ops unknown' });
  const ud = md && isObject(md.userDefinedMetadata) ? (md.userDefinedMetadata as Record<string, unknown>) : {};
  const tools = typeof ud['com.github.apple.coremltools.version'] === 'string' ? (ud['com.github.apple.coremltools.version'] as string) : undefined;
  const schema = (v: unknown): GraphIO[] => (Array.isArray(v) ? v.filter(isObject).map(schemaEntry) : []);
  const milSource = await root.open('model.mil');
  const mil = milSource && milSource.size <= 256 * 1024 * 1024 ? parseMilText(await milSource.read(0, milSource.size)) : undefined;
  if (milSource && !mil) diagnostics.push({ code: 'LIMIT_EXCEEDED', message: `model.mil of ${milSource.size} bytes not read` });
  const histogram = md && isObject(md.mlProgramOperationTypeHistogram) ? (md.mlProgramOperationTypeHistogram as Record<string, number>) : md && isObject(md.neuralNetworkLayerTypeHistogram) ? (md.neuralNetworkLayerTypeHistogram as Record<string, number>) : undefined;
  const blobs = await resolveBlobs(root, mil?.blobs ?? [], '', diagnostics);
  const files = await root.list();
  if (!mil && files?.some((f) => f.path.startsWith('weights/') || f.path.endsWith('.espresso.weights'))) {
    diagnostics.push({ code: 'COREML_COMPILED_WEIGHTS', message: 'the weights of a compiled neural network (model.espresso.weights / coremldata.bin) have no public layout and are not itemized' });
  }
  const modelType = md && isObject(md.modelType) && typeof md.modelType.name === 'string' ? md.modelType.name.replace(/^MLModelType_/, '') : null;
  const metadata: Record<string, unknown> = { ...ud };
  return {
    format: { version: md && md.specificationVersion !== undefined ? String(md.specificationVersion) : null },
    producer: tools ? `coremltools ${tools}` : null,
    architecture: modelType,
    tensors: blobs.tensors,
    graph: { inputs: schema(md?.inputSchema), outputs: schema(md?.outputSchema), ops: histogram ?? mil?.ops ?? {} },
    details: {
      compiled: true,
      ...(md ? Object.fromEntries(['specificationVersion', 'generatedClassName', 'shortDescription', 'author', 'license', 'version', 'availability', 'isUpdatable', 'computePrecision', 'storagePrecision', 'method'].filter((k) => md[k] !== undefined).map((k) => [k, md[k]])) : {}),
      ...(mil ? { mil: { version: mil.version ?? null, functions: mil.functions, ops: mil.ops } } : {}),
      ...(blobs.files.length ? { weightFiles: blobs.files } : {}),
    },
    metadata,
    diagnostics,
  };
}

/**
 * The stored bytes of one weight: a WeightParams payload in the model file (f32 little-endian,
 * f16, i8, quantized raw bytes as stored) or a blob's data in weight.bin.
 */
export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const root = rootOf(input);
  if (typeof tensor.offset !== 'number' || typeof tensor.byteLength !== 'number') {
    throw new ModelwiseError('UNSUPPORTED', `weight ${tensor.name} has no contiguous stored range${tensor.storage ? ` (${tensor.storage})` : ''}`);
  }
  const source = tensor.file ? await root.open(tensor.file) : root.entry?.source;
  if (!source) throw new ModelwiseError('NOT_FOUND', `${tensor.file ?? 'the model file'} is missing`, { file: tensor.file });
  if (tensor.offset + tensor.byteLength > source.size) throw new ModelwiseError('UNEXPECTED_EOF', `weight ${tensor.name} ends at ${tensor.offset + tensor.byteLength}, past the end of the ${source.size}-byte file`, { file: tensor.file, offset: tensor.offset });
  return readExact(source, tensor.offset, tensor.byteLength, `data of ${tensor.name}`);
}

export type { CoreMLModel };
