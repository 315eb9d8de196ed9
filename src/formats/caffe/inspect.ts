/**
 * Caffe inspection. Tensors as the reference reader names them: the blobs of every layer of a binary
 * `.caffemodel`, `<layer>/<i>` (dtype f64 when double_data is used, else f32; shape from BlobShape,
 * else the legacy num/channels/height/width), or every dataset of a `.caffemodel.h5` (Net::ToHDF5:
 * `data/<layer>/<i>`, named without the `data/` prefix). The graph comes from the `.prototxt` next
 * to the weights (else from the layers stored in the caffemodel). Blob payloads are never read.
 */
import { ModelwiseError } from '../../errors.js';
import { Hdf5File, HDF5_SIGNATURE } from '../../codecs/hdf5.js';
import { datasetInfo } from '../../codecs/hdf5-dataset.js';
import { isDataset, resolvePath, walkObjects } from '../../codecs/hdf5-group.js';
import { readDataset, toLittleEndian } from '../../codecs/hdf5-read.js';
import { SourceFieldReader, WIRE } from '../../codecs/protobuf.js';
import { DTYPE_BYTES } from '../../dtypes.js';
import { decodeUtf8, startsWith } from '../../io/bytes.js';
import { readExact } from '../../io/source.js';
import { dirname } from '../../io/tree.js';
import type { Probe } from '../../identify/probe.js';
import type { Diagnostic, ModelFile, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { findPrototxts } from './index.js';
import { buildGraph, graphFromText, type CaffeGraph } from './graph.js';
import { readCaffeNet, type CaffeBlob, type CaffeNet } from './net.js';
import { parseTextProto } from './prototxt.js';

/** Largest prototxt read whole. */
const PROTOTXT_BYTES = 64 * 1024 * 1024;

interface Loaded {
  /** The weights file (the entry probe, or the weights a prototxt was paired with). */
  probe: Probe;
  tensors: TensorInfo[];
  diagnostics: Diagnostic[];
  graph?: CaffeGraph;
  network?: ModelFile;
  net?: CaffeNet;
  blobs: Map<string, CaffeBlob>;
  h5?: { file: Hdf5File; paths: Map<string, string> };
  storage: string;
}

const cache = new WeakMap<InspectInput, Promise<Loaded>>();

function loaded(input: InspectInput): Promise<Loaded> {
  let p = cache.get(input);
  if (!p) {
    p = load(input);
    cache.set(input, p);
  }
  return p;
}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

async function readPrototxt(probe: Probe, rel: string | undefined, out: Loaded): Promise<CaffeGraph | undefined> {
  const source = rel === undefined ? probe.source : await probe.sibling(rel);
  const path = rel ?? probe.name;
  if (!source) return undefined;
  if (source.size > PROTOTXT_BYTES) {
    out.diagnostics.push({ code: 'LIMIT_EXCEEDED', message: `${path}: network definition of ${source.size} bytes is over the ${PROTOTXT_BYTES}-byte limit; not read` });
    return undefined;
  }
  try {
    return graphFromText(parseTextProto(decodeUtf8(await readExact(source, 0, source.size, path)), path));
  } catch (e) {
    out.diagnostics.push({ code: 'CAFFE_BAD_PROTOTXT', message: e instanceof Error ? e.message : String(e) });
    return undefined;
  }
}

function blobInfo(name: string, b: CaffeBlob, out: Loaded): TensorInfo {
  const size = b.dtype === 'f64' ? 8 : 4;
  const n = elements(b.shape);
  if (b.count !== n) out.diagnostics.push({ code: 'TENSOR_SIZE_MISMATCH', message: `blob ${name}: ${b.count} stored values, shape ${JSON.stringify(b.shape)} holds ${n}` });
  return { name, dtype: b.dtype, shape: [...b.shape], byteLength: b.count * size, offset: b.at ?? null };
}

async function loadBinary(probe: Probe, out: Loaded): Promise<void> {
  const net = await readCaffeNet(probe.source);
  out.net = net;
  out.diagnostics.push(...net.diagnostics);
  for (const L of net.layers) {
    L.blobs.forEach((b, i) => {
      const name = `${L.name}/${i}`;
      if (out.blobs.has(name)) out.diagnostics.push({ code: 'CAFFE_DUPLICATE_BLOB', message: `two layers named ${JSON.stringify(L.name)} hold blobs; readTensor reads the first` });
      else out.blobs.set(name, b);
      out.tensors.push(blobInfo(name, b, out));
    });
  }
}

async function loadHdf5(probe: Probe, out: Loaded): Promise<void> {
  const file = await Hdf5File.open(probe.source);
  const paths = new Map<string, string>();
  out.h5 = { file, paths };
  const stats = await walkObjects(file, file.superblock.rootObjectHeader, (o) => {
    if (!isDataset(o.header)) return;
    const info = datasetInfo(file, o.header);
    const name = o.path.startsWith('data/') ? o.path.slice(5) : o.path;
    paths.set(name, o.path);
    const size = DTYPE_BYTES[info.dtype];
    const layout = info.layout;
    out.tensors.push({
      name,
      dtype: info.dtype,
      shape: info.shape,
      byteLength: size === undefined ? null : elements(info.shape) * size,
      offset: layout?.kind === 'contiguous' && layout.address >= 0 ? file.superblock.base + layout.address : null,
    });
  });
  if (stats.softLinks || stats.externalLinks) out.diagnostics.push({ code: 'HDF5_LINKS_NOT_FOLLOWED', message: `${stats.softLinks} soft and ${stats.externalLinks} external link(s) not followed` });
}

async function load(input: InspectInput): Promise<Loaded> {
  const given = input.probe;
  if (!given) throw new ModelwiseError('USAGE', 'Caffe inspection needs the weights or network file');
  const out: Loaded = { probe: given, tensors: [], diagnostics: [], blobs: new Map(), storage: 'caffemodel' };
  const variant = input.id.format?.variant;
  if (variant === 'prototxt') {
    out.storage = 'prototxt';
    out.graph = await readPrototxt(given, undefined, out);
    if (!out.graph) throw new ModelwiseError('MALFORMED', `${given.path}: ${out.diagnostics[0]?.message ?? 'unreadable network definition'}`);
    return out;
  }
  // A prototxt pointed at directly defers to its weights (identify lists them first).
  let network: ModelFile | undefined;
  if ((await given.text()) !== undefined) {
    const entry = input.id.files?.find((f) => f.role === 'entry');
    // identify reports files with the model's folder prefixed; the sibling is opened relative to it
    const dir = dirname(given.path);
    const rel = entry && (dir && entry.path.startsWith(dir + '/') ? entry.path.slice(dir.length + 1) : entry.path);
    const weights = rel && entry.path !== given.path && rel !== given.name ? await given.siblingProbe(rel) : undefined;
    if (!weights) throw new ModelwiseError('NOT_FOUND', `${given.path}: the weights this network definition belongs to are not readable`);
    out.probe = weights;
    network = { path: given.name, size: given.size, role: 'network' };
  }
  const probe = out.probe;
  if (startsWith(await probe.head(), HDF5_SIGNATURE)) {
    out.storage = 'hdf5';
    await loadHdf5(probe, out);
  } else await loadBinary(probe, out);
  network ??= (await findPrototxts(probe)).find((n) => n.role === 'network');
  if (network) {
    out.network = network;
    out.graph = await readPrototxt(probe, network.path, out);
  }
  if (!out.graph && out.net && out.net.layers.length > 0) {
    // No network definition: the layers stored with the weights still say what the net is.
    const v1 = out.net.layers.every((l) => l.v1);
    out.graph = buildGraph(out.net.layers, out.net, v1);
  }
  return out;
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const L = await loaded(input);
  const probe = L.probe;
  const g = L.graph;
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'entry' }];
  if (L.network) files.push(L.network);
  return {
    producer: null,
    architecture: g?.name ?? L.net?.name ?? null,
    tensors: L.tensors,
    ...(g ? { graph: { inputs: g.inputs, outputs: g.outputs, ops: g.ops } } : {}),
    details: {
      storage: L.storage,
      ...(L.net?.name ? { netName: L.net.name } : {}),
      ...(L.net ? { storedLayers: L.net.layers.length, layersWithBlobs: L.net.layers.filter((l) => l.blobs.length > 0).length } : {}),
      ...(g ? { graphSource: L.network ? L.network.path : L.storage === 'prototxt' ? probe.name : 'caffemodel layers', layerCount: g.layerCount, ...(g.v1 ? { v1Layers: true } : {}) } : {}),
      ...(g && g.inputLayers.length ? { inputLayers: g.inputLayers } : {}),
      ...(L.net?.partial ? { partial: true } : {}),
    },
    metadata: {},
    files: files.length > 1 ? files : undefined,
    diagnostics: L.diagnostics,
  };
}

/** One blob / dataset as contiguous little-endian values of its dtype. */
export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  if (!input.probe) throw new ModelwiseError('USAGE', 'Caffe tensors need the weights file');
  const L = await loaded(input);
  const probe = L.probe;
  if (L.h5) {
    const path = L.h5.paths.get(tensor.name);
    const found = path ? await resolvePath(L.h5.file, L.h5.file.superblock.rootObjectHeader, path) : undefined;
    if (!path || !found || !isDataset(found.header)) throw new ModelwiseError('NOT_FOUND', `no dataset for ${tensor.name}`, { file: probe.path });
    const info = datasetInfo(L.h5.file, found.header);
    if (DTYPE_BYTES[info.dtype] === undefined) throw new ModelwiseError('UNSUPPORTED', `dataset /${path} has HDF5 type ${info.dtype}`, { file: probe.path });
    return toLittleEndian(await readDataset(L.h5.file, info, `dataset /${path}`), info.datatype);
  }
  const b = L.blobs.get(tensor.name);
  if (!b) throw new ModelwiseError('NOT_FOUND', `no blob named ${tensor.name}`, { file: probe.path });
  const size = b.dtype === 'f64' ? 8 : 4;
  const n = elements(b.shape);
  if (b.count !== n) throw new ModelwiseError('MALFORMED', `blob ${tensor.name}: ${b.count} stored values for shape ${JSON.stringify(b.shape)}`, { file: probe.path, offset: b.msgAt });
  if (n === 0) return new Uint8Array(0);
  if (b.packed && b.at !== undefined) return readExact(probe.source, b.at, n * size, `data of blob ${tensor.name}`);
  // Unpacked values (one field each): gather them in order.
  const out = new Uint8Array(n * size);
  const r = new SourceFieldReader(probe.source, { minWindow: 64 * 1024, maxWindow: 4 * 1024 * 1024 });
  const field = b.dtype === 'f64' ? 8 : 5; // double_data : data
  let k = 0;
  for (let p = b.msgAt; p < b.msgEnd; ) {
    const f = await r.field(p, b.msgEnd);
    if (!f) throw new ModelwiseError('MALFORMED', `blob ${tensor.name}: unreadable field`, { file: probe.path, offset: p });
    p = f.end;
    if (f.field !== field) continue;
    const bytes = f.wire === WIRE.len ? await readExact(probe.source, f.at, f.length, `data of blob ${tensor.name}`) : await readExact(probe.source, f.at, size, `data of blob ${tensor.name}`);
    if (k + bytes.length > out.length) throw new ModelwiseError('MALFORMED', `blob ${tensor.name}: more values than its shape holds`, { file: probe.path, offset: f.at });
    out.set(bytes, k);
    k += bytes.length;
  }
  return out;
}
