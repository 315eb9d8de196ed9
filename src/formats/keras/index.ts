/**
 * Keras: three ways a Keras model is saved (see README.md).
 *   - `keras-v3`: the `.keras` zip (config.json, metadata.json, model.weights.h5 | model.weights.npz)
 *   - `keras-h5`: legacy HDF5 with Keras root attributes (full model, or weights only)
 *   - `keras-json+h5`: `model.to_json()` architecture next to a `save_weights` HDF5 (`keras-json` alone)
 */
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import { isObject, type Probe } from '../../identify/probe.js';
import { decodeUtf8 } from '../../io/bytes.js';
import { findSignature } from '../../codecs/hdf5.js';
import type { ZipArchive } from '../../codecs/zip.js';
import type { Detection, ModelFile } from '../../types.js';
import { kerasHdf5Facts, type KerasHdf5Facts } from './hdf5-facts.js';

const NAME = 'Keras';

export const keras: FormatModule = {
  id: 'keras',
  name: NAME,
  extensions: ['.keras', '.h5', '.hdf5', '.json'],
  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length < 8) return undefined;
    if (findSignature(head) >= 0) return detectHdf5(probe, head);
    if (head[0] === 0x50 && head[1] === 0x4b) {
      const zip = await probe.zip();
      if (zip) return detectV3(probe, zip);
      return undefined;
    }
    const json = await probe.json();
    if (json !== undefined) return detectJson(probe, json);
    return undefined;
  },
  load: async () => ({ ...(await import('./inspect.js')), scan: (await import('./scan.js')).scan }),
};

// ---------------------------------------------------------------- keras-v3 (.keras zip)

async function detectV3(probe: Probe, zip: ZipArchive): Promise<Detection | undefined> {
  if (zip.prefixLength > 0) return undefined;
  const byName = new Map(zip.entries.map((e) => [e.name, e]));
  const config = byName.get('config.json');
  const metadata = byName.get('metadata.json');
  const weights = byName.get('model.weights.h5') ?? byName.get('model.weights.npz');
  if (!config || (!metadata && !weights)) return undefined;
  const evidence: string[] = [];
  const details: Record<string, string | number | boolean | null> = {};
  let version: string | null = null;
  if (metadata) {
    const meta = await zipJson(probe, metadata, 64 * 1024);
    if (isObject(meta)) {
      if (typeof meta.keras_version === 'string') version = meta.keras_version;
      if (typeof meta.date_saved === 'string') details.dateSaved = meta.date_saved;
    }
  }
  const cfgHead = await probe.zipMemberPrefix(config, 4096);
  const cfgText = cfgHead ? decodeUtf8(cfgHead) : '';
  const modelClass = /^\s*\{[\s\S]*?"class_name"\s*:\s*"([^"]{1,200})"/.exec(cfgText)?.[1];
  if (!/^\s*\{/.test(cfgText)) return undefined; // config.json must be a JSON object
  const members = ['config.json', metadata ? 'metadata.json' : undefined, weights?.name].filter(Boolean).join(', ');
  evidence.push(`Keras v3 zip archive with ${members}`);
  if (version) evidence.push(`metadata.json: keras_version ${version}${details.dateSaved ? `, date_saved ${details.dateSaved}` : ''}`);
  else if (metadata) evidence.push('metadata.json has no keras_version');
  if (modelClass) {
    evidence.push(`config.json: model class ${modelClass}`);
    details.modelClass = modelClass;
  }
  const assets = zip.entries.filter((e) => e.name.startsWith('assets/') && !e.isDirectory).length;
  if (assets) evidence.push(`${assets} asset file(s) under assets/`);
  if (version) details.kerasVersion = version;
  if (weights) details.weightsMember = weights.name;
  return detection('keras', NAME, 'keras-v3', version, version || (metadata && weights) ? 'high' : 'medium', evidence, { details });
}

async function zipJson(probe: Probe, entry: ZipArchive['entries'][number], max: number): Promise<unknown> {
  if (entry.uncompressedSize > max) return undefined;
  const b = await probe.zipMemberPrefix(entry, max);
  if (!b) return undefined;
  try {
    return JSON.parse(decodeUtf8(b));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- keras-h5 (legacy HDF5)

async function detectHdf5(probe: Probe, head: Uint8Array): Promise<Detection | undefined> {
  const f = await kerasHdf5Facts(probe.source, head);
  if (!f) return undefined;
  return detection('keras', NAME, 'keras-h5', f.kerasVersion ?? null, f.byteSearch ? 'medium' : 'high', hdf5Evidence(f), { details: hdf5Details(f) });
}

function hdf5Evidence(f: KerasHdf5Facts): string[] {
  const ev: string[] = [];
  const attrs: string[] = [];
  if (f.kerasVersion) attrs.push(`keras_version '${f.kerasVersion}'`);
  if (f.backend) attrs.push(`backend '${f.backend}'`);
  if (f.kind === 'model') attrs.push(`model_config${f.modelClass ? ` (${f.modelClass})` : ''}`);
  if (f.layerCount !== undefined) attrs.push(`layer_names (${f.layerCount} layers)`);
  if (f.trainingConfig) attrs.push('training_config');
  if (f.byteSearch) {
    ev.push(`HDF5 file (superblock v${f.superblockVersion}) whose root attributes could not be read one by one (dense attribute storage, or a truncated or damaged header); Keras attribute names found in its first 256 KiB: ${f.attributes.join(', ')}`);
  } else {
    ev.push(`HDF5 file (superblock v${f.superblockVersion}) with Keras root attributes: ${attrs.join(', ') || f.attributes.join(', ')}`);
  }
  if (f.kind === 'model') ev.push('full model saved by model.save() in the legacy HDF5 format');
  else if (f.kind === 'keras0-weights') ev.push('weights-only: Keras 0.x save_weights layout (nb_layers); the architecture is not in this file');
  else if (f.layerCount === undefined && !f.attributes.includes('layer_names')) ev.push('keras_version only: neither model_config nor layer_names (not a full model, weights layout unknown)');
  else ev.push('weights-only (save_weights): no model_config, the architecture is in a separate JSON or in code');
  return ev;
}

function hdf5Details(f: KerasHdf5Facts): Record<string, string | number | boolean | null> {
  return {
    weightsOnly: f.kind !== 'model',
    ...(f.superblockVersion !== undefined ? { hdf5Superblock: f.superblockVersion } : {}),
    ...(f.kerasVersion ? { kerasVersion: f.kerasVersion } : {}),
    ...(f.backend ? { backend: f.backend } : {}),
    ...(f.modelClass ? { modelClass: f.modelClass } : {}),
    ...(f.layerCount !== undefined ? { layerCount: f.layerCount } : {}),
  };
}

// ---------------------------------------------------------------- keras-json (+ weights h5)

interface JsonLayer {
  name?: string;
  className?: string;
}

/** Layers of a Keras config (Sequential as a list or {layers}, Functional/Model {layers}). */
function jsonLayers(cfg: unknown): JsonLayer[] {
  const layers = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : [];
  const out: JsonLayer[] = [];
  for (const l of layers.slice(0, 100_000)) {
    if (!isObject(l)) continue;
    const name = typeof l.name === 'string' ? l.name : isObject(l.config) && typeof l.config.name === 'string' ? l.config.name : undefined;
    out.push({ ...(name ? { name } : {}), ...(typeof l.class_name === 'string' ? { className: l.class_name } : {}) });
  }
  return out;
}

async function detectJson(probe: Probe, json: unknown): Promise<Detection | undefined> {
  if (!isObject(json) || typeof json.class_name !== 'string' || !(isObject(json.config) || Array.isArray(json.config))) return undefined;
  // A TF.js model.json wraps this in modelTopology; a Keras architecture JSON has it at the top.
  const kv = typeof json.keras_version === 'string' ? json.keras_version : undefined;
  const backend = typeof json.backend === 'string' ? json.backend : undefined;
  const layers = jsonLayers(json.config);
  const names = layers.flatMap((l) => (l.name ? [l.name] : []));
  const hasLayers = layers.length > 0 || (isObject(json.config) && Array.isArray(json.config.layers));
  const kerasModule = json.module === 'keras' || (typeof json.module === 'string' && json.module.startsWith('keras'));
  if (!kv && !backend && !hasLayers && !kerasModule) return undefined;
  const evidence = [
    `Keras architecture JSON (model.to_json()): class_name ${json.class_name}${layers.length ? `, ${layers.length} layers` : ''}${kv ? `, keras_version ${kv}` : ''}${backend ? `, backend ${backend}` : ''}`,
  ];
  const details: Record<string, string | number | boolean | null> = { modelClass: json.class_name, ...(kv ? { kerasVersion: kv } : {}), ...(backend ? { backend } : {}) };
  const pair = await findWeights(probe, layers);
  if (pair) {
    evidence.push(...pair.evidence);
    const files: ModelFile[] = [
      { path: probe.name, size: probe.size, role: 'architecture' },
      { path: pair.path, size: pair.size, role: 'weights' },
    ];
    if (pair.facts.kerasVersion) details.weightsKerasVersion = pair.facts.kerasVersion;
    return detection('keras', NAME, 'keras-json+h5', kv ?? pair.facts.kerasVersion ?? null, kv || backend ? 'high' : 'medium', evidence, { files, details });
  }
  evidence.push(probe.tree ? 'no Keras weights HDF5 (layer_names) found next to it: architecture only' : 'architecture only (no folder to look for the weights HDF5 in)');
  return detection('keras', NAME, 'keras-json', kv ?? null, kv || backend ? 'medium' : 'low', evidence, { details });
}

/**
 * The `save_weights` HDF5 that goes with an architecture JSON: a sibling .h5/.hdf5 with layer_names,
 * preferring names that start like the JSON's and name overlap. Keras loads such weights by layer
 * order, so names that differ (weights saved from another session) do not disqualify a file.
 */
async function findWeights(
  probe: Probe,
  layers: JsonLayer[],
): Promise<{ path: string; size: number; facts: KerasHdf5Facts; evidence: string[] } | undefined> {
  const siblings = await probe.siblings();
  const stem = probe.name.replace(/\.json$/i, '').toLowerCase();
  const candidates = siblings
    .filter((s) => /\.(h5|hdf5|hdf)$/i.test(s.path) && s.path !== probe.name)
    .map((s) => {
      const n = s.path.toLowerCase();
      const score = (n.startsWith(stem) ? 2 : 0) + (n.includes('weight') ? 1 : 0);
      return { ...s, score };
    })
    .sort((a, b) => b.score - a.score || a.path.localeCompare(b.path))
    .slice(0, 4);
  const names = new Set(layers.flatMap((l) => (l.name ? [l.name] : [])));
  let best: { path: string; size: number; facts: KerasHdf5Facts; overlap: number } | undefined;
  for (const c of candidates) {
    const sp = await probe.siblingProbe(c.path);
    if (!sp) continue;
    const h = await sp.head();
    if (findSignature(h) < 0) continue;
    const facts = await kerasHdf5Facts(sp.source, h);
    if (!facts || facts.kind === 'model') continue;
    const overlap = (facts.layerNames ?? []).filter((n) => names.has(n)).length;
    if (!best || overlap > best.overlap) best = { path: c.path, size: c.size, facts, overlap };
  }
  if (!best) return undefined;
  const f = best.facts;
  const evidence = [
    `weights in ${best.path}: HDF5 with Keras root attributes${f.kerasVersion ? ` (keras_version ${f.kerasVersion}${f.backend ? `, backend ${f.backend}` : ''})` : ''}${f.layerCount !== undefined ? `, layer_names of ${f.layerCount} layers` : ''}`,
  ];
  if (f.layerNames && f.layerNames.length > 0 && layers.length > 0) {
    const nonInput = layers.filter((l) => l.className !== 'InputLayer').length;
    if (best.overlap > 0) evidence.push(`${best.overlap} of the ${f.layerNames.length} weight layer names match layers of the JSON`);
    else if (nonInput === f.layerNames.length) evidence.push(`layer names differ but the counts agree (${nonInput} non-input layers): Keras loads these weights by layer order`);
    else evidence.push(`layer names and counts differ from the JSON (${f.layerNames.length} weight layers, ${nonInput} non-input layers): the weights may belong to another model`);
  }
  return { path: best.path, size: best.size, facts: f, evidence };
}
