/**
 * Caffe (https://caffe.berkeleyvision.org/; schema src/caffe/proto/caffe.proto). Variants:
 * - `caffemodel`: a binary NetParameter with the trained blobs;
 * - `caffemodel+prototxt`: the same with its network definition (`*.prototxt`) next to it;
 * - `caffemodel-hdf5`: weights saved by Net::ToHDF5 (`*.caffemodel.h5`: groups data/<layer>/<i>);
 * - `prototxt`: a network definition alone (text NetParameter, no weights).
 * Binary files are recognised by their protobuf fields (no magic), text by `layer {` / `type:` blocks.
 */
import { SourceFieldReader } from '../../codecs/protobuf.js';
import { startsWith } from '../../io/bytes.js';
import { BytesSource } from '../../io/source.js';
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import type { Detection, ModelFile } from '../../types.js';
import type { TreeEntry } from '../../io/tree.js';
import { parseNetHead, walkLayers } from './proto.js';
import { HDF5_SIGNATURE, groupMembers, rootGroup } from './hdf5.js';

const NAME = 'Caffe';
/** Bytes the layer walk may read (one small read per layer; blobs are skipped). */
const LAYER_WALK_BUDGET = 1024 * 1024;

export const caffe: FormatModule = {
  id: 'caffe',
  name: NAME,
  extensions: ['.caffemodel', '.prototxt', '.h5'],
  load: () => import('./inspect.js'),
  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length < 4) return undefined;
    if (startsWith(head, HDF5_SIGNATURE)) return detectHdf5(probe);
    const text = await probe.text();
    if (text !== undefined) return detectPrototxt(text, probe);
    const parsed = parseNetHead(head, probe.size);
    if (!parsed) return undefined;
    return detectBinary(probe, head, parsed);
  },
};

function typesSummary(types: Map<string, number>, max = 8): string {
  const list = [...types].sort((a, b) => b[1] - a[1]);
  return list.slice(0, max).map(([t, n]) => (n > 1 ? `${t}×${n}` : t)).join(', ') + (list.length > max ? ', …' : '');
}

async function detectBinary(probe: Probe, head: Uint8Array, parsed: NonNullable<ReturnType<typeof parseNetHead>>): Promise<Detection> {
  const { net, layers } = parsed;
  const source = probe.size <= head.length ? new BytesSource(head, probe.source.name) : probe.source;
  let walk: Awaited<ReturnType<typeof walkLayers>> | undefined;
  try {
    // One read per layer with blobs; over HTTP each may be a round trip, so big files stop early.
    walk = await walkLayers(new SourceFieldReader(source, { budget: LAYER_WALK_BUDGET, maxReads: probe.size > 16 * 1024 * 1024 ? 128 : 1024 }), net.v1);
  } catch {
    walk = undefined;
  }
  const evidence = [`protobuf NetParameter${net.name ? `: name "${net.name.slice(0, 80)}"` : ''}${net.v1 ? ' with V1 `layers` (pre-2015 Caffe)' : ''}`];
  if (walk && walk.count > 0) evidence.push(`${walk.partial ? 'at least ' : ''}${walk.count} layer${walk.count === 1 ? '' : 's'}: ${typesSummary(walk.types)}`);
  else evidence.push(`first layers: ${layers.slice(0, 6).map((l) => `${l.name ?? '?'} (${l.type ?? '?'})`).join(', ')}`);
  if (net.inputs.length) evidence.push(`inputs: ${net.inputs.slice(0, 6).join(', ')}`);
  const nets = await findPrototxts(probe);
  const files: ModelFile[] | undefined = nets.length ? [{ path: probe.name, size: probe.size, role: 'entry' }, ...nets] : undefined;
  if (nets.length) evidence.push(`network definition ${nets[0]!.path} next to it`);
  const prototxt = nets.length > 0;
  const confidence = layers.length >= 2 || (walk?.count ?? 0) >= 2 || probe.ext === '.caffemodel' ? 'high' : 'medium';
  return detection('caffe', NAME, prototxt ? 'caffemodel+prototxt' : 'caffemodel', null, confidence, evidence, {
    files,
    details: { ...(net.name ? { name: net.name } : {}), ...(walk ? { layerCount: walk.count } : {}) },
  });
}

const WEIGHTS = /\.caffemodel(\.h5)?$/i;
const NET_TEXT = /\.prototxt$/i;

/**
 * The network definition(s) of a weights file: the one with the same stem, else deploy.prototxt,
 * else the only one. When the weights are the only ones in the folder, the other net prototxts
 * (train_val …) belong to them too.
 */
export async function findPrototxts(probe: Probe): Promise<ModelFile[]> {
  const siblings = await probe.siblings();
  const protos = siblings.filter((s) => NET_TEXT.test(s.path) && !/solver/i.test(s.path));
  if (protos.length === 0) return [];
  const onlyWeights = siblings.filter((s) => WEIGHTS.test(s.path)).length === 1;
  const stem = probe.name.replace(WEIGHTS, '').replace(/\.h5$/i, '');
  const chosen =
    protos.find((p) => p.path.replace(NET_TEXT, '') === stem) ??
    protos.find((p) => p.path.replace(/(_deploy|\.deploy|-deploy)?\.prototxt$/i, '') === stem) ??
    (onlyWeights ? (protos.find((p) => /^deploy\.prototxt$/i.test(p.path)) ?? (protos.length === 1 ? protos[0] : undefined)) : undefined);
  if (!chosen) return [];
  const out: ModelFile[] = [{ path: chosen.path, size: chosen.size, role: 'network' }];
  if (onlyWeights) for (const p of protos) if (p !== chosen) out.push({ path: p.path, size: p.size, role: 'network-variant' });
  return out;
}

/** The weights a prototxt belongs to: same stem, else the only weights file of the folder. */
async function findWeights(probe: Probe): Promise<TreeEntry | undefined> {
  const siblings = await probe.siblings();
  const weights = siblings.filter((s) => WEIGHTS.test(s.path));
  if (weights.length === 0) return undefined;
  const stem = probe.name.replace(/(_deploy|\.deploy|-deploy)?\.prototxt$/i, '');
  return weights.find((w) => w.path.replace(WEIGHTS, '') === stem) ?? (weights.length === 1 ? weights[0] : undefined);
}

function detectPrototxt(text: string, probe: Probe): Detection | undefined | Promise<Detection | undefined> {
  const t = text.slice(0, 64 * 1024).replace(/#[^\n]*/g, '');
  const layerBlocks = (t.match(/^\s*layers?\s*\{/gm) ?? []).length;
  if (layerBlocks === 0) return undefined;
  // A layer block names its type and wires blobs (bottom/top) — TF pbtxt uses node/op instead.
  // One field per line is usual; compact nets put a whole layer on one line (`layer { name: "a" type: "ReLU" … }`).
  const types = [...t.matchAll(/(?:^|[\s{;,])type\s*:\s*("?)([A-Za-z][A-Za-z0-9_]*)\1(?=[\s}#;,]|$)/gm)].map((m) => m[2]!);
  if (types.length === 0 || !/(?:^|[\s{;,])(top|bottom)\s*:\s*"/m.test(t)) return undefined;
  if (/^\s*(node|op)\s*[:{]/m.test(t) && !/^\s*layers?\s*\{/m.test(t)) return undefined;
  if (/^\s*(base_lr|lr_policy|max_iter|solver_mode)\s*:/m.test(t)) return undefined; // a solver, not a net
  return (async () => {
    const name = /^\s*name\s*:\s*"([^"]{0,200})"/m.exec(t)?.[1];
    const counts = new Map<string, number>();
    for (const ty of types) counts.set(ty, (counts.get(ty) ?? 0) + 1);
    const evidence = [`text NetParameter (prototxt)${name ? `: name "${name}"` : ''}, ${layerBlocks} layer block${layerBlocks === 1 ? '' : 's'} (${typesSummary(counts)})`];
    const weights = await findWeights(probe);
    if (weights) {
      evidence.push(`the network definition of ${weights.path}`);
      const files: ModelFile[] = [
        { path: weights.path, size: weights.size, role: 'entry' }, // the weights own the pair
        { path: probe.name, size: probe.size, role: 'network' },
      ];
      const variant = /\.h5$/i.test(weights.path) ? 'caffemodel-hdf5' : 'caffemodel+prototxt';
      return detection('caffe', NAME, variant, null, 'medium', evidence, { files });
    }
    evidence.push('network definition only: no .caffemodel weights next to it');
    return detection('caffe', NAME, 'prototxt', null, probe.ext === '.prototxt' ? 'medium' : 'low', evidence);
  })();
}

/** Net::ToHDF5 output: root group with `data` (and `diff`) groups, one subgroup per layer, datasets "0", "1" …. */
async function detectHdf5(probe: Probe): Promise<Detection | undefined> {
  const named = /\.caffemodel\.h5$/i.test(probe.name);
  const evidence: string[] = [];
  let layers: string[] | undefined;
  let confirmed = false;
  try {
    const root = await rootGroup(probe);
    if (root) {
      const members = await groupMembers(root.ctx, root.btree, root.heap);
      if (members) {
        const names = members.map((m) => m.name).sort();
        const data = members.find((m) => m.name === 'data');
        if (!data || data.cacheType !== 1 || !names.every((n) => n === 'data' || n === 'diff')) return undefined;
        if (data.btree !== undefined && data.heap !== undefined) {
          const inner = await groupMembers(root.ctx, data.btree, data.heap);
          if (inner) {
            layers = inner.map((m) => m.name);
            // Layer groups hold datasets named "0", "1" … (layers without blobs have empty groups).
            let blobs = 0;
            for (const g of inner.filter((m) => m.cacheType === 1 && m.btree !== undefined && m.heap !== undefined).slice(0, 8)) {
              const members = await groupMembers(root.ctx, g.btree!, g.heap!);
              if (!members) break;
              if (!members.every((b) => /^\d+$/.test(b.name))) return undefined;
              blobs += members.length;
            }
            confirmed = blobs > 0;
          }
        }
        evidence.push(`HDF5 root group: ${names.join(', ')} (Caffe Net::ToHDF5 layout)`);
      }
    }
  } catch {
    /* fall through to the name check */
  }
  if (!confirmed && !named) return undefined;
  if (!confirmed) {
    const head = await probe.head();
    const ascii = new TextDecoder('latin1').decode(head);
    if (/model_weights|keras_version|layer_names|model_config/.test(ascii)) return undefined; // Keras
    evidence.push('HDF5 file named *.caffemodel.h5 (layout not confirmed within the first bytes)');
  }
  if (layers) evidence.push(`${layers.length} layer group${layers.length === 1 ? '' : 's'} under data/: ${layers.slice(0, 8).join(', ')}${layers.length > 8 ? ', …' : ''}`);
  const nets = await findPrototxts(probe);
  const files: ModelFile[] | undefined = nets.length ? [{ path: probe.name, size: probe.size, role: 'entry' }, ...nets] : undefined;
  if (nets.length) evidence.push(`network definition ${nets[0]!.path} next to it`);
  return detection('caffe', NAME, 'caffemodel-hdf5', null, confirmed ? (named ? 'high' : 'medium') : 'medium', evidence, {
    files,
    details: layers ? { layerCount: layers.length } : undefined,
  });
}
