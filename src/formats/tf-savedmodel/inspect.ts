/**
 * TensorFlow SavedModel inspection (and its relatives: Session Bundle, bare checkpoint, frozen
 * graph): the SavedModel / MetaGraphDef walked lazily (./graph.ts), the variables from the
 * checkpoint index (./variables.ts, ./sstable.ts), `fingerprint.pb`, `keras_metadata.pb` and
 * assets. Data shards are never read by `inspect`; `readTensor` reads one variable's bytes.
 */
import { ModelwiseError, isModelwiseError } from '../../errors.js';
import { readExact, type ByteSource } from '../../io/source.js';
import type { Diagnostic, GraphIO, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { elementCount } from '../../inspect/summary.js';
import { TF_DTYPE_BYTES } from './bundle.js';
import { folderOf, type ModelFolder } from './folder.js';
import { GraphReader, producerOf, servingSignature, type MetaGraph, type Signature } from './graph.js';
import { readBundle, readV1Checkpoint, type BundleRead } from './variables.js';
import { fingerprint, kerasMetadata } from './extras.js';
import { inspectText } from './text.js';
import { sessionSignatures } from './session.js';

const stem = (name: string, ext: string) => (name.endsWith(ext) ? name.slice(0, -ext.length) : name);

function ioOf(s: Signature | undefined): { inputs: GraphIO[]; outputs: GraphIO[] } {
  const map = (t: Signature['inputs'][number]): GraphIO => ({ name: t.key, dtype: t.dtype, shape: t.shape, tensor: t.name });
  return { inputs: s?.inputs.map(map) ?? [], outputs: s?.outputs.map(map) ?? [] };
}

function metaDetails(m: MetaGraph) {
  return {
    tags: m.tags,
    ...(m.tensorflowVersion ? { tensorflowVersion: m.tensorflowVersion } : {}),
    ...(m.tensorflowGitVersion ? { tensorflowGitVersion: m.tensorflowGitVersion } : {}),
    ...(m.metaGraphVersion ? { metaGraphVersion: m.metaGraphVersion } : {}),
    signatures: m.signatures.map((s) => ({
      key: s.key,
      method: s.method,
      inputs: s.inputs.map((t) => ({ key: t.key, tensor: t.name, dtype: t.dtype, shape: t.shape })),
      outputs: s.outputs.map((t) => ({ key: t.key, tensor: t.name, dtype: t.dtype, shape: t.shape })),
    })),
    collections: m.collections,
    ...(m.graph
      ? {
          graph: { nodes: m.graph.nodes, ...(m.graph.producer !== undefined ? { producer: m.graph.producer } : {}) },
          functionLibrary: { functions: m.graph.functions, nodes: m.graph.functionNodes, ops: m.graph.functionOps },
        }
      : {}),
    ...(m.objectGraph ? { objectGraph: m.objectGraph } : {}),
  };
}

/** Variables of a V2 bundle at `<prefix>.index`, as tensors (diagnostics on failure, never a throw). */
async function variables(folder: ModelFolder, prefix: string, diagnostics: Diagnostic[]): Promise<BundleRead | undefined> {
  const index = await folder.open(`${prefix}.index`);
  if (!index) return undefined;
  try {
    const b = await readBundle(index, prefix, await folder.list());
    diagnostics.push(...b.diagnostics);
    return b;
  } catch (e) {
    if (!isModelwiseError(e)) throw e;
    diagnostics.push({ code: e.code, message: `${prefix}.index: ${e.message}` });
    return undefined;
  }
}

function bundleDetails(b: BundleRead | undefined) {
  if (!b) return {};
  return {
    bundle: {
      ...(b.header ? { numShards: b.header.numShards, endianness: b.header.littleEndian ? 'little' : 'big', ...(b.header.producer !== undefined ? { producer: b.header.producer } : {}) } : {}),
      dataBlocks: b.blocks,
      snappyBlocks: b.snappyBlocks,
      ...(b.sliceEntries ? { sliceEntries: b.sliceEntries } : {}),
    },
  };
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const folder = folderOf(input);
  const variant = input.id.format?.variant;
  const name = folder.entry?.name ?? '';
  if (variant === 'session-bundle') return sessionBundle(folder);
  if (variant === 'checkpoint' && name.endsWith('.index')) return bareCheckpoint(folder, stem(name, '.index'));
  if (variant === 'checkpoint' || variant === 'meta-graph') return metaGraphFile(folder, variant);
  if (variant === 'frozen-graph') return frozenGraph(folder);
  return savedModel(folder);
}

async function savedModel(folder: ModelFolder): Promise<Inspection> {
  const diagnostics: Diagnostic[] = [];
  let entry = folder.entry && /^saved_model\.pbtxt?$/.test(folder.entry.name) ? folder.entry : undefined;
  for (const n of ['saved_model.pb', 'saved_model.pbtxt']) {
    if (entry) break;
    const s = await folder.open(n);
    if (s) entry = { source: s, name: n };
  }
  const files = await folder.list();
  if (!entry) {
    // A piece seen alone (fingerprint.pb over HTTP): what it says, and where the model is.
    const fp = await fingerprint(folder, files, diagnostics);
    if (!fp.fingerprint) throw new ModelwiseError('NOT_FOUND', 'saved_model.pb is not next to this file; open the SavedModel folder', { file: folder.entry?.name });
    diagnostics.push({ code: 'TF_PART_OF_SAVEDMODEL', message: 'fingerprint.pb holds hashes only: open the SavedModel folder (with saved_model.pb)' });
    return { producer: null, architecture: null, tensors: [], details: fp, metadata: {}, diagnostics };
  }
  const vars = await variables(folder, 'variables/variables', diagnostics);
  if (!vars && files && !files.some((f) => f.path.startsWith('variables/'))) {
    diagnostics.push({ code: 'TF_NO_VARIABLES', message: 'no variables/ folder: a model without variables (constants live in the graph), or an incomplete copy' });
  } else if (!vars && !files) diagnostics.push({ code: 'TF_VARIABLES_UNREACHABLE', message: 'the folder cannot be listed here (e.g. over HTTP): variables/variables.index was not read' });
  const extras = { ...(await fingerprint(folder, files, diagnostics)), ...(await kerasMetadata(folder, files)) };
  const assets = files?.filter((f) => f.path.startsWith('assets/') || f.path.startsWith('assets.extra/')).map((f) => ({ path: f.path, size: f.size }));
  if (entry.name.endsWith('.pbtxt')) {
    const t = await inspectText(entry.source);
    return { ...t, tensors: vars?.tensors ?? [], details: { ...t.details, ...bundleDetails(vars), ...extras, ...(assets?.length ? { assetFiles: assets } : {}) }, metadata: {}, diagnostics: [...(t.diagnostics ?? []), ...diagnostics] };
  }
  const g = new GraphReader(entry.source);
  const sm = await g.savedModel();
  const metas: MetaGraph[] = [];
  for (const [i, f] of sm.metaGraphs.entries()) metas.push(await g.metaGraph(f.at, f.end, i === 0));
  diagnostics.push(...g.diagnostics);
  if (metas.length === 0) throw new ModelwiseError('MALFORMED', 'SavedModel has no meta graph', { file: entry.source.name, offset: 0, expected: 'meta_graphs = 2' });
  const main = metas[0]!;
  const sig = servingSignature(main.signatures);
  if (!sig) diagnostics.push({ code: 'TF_NO_SIGNATURE', message: 'the first meta graph has no signature_def: graph inputs/outputs unknown' });
  return {
    format: { version: sm.schemaVersion !== undefined ? String(sm.schemaVersion) : null },
    producer: producerOf(main),
    architecture: extras.kerasMetadata?.rootClass ?? null,
    tensors: vars?.tensors ?? [],
    graph: { ...ioOf(sig), ops: main.graph?.ops ?? {} },
    details: {
      savedModelSchemaVersion: sm.schemaVersion ?? null,
      ...(sig ? { servingSignature: sig.key } : {}),
      metaGraphs: metas.map(metaDetails),
      ...(main.assets.length ? { assets: main.assets } : {}),
      ...(assets?.length ? { assetFiles: assets } : {}),
      ...bundleDetails(vars),
      ...extras,
    },
    metadata: {},
    diagnostics,
  };
}

/** TF Serving's Session Bundle: export.meta + a V1 (or V2) checkpoint named `export`. */
async function sessionBundle(folder: ModelFolder): Promise<Inspection> {
  const diagnostics: Diagnostic[] = [
    { code: 'TF_SESSION_BUNDLE', message: 'TF Serving Session Bundle: a deprecated pre-SavedModel export; convert it to a SavedModel (load with TF 1.x, re-export with SavedModelBuilder) to serve it with current TensorFlow' },
  ];
  const meta = folder.entry?.name === 'export.meta' ? folder.entry.source : await folder.open('export.meta');
  let m: MetaGraph | undefined;
  if (meta) {
    const g = new GraphReader(meta);
    m = await g.metaGraph(0, meta.size, true);
    diagnostics.push(...g.diagnostics);
  } else diagnostics.push({ code: 'TF_META_MISSING', message: 'export.meta (the graph) is not next to the checkpoint' });
  const files = (await folder.list()) ?? [];
  const v1 = files.filter((f) => /^export-\d{5}-of-\d{5}$/.test(f.path)).sort((a, b) => (a.path < b.path ? -1 : 1));
  let tensors: TensorInfo[] = [];
  let vars: BundleRead | undefined;
  if (v1.length) {
    const shards: { path: string; source: ByteSource }[] = [];
    for (const f of v1) {
      const s = await folder.open(f.path);
      if (s) shards.push({ path: f.path, source: s });
    }
    const r = await readV1Checkpoint(shards);
    tensors = r.tensors;
    diagnostics.push(...r.diagnostics);
  } else {
    vars = await variables(folder, 'export', diagnostics);
    tensors = vars?.tensors ?? [];
  }
  return {
    producer: producerOf(m),
    architecture: null,
    tensors,
    graph: { inputs: [], outputs: [], ops: m?.graph?.ops ?? {} },
    details: { deprecated: true, ...(m?.servingSignatures ? { sessionSignatures: sessionSignatures(m.servingSignatures) } : {}), checkpoint: v1.length ? { format: 'V1', shards: v1.map((f) => f.path) } : vars ? { format: 'V2' } : null, ...(m ? { metaGraph: metaDetails(m) } : {}), ...bundleDetails(vars) },
    metadata: {},
    diagnostics,
  };
}

/** A bare checkpoint `<prefix>.index` (+ `<prefix>.meta` when next to it). */
async function bareCheckpoint(folder: ModelFolder, prefix: string): Promise<Inspection> {
  const diagnostics: Diagnostic[] = [];
  const vars = await variables(folder, prefix, diagnostics);
  if (!vars) throw new ModelwiseError('MALFORMED', `${prefix}.index could not be read as a checkpoint index`, { file: folder.entry?.name });
  const metaSrc = await folder.open(`${prefix}.meta`);
  let m: MetaGraph | undefined;
  if (metaSrc) {
    const g = new GraphReader(metaSrc);
    m = await g.metaGraph(0, metaSrc.size, true);
    diagnostics.push(...g.diagnostics);
  }
  if (prefix === 'variables' || prefix.endsWith('/variables')) diagnostics.push({ code: 'TF_PART_OF_SAVEDMODEL', message: 'these are the variables of a SavedModel: open the folder with saved_model.pb for signatures and ops' });
  return {
    producer: producerOf(m),
    architecture: null,
    tensors: vars.tensors,
    ...(m ? { graph: { ...ioOf(servingSignature(m.signatures)), ops: m.graph?.ops ?? {} } } : {}),
    details: { ...(m ? { metaGraph: metaDetails(m) } : {}), ...bundleDetails(vars) },
    metadata: {},
    diagnostics,
  };
}

/** A `.meta` MetaGraphDef (TF1 checkpoint graph) or a bare MetaGraphDef file. */
async function metaGraphFile(folder: ModelFolder, variant: string): Promise<Inspection> {
  const entry = folder.entry;
  if (!entry) throw new ModelwiseError('USAGE', 'a meta graph inspection needs the file');
  const diagnostics: Diagnostic[] = [];
  const g = new GraphReader(entry.source);
  const m = await g.metaGraph(0, entry.source.size, true);
  diagnostics.push(...g.diagnostics);
  const vars = variant === 'checkpoint' ? await variables(folder, stem(entry.name, '.meta'), diagnostics) : undefined;
  return {
    producer: producerOf(m),
    architecture: null,
    tensors: vars?.tensors ?? [],
    graph: { ...ioOf(servingSignature(m.signatures)), ops: m.graph?.ops ?? {} },
    details: { metaGraph: metaDetails(m), ...bundleDetails(vars) },
    metadata: {},
    diagnostics,
  };
}

/** A frozen GraphDef: the op histogram (weights are Const nodes inside the graph). */
async function frozenGraph(folder: ModelFolder): Promise<Inspection> {
  const entry = folder.entry;
  if (!entry) throw new ModelwiseError('USAGE', 'a graph inspection needs the file');
  if (await isText(entry.source)) return { ...(await inspectText(entry.source)), tensors: [] };
  const g = new GraphReader(entry.source);
  const stats = await g.graphDef(0, entry.source.size);
  const consts = await g.constTensors(0, entry.source.size);
  return {
    producer: null,
    architecture: null,
    tensors: consts,
    graph: { inputs: [], outputs: [], ops: stats.ops },
    details: { graph: { nodes: stats.nodes, ...(stats.producer !== undefined ? { producer: stats.producer } : {}) }, functionLibrary: { functions: stats.functions, nodes: stats.functionNodes, ops: stats.functionOps } },
    metadata: {},
    diagnostics: g.diagnostics,
  };
}

async function isText(s: ByteSource): Promise<boolean> {
  const b = await s.read(0, Math.min(s.size, 256));
  return b.length > 0 && b.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127));
}

/**
 * The bytes of one variable from its data shard: exactly elements × dtype size, little-endian
 * (a big-endian bundle is byte-swapped). String, resource and variant tensors and partitioned
 * variables have no such layout (UNSUPPORTED).
 */
export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const folder = folderOf(input);
  const per = TF_DTYPE_BYTES[tensor.dtype];
  if (per === undefined) throw new ModelwiseError('UNSUPPORTED', `tensor ${tensor.name} is ${tensor.dtype}: not a fixed-size numeric tensor`);
  if (typeof tensor.offset !== 'number' || typeof tensor.byteLength !== 'number' || tensor.storage) {
    throw new ModelwiseError('UNSUPPORTED', `tensor ${tensor.name} has no contiguous data range (${tensor.storage ?? 'no offset'})`);
  }
  const n = elementCount(tensor.shape);
  if (n === undefined || n * per !== tensor.byteLength) throw new ModelwiseError('MALFORMED', `tensor ${tensor.name}: ${tensor.byteLength} bytes stored for ${tensor.dtype} ${JSON.stringify(tensor.shape)}`);
  // Variables live in a data shard; a frozen graph's Const tensor_content in the graph file itself.
  const where = tensor.file ?? folder.entry?.name ?? '';
  const source = tensor.file ? await folder.open(tensor.file) : folder.entry?.source;
  if (!source) throw new ModelwiseError('NOT_FOUND', `${tensor.file ? `data shard ${tensor.file}` : 'the graph file'} is missing`, { file: where });
  if (tensor.offset + tensor.byteLength > source.size) throw new ModelwiseError('UNEXPECTED_EOF', `tensor ${tensor.name} ends at ${tensor.offset + tensor.byteLength}, past the end of the ${source.size}-byte file`, { file: where, offset: tensor.offset });
  const bytes = await readExact(source, tensor.offset, tensor.byteLength, `data of ${tensor.name}`);
  if (tensor.file && per > 1 && (await bigEndian(input, folder, tensor.file))) return swap(bytes, tensor.dtype.startsWith('c') ? per / 2 : per);
  return bytes;
}

/** Byte order of each bundle, per inspect input (read once, not per tensor). */
const ENDIAN = new WeakMap<InspectInput, Map<string, Promise<boolean>>>();

/** Whether the bundle owning `shardFile` says it is big-endian (its header entry). */
function bigEndian(input: InspectInput, folder: ModelFolder, shardFile: string): Promise<boolean> {
  const prefix = shardFile.replace(/\.data-\d{5}-of-\d{5}$/, '');
  let m = ENDIAN.get(input);
  if (!m) ENDIAN.set(input, (m = new Map()));
  let p = m.get(prefix);
  if (!p) {
    p = (async () => {
      const index = await folder.open(`${prefix}.index`);
      if (!index) return false;
      const b = await readBundle(index, prefix, undefined).catch(() => undefined);
      return b?.header?.littleEndian === false;
    })();
    m.set(prefix, p);
  }
  return p;
}

function swap(b: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i += width) for (let j = 0; j < width; j++) out[i + j] = b[i + width - 1 - j]!;
  return out;
}
