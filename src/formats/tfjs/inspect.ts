/**
 * TF.js inspection (see README.md): model.json (layers model → Keras topology; graph model →
 * GraphDef ops and signature), the weights manifest as tensors (the entry's dtype, quantization
 * parameters), and the shard files checked present with the sizes the manifest implies — the
 * shards themselves are not read. `readTensor` reads one weight's stored bytes across shards.
 */
import { ModelwiseError } from '../../errors.js';
import { isObject, type Probe } from '../../identify/probe.js';
import { decodeUtf8 } from '../../io/bytes.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { safeRelativePath } from '../../io/tree.js';
import { LIMITS } from '../../limits.js';
import type { Diagnostic, ModelFile, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { kerasTopology } from '../keras/topology.js';
import { graphDefOps, graphModel } from './graph.js';
import { parseManifest, weightTensor, type ManifestGroup } from './manifest.js';

import { dequantizeTfjs } from './manifest.js';
export { dequantizeTfjs };

type Obj = Record<string, unknown>;

async function readJson(probe: Probe): Promise<unknown> {
  const j = await probe.json();
  if (j !== undefined) return j;
  const src = probe.source;
  if (src.size > LIMITS.jsonFile) throw new ModelwiseError('LIMIT_EXCEEDED', `model JSON of ${src.size} bytes exceeds the ${LIMITS.jsonFile}-byte limit`, { file: probe.path });
  try {
    return JSON.parse(decodeUtf8(await readExact(src, 0, src.size, 'model JSON')));
  } catch (e) {
    if (e instanceof ModelwiseError) throw e;
    throw new ModelwiseError('MALFORMED', `not valid JSON: ${(e as Error).message}`, { file: probe.path });
  }
}

interface ShardPlan {
  /** Per group: its shard files in order, with their sizes (undefined = absent). */
  groups: { path: string; rel?: string; size?: number }[][];
  files: ModelFile[];
  diagnostics: Diagnostic[];
}

/** Resolve every group's shard paths against the folder listing (sizes only; nothing is read). */
async function planShards(probe: Probe, groups: ManifestGroup[]): Promise<ShardPlan> {
  const listing = new Map((await probe.folderFiles()).map((e) => [e.path, e.size]));
  const plan: ShardPlan = { groups: [], files: [], diagnostics: [] };
  const seen = new Set<string>();
  let missing = 0;
  for (const g of groups) {
    const shards = g.paths.map((p) => {
      const rel = /^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('//') ? undefined : safeRelativePath(p.replace(/^\.\//, ''));
      const size = rel !== undefined ? listing.get(rel) : undefined;
      if (rel !== undefined && size !== undefined && !seen.has(rel)) {
        seen.add(rel);
        plan.files.push({ path: rel, size, role: 'weights' });
      }
      if (size === undefined && missing++ < 20 && probe.tree) {
        plan.diagnostics.push({ code: 'SHARD_MISSING', message: rel === undefined ? `shard path ${p} is a URL or leaves the model folder (not read)` : `shard ${p} is missing` });
      }
      return { path: p, ...(rel !== undefined ? { rel } : {}), ...(size !== undefined ? { size } : {}) };
    });
    plan.groups.push(shards);
    const have = shards.reduce((a, s) => a + (s.size ?? 0), 0);
    if (g.bytes !== null && shards.every((s) => s.size !== undefined) && have !== g.bytes) {
      plan.diagnostics.push({
        code: have < g.bytes ? 'TENSOR_OUT_OF_BOUNDS' : 'SHARD_SIZE_MISMATCH',
        message: `weights group ${g.paths.join(', ')}: the manifest implies ${g.bytes} bytes, the shard files hold ${have}${have < g.bytes ? ' (weights past the end are missing)' : ''}`,
      });
    }
  }
  if (missing > 20) plan.diagnostics.push({ code: 'SHARD_MISSING', message: `${missing - 20} more shards are missing` });
  if (!probe.tree && groups.some((g) => g.paths.length)) plan.diagnostics.push({ code: 'SHARDS_NOT_CHECKED', message: 'no folder to look for the weight shards in: sizes not checked' });
  return plan;
}

/** The shard a group offset falls in, and the offset inside it. */
function locate(shards: { rel?: string; size?: number }[], offset: number): { rel?: string; at: number } | undefined {
  let base = 0;
  for (const s of shards) {
    if (s.size === undefined) return undefined;
    if (offset < base + s.size) return { ...(s.rel !== undefined ? { rel: s.rel } : {}), at: offset - base };
    base += s.size;
  }
  return undefined;
}

function tensorsOf(groups: ManifestGroup[], plan: ShardPlan): TensorInfo[] {
  const out: TensorInfo[] = [];
  groups.forEach((g, gi) => {
    for (const w of g.weights) {
      const loc = w.offset !== null && w.byteLength !== 0 ? locate(plan.groups[gi] ?? [], w.offset) : undefined;
      out.push(weightTensor(w, loc?.rel ?? plan.groups[gi]?.[0]?.rel, loc ? loc.at : null));
    }
  });
  return out;
}

function quantizationSummary(groups: ManifestGroup[]): Inspection['quantization'] {
  const ws = groups.flatMap((g) => g.weights);
  const q = ws.filter((w) => w.quantization);
  if (!q.length) return undefined;
  const kinds = [...new Set(q.map((w) => w.quantization!.dtype))];
  let bits = 0;
  let n = 0;
  for (const w of ws) {
    if (w.elements === null || w.byteLength === null) continue;
    bits += w.byteLength * 8;
    n += w.elements;
  }
  const bpw = n ? Math.round((bits / n) * 100) / 100 : undefined;
  return {
    summary: `${q.length} of ${ws.length} weights stored quantized as ${kinds.join(', ')} (tfjs-converter weight quantization; dequantized to their manifest dtype on load)${bpw !== undefined ? `, ${bpw} bits/weight` : ''}`,
    ...(bpw !== undefined ? { bitsPerWeight: bpw } : {}),
  };
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'TF.js inspection needs model.json');
  const json = await readJson(probe);
  const diagnostics: Diagnostic[] = [];
  const details: Obj = {};
  const bare = Array.isArray(json);
  if (!bare && !isObject(json)) throw new ModelwiseError('MALFORMED', 'model.json is not a JSON object', { file: probe.path });
  const j: Obj = bare ? {} : (json as Obj);
  const manifestRaw = bare ? json : j.weightsManifest;
  const groups = manifestRaw === undefined ? [] : parseManifest(manifestRaw, probe.path);
  if (manifestRaw === undefined) diagnostics.push({ code: 'TFJS_NO_MANIFEST', message: 'model.json has no weightsManifest: topology only' });
  const plan = await planShards(probe, groups);
  diagnostics.push(...plan.diagnostics);
  const tensors = tensorsOf(groups, plan);
  details.weightGroups = groups.map((g) => ({ paths: g.paths, weights: g.weights.length, bytes: g.bytes }));
  const out: Inspection = { producer: null, architecture: null, tensors, details, diagnostics };
  const q = quantizationSummary(groups);
  if (q) out.quantization = q;
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: bare ? 'manifest' : 'model' }, ...plan.files];

  if (bare) {
    const pb = (await probe.siblings()).find((e) => e.path === 'tensorflowjs_model.pb');
    if (pb) {
      files.push({ path: pb.path, size: pb.size, role: 'graph' });
      const src = pb.size <= LIMITS.jsonFile ? await probe.sibling(pb.path) : undefined;
      const g = src ? graphDefOps(await readExact(src, 0, src.size, 'tensorflowjs_model.pb')) : undefined;
      if (g) {
        out.graph = { inputs: [], outputs: [], ops: g.ops };
        details.graphNodes = g.nodes;
      } else diagnostics.push({ code: 'TFJS_GRAPH_UNREADABLE', message: 'tensorflowjs_model.pb does not parse as a GraphDef' });
    }
    out.files = files;
    return out;
  }

  const prod = [typeof j.generatedBy === 'string' ? `generatedBy: ${j.generatedBy}` : '', typeof j.convertedBy === 'string' ? `convertedBy: ${j.convertedBy}` : ''].filter(Boolean);
  out.producer = prod.length ? prod.join('; ') : null;
  out.metadata = Object.fromEntries(Object.entries(j).filter(([k]) => k !== 'modelTopology' && k !== 'weightsManifest'));
  const topo = isObject(j.modelTopology) ? j.modelTopology : undefined;
  if (typeof j.format === 'string') details.format = j.format;
  if (topo && (j.format === 'graph-model' || Array.isArray(topo.node))) {
    const g = graphModel(j, topo);
    out.graph = g.graph;
    details.ioSource = g.ioSource;
    details.nodes = g.nodes;
    if (g.libraryFunctions) details.library = { functions: g.libraryFunctions, ops: g.libraryOps };
    if (g.versions !== undefined) details.graphVersions = g.versions;
  } else if (topo) {
    const mc = topo.model_config ?? topo;
    const t = kerasTopology(mc);
    if (t.graph) out.graph = t.graph;
    out.architecture = t.modelClass ? (t.name && t.name !== t.modelClass ? `${t.modelClass} (${t.name})` : t.modelClass) : null;
    if (t.layers !== undefined) details.layers = t.layers;
    if (t.notes.length) details.topologyNotes = t.notes;
    if (t.lambdaLayers.length) details.lambdaLayers = t.lambdaLayers.slice(0, 100);
    if (typeof topo.keras_version === 'string') details.kerasVersion = topo.keras_version;
    if (typeof topo.backend === 'string') details.backend = topo.backend;
    if (isObject(topo.training_config)) details.trainingConfig = true;
  }
  out.files = files;
  return out;
}

/** The shards of the group holding `tensor`, re-planned from the manifest (cached per input). */
const plans = new WeakMap<InspectInput, Promise<{ groups: ManifestGroup[]; plan: ShardPlan }>>();

function planFor(input: InspectInput, probe: Probe): Promise<{ groups: ManifestGroup[]; plan: ShardPlan }> {
  let p = plans.get(input);
  if (!p) {
    p = (async () => {
      const json = await readJson(probe);
      const raw = Array.isArray(json) ? json : isObject(json) ? json.weightsManifest : undefined;
      const groups = raw === undefined ? [] : parseManifest(raw, probe.path);
      return { groups, plan: await planShards(probe, groups) };
    })();
    plans.set(input, p);
  }
  return p;
}

/** Read `length` bytes at `offset` of a group's concatenated shards. */
async function readSpan(probe: Probe, shards: { path: string; rel?: string; size?: number }[], offset: number, length: number, what: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let base = 0;
  let done = 0;
  for (const s of shards) {
    if (done === length) break;
    if (s.size === undefined || s.rel === undefined) throw new ModelwiseError('NOT_FOUND', `shard ${s.path} is missing`, { file: probe.path });
    const end = base + s.size;
    const from = offset + done;
    if (from < end) {
      const n = Math.min(length - done, end - from);
      const src: ByteSource | undefined = await probe.sibling(s.rel);
      if (!src) throw new ModelwiseError('NOT_FOUND', `shard ${s.path} is missing`, { file: probe.path });
      out.set(await readExact(src, from - base, n, what), done);
      done += n;
    }
    base = end;
  }
  if (done < length) throw new ModelwiseError('UNEXPECTED_EOF', `${what} runs past the end of its shards (${done} of ${length} bytes)`, { file: probe.path });
  return out;
}

/**
 * A weight's bytes in its manifest dtype; quantized weights (uint8/uint16/float16 storage) come
 * back dequantized. String weights have no fixed-size form (UNSUPPORTED).
 */
export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'TF.js weights need model.json');
  const { groups, plan } = await planFor(input, probe);
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi]!;
    const w = g.weights.find((x) => x.name === tensor.name);
    if (!w) continue;
    if (w.dtype === 'string') throw new ModelwiseError('UNSUPPORTED', `string weight ${w.name} has no fixed-size byte form`, { file: probe.path });
    if (w.byteLength === null) throw new ModelwiseError('UNSUPPORTED', `weight ${w.name} has an unknown size (dtype ${w.stored})`, { file: probe.path });
    let offset = w.offset;
    if (offset === null) {
      // After a string weight: walk the strings' u32 length prefixes to find where this weight starts.
      offset = 0;
      for (const x of g.weights) {
        if (x === w) break;
        if (x.dtype === 'string') {
          for (let i = 0; i < (x.elements ?? 0); i++) {
            const len = new DataView((await readSpan(probe, plan.groups[gi]!, offset, 4, `string weight ${x.name}`)).buffer).getUint32(0, true);
            offset += 4 + len;
          }
        } else offset += x.byteLength ?? 0;
      }
    }
    const bytes = await readSpan(probe, plan.groups[gi]!, offset, w.byteLength, `weight ${w.name}`);
    // The readTensor contract is bytes in tensor.dtype: quantized weights (uint8/uint16/float16
    // storage of a float32 weight) are dequantized to float32 here.
    if (typeof tensor.quantization?.storedDtype === 'string' && tensor.dtype === 'f32') {
      const f = dequantizeTfjs(tensor, bytes);
      return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    }
    return bytes;
  }
  throw new ModelwiseError('NOT_FOUND', `no weight ${tensor.name} in the manifest`, { file: probe.path });
}
