/**
 * TensorFlow.js: a `model.json` with `modelTopology` and/or `weightsManifest`, weights in binary
 * shards listed by the manifest (https://www.tensorflow.org/js/guide/save_load,
 * tfjs-core/src/io/types.ts ModelJSON / WeightsManifestConfig).
 * Variants: `tfjs-layers` (Keras topology), `tfjs-graph` (GraphDef JSON), `tfjs-weights-manifest`
 * (a bare manifest array, as tfjs-converter 0.x wrote next to tensorflowjs_model.pb).
 */
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import { isObject, type Probe } from '../../identify/probe.js';
import { safeRelativePath, type TreeEntry } from '../../io/tree.js';
import type { ModelFile } from '../../types.js';

const NAME = 'TensorFlow.js';

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype?: string };
}
interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}

/** A valid WeightsManifestConfig (array of {paths: string[], weights: [{name, shape, dtype}]}), else undefined. */
function asManifest(v: unknown): ManifestGroup[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  for (const g of v) {
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) return undefined;
    if (!g.paths.every((p) => typeof p === 'string')) return undefined;
    for (const w of g.weights) {
      if (!isObject(w) || typeof w.name !== 'string' || typeof w.dtype !== 'string' || !Array.isArray(w.shape)) return undefined;
    }
  }
  return v as ManifestGroup[];
}

/** Bytes per element of the stored (possibly quantized) dtype; undefined for strings and unknown dtypes. */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2, int8: 1, int16: 2 };

function expectedBytes(groups: ManifestGroup[]): number | undefined {
  let total = 0;
  for (const g of groups) {
    for (const w of g.weights) {
      const dt = w.quantization?.dtype ?? w.dtype;
      const size = DTYPE_BYTES[dt];
      if (size === undefined) return undefined;
      const n = w.shape.reduce<number>((a, d) => a * (typeof d === 'number' && d >= 0 ? d : NaN), 1);
      if (!Number.isFinite(n)) return undefined;
      total += n * size;
    }
  }
  return total;
}

/** Resolve the shard paths against the folder: files found, and problems (missing, escaping, URLs). */
async function shards(probe: Probe, groups: ManifestGroup[]): Promise<{ files: ModelFile[]; evidence: string[]; missing: number }> {
  const paths = [...new Set(groups.flatMap((g) => g.paths))];
  const evidence: string[] = [];
  const urls = paths.filter((p) => /^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('//'));
  const escaping = paths.filter((p) => !urls.includes(p) && (safeRelativePath(p) === undefined || p.split(/[\\/]/).includes('..')));
  if (urls.length) evidence.push(`${urls.length} shard path(s) are URLs, not files next to the model: ${urls.slice(0, 3).join(', ')}`);
  if (escaping.length) evidence.push(`${escaping.length} shard path(s) escape the model folder (refused): ${escaping.slice(0, 3).join(', ')}`);
  const local = paths.filter((p) => !urls.includes(p) && !escaping.includes(p));
  const files: ModelFile[] = [];
  let missing = 0;
  if (!probe.tree) {
    evidence.push(`${local.length} shard file(s) listed; not checked (no folder)`);
    return { files, evidence, missing };
  }
  const listing = new Map<string, TreeEntry>((await probe.folderFiles()).map((e) => [e.path, e]));
  const absent: string[] = [];
  for (const p of local) {
    const rel = safeRelativePath(p)!;
    const e = listing.get(rel);
    if (e) files.push({ path: rel, size: e.size, role: 'weights' });
    else absent.push(p);
  }
  missing = absent.length + urls.length + escaping.length;
  if (absent.length) evidence.push(`${absent.length} of ${local.length} shard file(s) missing: ${absent.slice(0, 3).join(', ')}${absent.length > 3 ? ', …' : ''}`);
  return { files, evidence, missing };
}

function manifestSummary(groups: ManifestGroup[]): string {
  const weights = groups.flatMap((g) => g.weights);
  const dtypes = [...new Set(weights.map((w) => w.dtype))];
  const quantized = weights.filter((w) => isObject(w.quantization)).length;
  const nShards = new Set(groups.flatMap((g) => g.paths)).size;
  return `weightsManifest: ${weights.length} weight(s) in ${groups.length} group(s), ${nShards} shard file(s)${dtypes.length ? ` (${dtypes.join(', ')})` : ''}${quantized ? `, ${quantized} quantized` : ''}`;
}

function producer(json: Record<string, unknown>): string | undefined {
  const parts: string[] = [];
  if (typeof json.generatedBy === 'string') parts.push(`generatedBy '${json.generatedBy}'`);
  if (typeof json.convertedBy === 'string') parts.push(`convertedBy '${json.convertedBy}'`);
  return parts.length ? parts.join(', ') : undefined;
}

export const tfjs: FormatModule = {
  id: 'tfjs',
  name: NAME,
  extensions: ['.json'],
  async detect(probe: Probe) {
    const json = await probe.json();
    if (json === undefined) return (await headOnly(probe)) ?? shardOf(probe);
    if (Array.isArray(json)) return bareManifest(probe, json);
    if (!isObject(json)) return undefined;
    const topo = isObject(json.modelTopology) ? json.modelTopology : undefined;
    const manifest = asManifest(json.weightsManifest);
    const isLayers = topo !== undefined && (typeof topo.class_name === 'string' || isObject(topo.model_config));
    const isGraph = topo !== undefined && Array.isArray(topo.node);
    if (!isLayers && !isGraph && !manifest) return undefined;
    const format = typeof json.format === 'string' ? json.format : undefined;
    const variant =
      format === 'layers-model' ? 'tfjs-layers' : format === 'graph-model' ? 'tfjs-graph' : isLayers ? 'tfjs-layers' : isGraph ? 'tfjs-graph' : 'tfjs-weights-manifest';
    const evidence: string[] = [];
    if (variant === 'tfjs-layers') {
      const inner = topo && isObject(topo.model_config) ? topo.model_config : topo;
      const cls = inner && typeof inner.class_name === 'string' ? inner.class_name : undefined;
      const kv = topo && typeof topo.keras_version === 'string' ? topo.keras_version : undefined;
      evidence.push(`TF.js layers model (${format ? `format '${format}'` : 'no format key'}): Keras modelTopology${cls ? ` class_name ${cls}` : ''}${kv ? `, keras_version '${kv}'` : ''}`);
    } else if (variant === 'tfjs-graph') {
      const nodes = topo && Array.isArray(topo.node) ? topo.node.length : undefined;
      evidence.push(`TF.js graph model (${format ? `format '${format}'` : 'no format key'}): GraphDef modelTopology${nodes !== undefined ? ` with ${nodes} nodes` : ''}`);
    } else {
      evidence.push(`TF.js model JSON with a weightsManifest but no recognisable modelTopology${format ? ` (format '${format}')` : ''}`);
    }
    if (format && format !== 'layers-model' && format !== 'graph-model') evidence.push(`unknown format key '${format}'`);
    const prod = producer(json);
    if (prod) evidence.push(prod);
    const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'model' }];
    if (manifest) {
      evidence.push(manifestSummary(manifest));
      const s = await shards(probe, manifest);
      evidence.push(...s.evidence);
      files.push(...s.files);
      const want = expectedBytes(manifest);
      if (probe.tree && s.missing === 0 && want !== undefined) {
        const have = s.files.reduce((a, f) => a + f.size, 0);
        evidence.push(want === have ? `manifest byte count ${want} matches the shard files` : `manifest expects ${want} bytes but the shard files hold ${have}`);
      }
    } else if (json.weightsManifest !== undefined) {
      evidence.push('weightsManifest is malformed');
    } else {
      evidence.push('no weightsManifest: topology only');
    }
    if (isObject(json.signature)) evidence.push('has a signature (inputs/outputs)');
    return detection('tfjs', NAME, variant, null, format === 'layers-model' || format === 'graph-model' || isLayers || isGraph ? 'high' : 'medium', evidence, {
      files: files.length > 1 ? files : undefined,
      details: {
        ...(format ? { format } : {}),
        ...(typeof json.generatedBy === 'string' ? { generatedBy: json.generatedBy } : {}),
        ...(typeof json.convertedBy === 'string' ? { convertedBy: json.convertedBy } : {}),
        ...(manifest ? { weightCount: manifest.reduce((a, g) => a + g.weights.length, 0) } : {}),
      },
    });
  },
  load: async () => ({ ...(await import('./inspect.js')), scan: (await import('./scan.js')).scan }),
};

/** A bare weights manifest (weights_manifest.json of tfjs-converter 0.x), maybe next to tensorflowjs_model.pb. */
async function bareManifest(probe: Probe, json: unknown[]) {
  const manifest = asManifest(json);
  if (!manifest) return undefined;
  const evidence = ['TF.js weights manifest: a JSON array of {paths, weights} groups', manifestSummary(manifest)];
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'manifest' }];
  const s = await shards(probe, manifest);
  evidence.push(...s.evidence);
  const graph = (await probe.siblings()).find((e) => e.path === 'tensorflowjs_model.pb');
  if (graph) {
    files.push({ path: graph.path, size: graph.size, role: 'graph' });
    evidence.push('tensorflowjs_model.pb next to it: the frozen GraphDef of a tfjs-converter 0.x graph model');
  }
  files.push(...s.files);
  return detection('tfjs', NAME, 'tfjs-weights-manifest', null, 'medium', evidence, { files: files.length > 1 ? files : undefined });
}

/** A model.json too large to parse during detection: recognise its top-level keys in the head. */
async function headOnly(probe: Probe) {
  const t = await probe.text();
  if (!t || !/^\s*\{/.test(t) || probe.size <= 64 * 1024) return undefined;
  const topo = /"modelTopology"\s*:\s*\{/.test(t);
  const man = /"weightsManifest"\s*:\s*\[\s*\{\s*"(paths|weights)"/.test(t);
  const format = /"format"\s*:\s*"(layers-model|graph-model)"/.exec(t)?.[1];
  if (!(topo && (man || format)) && !(man && format)) return undefined;
  const variant = format === 'layers-model' ? 'tfjs-layers' : format === 'graph-model' ? 'tfjs-graph' : /"modelTopology"\s*:\s*\{\s*"node"/.test(t) ? 'tfjs-graph' : 'tfjs-layers';
  return detection('tfjs', NAME, variant, null, 'medium', [
    `TF.js model JSON of ${probe.size} bytes, too large to parse during identification: modelTopology/weightsManifest keys${format ? ` and format '${format}'` : ''} found in its head`,
  ]);
}

/** Shard names tfjs writes (`group1-shard1of3.bin`, `weights.bin` of tfjs-node). */
const SHARD_NAME = /^(group\d+-shard\d+of\d+(\.bin)?|weights\.bin)$/;

/**
 * A weight shard identified alone, when its folder has a model.json whose manifest lists it: the
 * model is that model.json (listed first, so the folder view keeps model.json as the owner).
 */
async function shardOf(probe: Probe) {
  if (!probe.tree || !SHARD_NAME.test(probe.name)) return undefined;
  const siblings = await probe.siblings();
  const entry = siblings.find((s) => s.path === 'model.json') ?? siblings.find((s) => s.path === 'weights_manifest.json');
  if (!entry) return undefined;
  const mp = await probe.siblingProbe(entry.path);
  const mj = mp ? await mp.json() : undefined;
  const groups = asManifest(isObject(mj) ? mj.weightsManifest : mj);
  if (!groups || !groups.some((g) => g.paths.some((p) => safeRelativePath(p) === probe.name))) return undefined;
  const model = mp ? await tfjs.detect!(mp) : undefined;
  if (!model) return undefined;
  const files = model.files ?? [{ path: entry.path, size: entry.size, role: 'model' }];
  return detection('tfjs', NAME, model.format.variant, model.format.version, 'medium', [`a TF.js weight shard listed by ${entry.path} in the same folder`, ...model.evidence], { files });
}
