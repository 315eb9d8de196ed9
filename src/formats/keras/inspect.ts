/**
 * Keras inspection (see README.md): the `.keras` v3 zip (config.json, metadata.json and every
 * dataset of model.weights.h5, optimizer and metrics state included), the legacy `.h5` (root
 * attributes model_config / keras_version / backend / training_config, datasets under
 * /model_weights) and an architecture JSON with its save_weights HDF5 (every dataset). Dataset
 * headers only are read; `readTensor` reads one dataset back.
 */
import { ModelwiseError } from '../../errors.js';
import { isObject, type Probe } from '../../identify/probe.js';
import { decodeUtf8 } from '../../io/bytes.js';
import { dirname } from '../../io/tree.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { LIMITS } from '../../limits.js';
import { memberDataOffset, openMember, type ZipArchive } from '../../codecs/zip.js';
import { Hdf5File, type AttributeValue } from '../../codecs/hdf5.js';
import { objectAttributes, resolvePath } from '../../codecs/hdf5-group.js';
import type { Diagnostic, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { kerasTopology, type KerasTopology } from './topology.js';
import { listH5Weights, readWeight, type H5Weights } from './weights.js';

type Obj = Record<string, unknown>;

function parseJson(bytes: Uint8Array, what: string, file: string): unknown {
  try {
    return JSON.parse(decodeUtf8(bytes));
  } catch (e) {
    throw new ModelwiseError('MALFORMED', `${what} is not valid JSON: ${(e as Error).message}`, { file });
  }
}

async function readJsonSource(src: ByteSource, what: string): Promise<unknown> {
  if (src.size > LIMITS.jsonFile) throw new ModelwiseError('LIMIT_EXCEEDED', `${what} of ${src.size} bytes exceeds the ${LIMITS.jsonFile}-byte JSON limit`, { file: src.name });
  return parseJson(await readExact(src, 0, src.size, what), what, src.name);
}

/** Root attributes with values (strings up to the JSON limit: model_config can be megabytes). */
async function rootAttributes(h5: Hdf5File): Promise<Record<string, AttributeValue>> {
  const oh = await h5.objectHeader(h5.superblock.rootObjectHeader);
  const out: Record<string, AttributeValue> = {};
  for (const a of await objectAttributes(h5, oh)) {
    try {
      out[a.name] = await h5.attributeValue(a, LIMITS.jsonFile);
    } catch {
      out[a.name] = null;
    }
  }
  return out;
}

/** Attribute values as report metadata: long JSON strings summarised, long lists cut. */
function attributeMetadata(attrs: Record<string, AttributeValue>): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'string' && v.length > 1024) out[k] = `<${v.length} characters${/^\s*[{[]/.test(v) ? ' of JSON' : ''}>`;
    else if (Array.isArray(v) && v.length > 64) out[k] = [...v.slice(0, 64), `… ${v.length - 64} more`];
    else out[k] = v;
  }
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function jsonAttr(v: AttributeValue | undefined, what: string, diagnostics: Diagnostic[]): unknown {
  if (typeof v !== 'string') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    diagnostics.push({ code: 'KERAS_BAD_JSON', message: `root attribute ${what} is not valid JSON` });
    return undefined;
  }
}

/** Optimizer and loss of a training / compile config, in words. */
function trainingSummary(tc: unknown): Obj | undefined {
  if (!isObject(tc)) return undefined;
  const opt = isObject(tc.optimizer_config) ? tc.optimizer_config : isObject(tc.optimizer) ? tc.optimizer : undefined;
  const out: Obj = {};
  const optName = opt ? str(opt.class_name) : str(tc.optimizer);
  if (optName) out.optimizer = optName;
  const lr = opt && isObject(opt.config) ? opt.config.learning_rate : undefined;
  if (typeof lr === 'number') out.learningRate = lr;
  if (tc.loss !== undefined) out.loss = typeof tc.loss === 'string' ? tc.loss : isObject(tc.loss) && typeof tc.loss.class_name === 'string' ? tc.loss.class_name : tc.loss;
  if (Array.isArray(tc.metrics)) out.metrics = tc.metrics.map((m) => (isObject(m) && typeof m.class_name === 'string' ? m.class_name : m));
  return Object.keys(out).length ? out : undefined;
}

function topologyParts(t: KerasTopology, details: Obj, diagnostics: Diagnostic[]): Pick<Inspection, 'graph' | 'architecture'> {
  if (t.modelClass) details.modelClass = t.modelClass;
  if (t.name) details.modelName = t.name;
  if (t.layers !== undefined) details.layers = t.layers;
  if (t.allLayers !== undefined && t.allLayers !== t.layers) details.layersIncludingNested = t.allLayers;
  if (t.lambdaLayers.length) {
    details.lambdaLayers = t.lambdaLayers.slice(0, 100);
    diagnostics.push({ code: 'KERAS_LAMBDA_LAYER', message: `${t.lambdaLayers.length} Lambda layer(s) (${t.lambdaLayers.slice(0, 5).join(', ')}): they hold Python code that Keras runs when loading` });
  }
  if (t.notes.length) details.topologyNotes = t.notes;
  return { ...(t.graph ? { graph: t.graph } : {}), architecture: t.modelClass ? (t.name && t.name !== t.modelClass ? `${t.modelClass} (${t.name})` : t.modelClass) : null };
}

function weightDetails(w: H5Weights, details: Obj): void {
  if (Object.keys(w.groups).length) details.weightGroups = w.groups;
  if (Object.keys(w.storage).length) details.storage = w.storage;
}

// ---------------------------------------------------------------- .keras (v3 zip)

interface V3Weights {
  h5: Hdf5File;
  member: string;
  offsetBase: number | undefined;
}

function weightsEntry(zip: ZipArchive) {
  return zip.entries.find((e) => e.name === 'model.weights.h5') ?? zip.entries.find((e) => e.name.endsWith('.weights.h5') && !e.isDirectory);
}

async function openV3Weights(zip: ZipArchive): Promise<V3Weights | undefined> {
  const entry = weightsEntry(zip);
  if (!entry) return undefined;
  const src = await openMember(zip, entry);
  const offsetBase = entry.method === 0 ? await memberDataOffset(zip, entry) : undefined;
  return { h5: await Hdf5File.open(src), member: entry.name, offsetBase };
}

async function inspectV3(probe: Probe): Promise<Inspection> {
  const zip = await probe.zip();
  if (!zip) throw new ModelwiseError('MALFORMED', 'not a readable zip archive', { file: probe.path });
  const diagnostics: Diagnostic[] = [];
  const details: Obj = { members: zip.entries.filter((e) => !e.isDirectory).map((e) => e.name).slice(0, 100) };
  const memberJson = async (name: string): Promise<unknown> => {
    const e = zip.entries.find((x) => x.name === name);
    if (!e) return undefined;
    try {
      return await readJsonSource(await openMember(zip, e, LIMITS.jsonFile), name);
    } catch (err) {
      diagnostics.push({ code: 'KERAS_MEMBER_UNREADABLE', message: `${name}: ${(err as Error).message}` });
      return undefined;
    }
  };
  const meta = await memberJson('metadata.json');
  const config = await memberJson('config.json');
  const metadata = isObject(meta) ? meta : {};
  const kv = str(metadata.keras_version);
  if (str(metadata.date_saved)) details.dateSaved = metadata.date_saved;
  const topo = kerasTopology(config);
  const parts = topologyParts(topo, details, diagnostics);
  if (isObject(config)) {
    const compile = trainingSummary(config.compile_config);
    if (compile) details.compile = compile;
    if (isObject(config.build_config)) details.buildConfig = config.build_config;
    if (str(config.module)) details.module = config.module;
  }
  const assets = zip.entries.filter((e) => e.name.startsWith('assets/') && !e.isDirectory).length;
  if (assets) details.assets = assets;
  let tensors: TensorInfo[] = [];
  try {
    const w = await openV3Weights(zip);
    if (w) {
      const listed = await listH5Weights(w.h5, '', w.offsetBase !== undefined ? { offsetBase: w.offsetBase } : {});
      tensors = listed.tensors;
      diagnostics.push(...listed.diagnostics);
      weightDetails(listed, details);
      details.weightsMember = w.member;
      details.hdf5Superblock = w.h5.superblock.version;
      if (w.offsetBase === undefined) details.weightsCompressed = true;
    } else if (zip.entries.some((e) => e.name.endsWith('.weights.npz'))) {
      diagnostics.push({ code: 'KERAS_NPZ_WEIGHTS', message: 'weights are in model.weights.npz (a NumPy archive); its arrays are not listed' });
    } else {
      diagnostics.push({ code: 'KERAS_NO_WEIGHTS', message: 'the archive holds no model.weights.h5' });
    }
  } catch (e) {
    if (!(e instanceof ModelwiseError)) throw e;
    diagnostics.push({ code: 'KERAS_WEIGHTS_UNREADABLE', message: `model.weights.h5: ${e.message}` });
  }
  return {
    ...(kv ? { format: { version: kv } } : {}),
    producer: kv ? `Keras ${kv}` : null,
    ...parts,
    tensors,
    details,
    metadata,
    diagnostics,
  };
}

// ---------------------------------------------------------------- legacy .h5

async function inspectH5(probe: Probe): Promise<Inspection> {
  const h5 = await Hdf5File.open(probe.source);
  const diagnostics: Diagnostic[] = [];
  const attrs = await rootAttributes(h5);
  const kv = str(attrs.keras_version);
  const backend = str(attrs.backend);
  const details: Obj = { hdf5Superblock: h5.superblock.version };
  const mc = jsonAttr(attrs.model_config, 'model_config', diagnostics);
  const tc = jsonAttr(attrs.training_config, 'training_config', diagnostics);
  const parts = mc !== undefined ? topologyParts(kerasTopology(mc), details, diagnostics) : { architecture: null };
  const training = trainingSummary(tc);
  if (training) details.training = training;
  const root = h5.superblock.rootObjectHeader;
  const hasModelWeights = (await resolvePath(h5, root, 'model_weights')) !== undefined;
  if (await resolvePath(h5, root, 'optimizer_weights')) details.optimizerWeights = 'present (not counted: not model weights)';
  details.weightsOnly = attrs.model_config === undefined;
  const listed = await listH5Weights(h5, hasModelWeights ? 'model_weights' : '');
  diagnostics.push(...listed.diagnostics);
  weightDetails(listed, details);
  if (hasModelWeights) details.weightsGroup = '/model_weights';
  return {
    ...(kv ? { format: { version: kv } } : {}),
    producer: kv || backend ? `Keras${kv ? ` ${kv}` : ''}${backend ? ` (backend ${backend})` : ''}` : null,
    ...parts,
    tensors: listed.tensors,
    details,
    metadata: attributeMetadata(attrs),
    diagnostics,
  };
}

// ---------------------------------------------------------------- architecture JSON + weights HDF5

async function inspectJson(input: InspectInput, probe: Probe): Promise<Inspection> {
  const diagnostics: Diagnostic[] = [];
  const cfg = (await probe.json()) ?? (await readJsonSource(probe.source, 'model JSON'));
  const details: Obj = {};
  const parts = topologyParts(kerasTopology(cfg), details, diagnostics);
  const c = isObject(cfg) ? cfg : {};
  const weightsPath = relToProbe(probe, input.id.files?.find((f) => f.role === 'weights')?.path);
  let tensors: TensorInfo[] = [];
  let attrs: Record<string, AttributeValue> = {};
  if (weightsPath) {
    const src = await probe.sibling(weightsPath);
    if (!src) diagnostics.push({ code: 'SHARD_MISSING', message: `weights file ${weightsPath} is missing` });
    else {
      try {
        const h5 = await Hdf5File.open(src);
        attrs = await rootAttributes(h5);
        const listed = await listH5Weights(h5, '', { file: weightsPath });
        tensors = listed.tensors;
        diagnostics.push(...listed.diagnostics);
        weightDetails(listed, details);
        details.weightsFile = weightsPath;
      } catch (e) {
        if (!(e instanceof ModelwiseError)) throw e;
        diagnostics.push({ code: 'KERAS_WEIGHTS_UNREADABLE', message: `${weightsPath}: ${e.message}` });
      }
    }
  } else {
    diagnostics.push({ code: 'KERAS_NO_WEIGHTS', message: 'architecture only: no save_weights HDF5 next to it' });
  }
  const kv = str(c.keras_version) ?? str(attrs.keras_version);
  const backend = str(c.backend) ?? str(attrs.backend);
  if (str(c.keras_version) && str(attrs.keras_version) && c.keras_version !== attrs.keras_version) {
    details.weightsKerasVersion = attrs.keras_version;
  }
  return {
    ...(kv ? { format: { version: kv } } : {}),
    producer: kv || backend ? `Keras${kv ? ` ${kv}` : ''}${backend ? ` (backend ${backend})` : ''}` : null,
    ...parts,
    tensors,
    details,
    metadata: attributeMetadata(attrs),
    diagnostics,
  };
}

/** A file of the identification relative to the entry file's folder (folder identifications list full paths). */
function relToProbe(probe: Probe, p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  const dir = dirname(probe.path);
  return dir && p.startsWith(dir + '/') ? p.slice(dir.length + 1) : p;
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'Keras inspection needs the model file');
  const variant = input.id.format?.variant;
  if (variant === 'keras-v3') return inspectV3(probe);
  if (variant === 'keras-h5') return inspectH5(probe);
  return inspectJson(input, probe);
}

// ---------------------------------------------------------------- readTensor

/** Opened weights per inspect input, so converting N tensors opens the file once. */
const opened = new WeakMap<InspectInput, Map<string, Promise<{ h5: Hdf5File; group: string }>>>();

async function weightsFor(input: InspectInput, probe: Probe, tensor: TensorInfo): Promise<{ h5: Hdf5File; group: string }> {
  const variant = input.id.format?.variant;
  const key = tensor.file ?? '';
  let m = opened.get(input);
  if (!m) opened.set(input, (m = new Map()));
  let p = m.get(key);
  if (!p) {
    p = (async () => {
      if (variant === 'keras-v3') {
        const zip = await probe.zip();
        const w = zip ? await openV3Weights(zip) : undefined;
        if (!w) throw new ModelwiseError('NOT_FOUND', 'the archive holds no model.weights.h5', { file: probe.path });
        return { h5: w.h5, group: '' };
      }
      if (tensor.file) {
        const src = await probe.sibling(tensor.file);
        if (!src) throw new ModelwiseError('NOT_FOUND', `weights file ${tensor.file} is missing`, { file: probe.path });
        return { h5: await Hdf5File.open(src), group: '' };
      }
      const h5 = await Hdf5File.open(probe.source);
      const mw = await resolvePath(h5, h5.superblock.rootObjectHeader, 'model_weights');
      return { h5, group: mw ? 'model_weights' : '' };
    })();
    m.set(key, p);
  }
  return p;
}

/** One dataset's elements, little-endian, in the tensor's dtype. */
export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'Keras tensors need the model file');
  const { h5, group } = await weightsFor(input, probe, tensor);
  return readWeight(h5, group, tensor);
}
