/**
 * Core ML (https://apple.github.io/coremltools/mlmodel/index.html; schema coremltools
 * mlmodel/format/Model.proto). Variants:
 * - `mlmodel`: one protobuf `Model` file, recognised by structure (spec version, description, model type);
 * - `mlpackage`: a folder with `Manifest.json` (itemInfoEntries, rootModelIdentifier) and
 *   `Data/com.apple.CoreML/model.mlmodel` (+ `weights/weight.bin` for ML programs);
 * - `mlmodelc`: the compiled folder Xcode / coremlc writes (`coremldata.bin`, `model.mil` or
 *   `model.espresso.*`, `metadata.json`).
 */
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import { isObject, type Probe, type TreeProbe } from '../../identify/probe.js';
import type { Detection, ModelFile } from '../../types.js';
import { basename, joinPath, safeRelativePath } from '../../io/tree.js';
import { parseCoreMLHead, type CoreMLHead } from './spec.js';

const NAME = 'Core ML';

export const coreml: FormatModule = {
  id: 'coreml',
  name: NAME,
  extensions: ['.mlmodel', '.mlpackage', '.mlmodelc'],
  load: async () => ({ ...(await import('./inspect.js')), scan: (await import('./scan.js')).scan }),

  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length < 4) return undefined;
    if (head[0] === 0x08) {
      const spec = parseCoreMLHead(head, probe.size);
      if (!spec) return undefined;
      if (spec.cut && probe.ext !== '.mlmodel') return undefined; // too little evidence without the model type
      return specDetection(spec, probe);
    }
    const text = await probe.text();
    if (text === undefined) return undefined;
    const json = await probe.json();
    if (isObject(json) && isObject(json.itemInfoEntries)) return manifestDetection(json, probe);
    if (Array.isArray(json) && isCompiledMetadata(json[0])) return compiledMetadataDetection(json[0] as Record<string, unknown>, probe);
    if (isObject(json)) {
      const espresso = espressoDetection(json, probe);
      if (espresso) return espresso;
    }
    if (/^\s*program\s*\(\s*\d+(\.\d+)?\s*\)/.test(text) && /\bfunc\s+\w+(<\w+>)?\s*\(/.test(text)) {
      return detection('coreml', NAME, 'mlmodelc', null, probe.name === 'model.mil' ? 'high' : 'medium', [
        `Model Intermediate Language text (${/^\s*(program\s*\([^)]*\))/.exec(text)![1]}), the program of a compiled .mlmodelc`,
      ]);
    }
    return undefined;
  },

  async detectTree(tree: TreeProbe) {
    if (tree.has('Manifest.json')) {
      const d = await packageDetection(tree);
      if (d) return d;
    }
    if (tree.has('coremldata.bin')) return compiledDetection(tree);
    return undefined;
  },
};

function specEvidence(spec: CoreMLHead): string[] {
  const ev = [`protobuf Model: specificationVersion ${spec.specificationVersion}, ${spec.modelType ? `model type ${spec.modelType}` : 'model type not within the first bytes'}`];
  ev.push(`description: ${spec.inputs} input${spec.inputs === 1 ? '' : 's'}, ${spec.outputs} output${spec.outputs === 1 ? '' : 's'}${spec.isUpdatable ? ', updatable' : ''}`);
  const m = spec.metadata;
  const tools = m.userDefined['com.github.apple.coremltools.version'];
  if (tools) ev.push(`written by coremltools ${tools}${m.userDefined['com.github.apple.coremltools.source'] ? ` from ${m.userDefined['com.github.apple.coremltools.source']}` : ''}`);
  if (m.author || m.shortDescription) ev.push(`metadata: ${[m.shortDescription && `"${m.shortDescription.slice(0, 120)}"`, m.author && `author ${m.author.slice(0, 80)}`].filter(Boolean).join(', ')}`);
  return ev;
}

function specDetails(spec: CoreMLHead): Detection['details'] {
  const tools = spec.metadata.userDefined['com.github.apple.coremltools.version'];
  return {
    specificationVersion: spec.specificationVersion,
    ...(spec.modelType ? { modelType: spec.modelType } : {}),
    inputCount: spec.inputs,
    outputCount: spec.outputs,
    ...(tools ? { producer: `coremltools ${tools}` } : {}),
  };
}

function specDetection(spec: CoreMLHead, probe: Probe): Detection {
  const evidence = specEvidence(spec);
  const pkg = /([^/]+\.mlpackage)\/Data\/[^/]+\/[^/]+$/.exec(probe.path.replace(/\\/g, '/'))?.[1];
  if (pkg) evidence.push(`the model spec of the package ${safeDecode(pkg)} (open the whole .mlpackage folder for its weights)`);
  return detection('coreml', NAME, 'mlmodel', spec.specificationVersion, spec.modelType ? 'high' : 'medium', evidence, { details: specDetails(spec) });
}

interface ManifestItem {
  path: string;
  name?: string;
  author?: string;
  description?: string;
}

function manifestItems(json: Record<string, unknown>): { items: Map<string, ManifestItem>; root?: string } {
  const items = new Map<string, ManifestItem>();
  for (const [id, v] of Object.entries(json.itemInfoEntries as Record<string, unknown>)) {
    if (!isObject(v) || typeof v.path !== 'string') continue;
    items.set(id, {
      path: v.path,
      name: typeof v.name === 'string' ? v.name : undefined,
      author: typeof v.author === 'string' ? v.author : undefined,
      description: typeof v.description === 'string' ? v.description : undefined,
    });
  }
  return { items, root: typeof json.rootModelIdentifier === 'string' ? json.rootModelIdentifier : undefined };
}

/** `Manifest.json` of an .mlpackage, seen alone (the package folder is its context when there is one). */
async function manifestDetection(json: Record<string, unknown>, probe: Probe): Promise<Detection | undefined> {
  const { items, root } = manifestItems(json);
  const rootItem = root ? items.get(root) : undefined;
  if (!rootItem) return undefined;
  const apple = [...items.values()].some((i) => i.author === 'com.apple.CoreML') || /\.mlmodel$/i.test(rootItem.path);
  const evidence = [
    `.mlpackage Manifest.json: ${items.size} item${items.size === 1 ? '' : 's'}, root model ${rootItem.path}${typeof json.fileFormatVersion === 'string' ? `, fileFormatVersion ${json.fileFormatVersion}` : ''}`,
  ];
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'manifest' }];
  let version: number | null = null;
  let details: Detection['details'];
  const all = await probe.folderFiles();
  if (all.length > 0) {
    const rootPath = safeRelativePath(joinPath('Data', rootItem.path));
    const model = rootPath ? await probe.siblingProbe(rootPath) : undefined;
    const spec = model ? parseCoreMLHead(await model.head(), model.size) : undefined;
    if (spec) {
      version = spec.specificationVersion;
      evidence.push(...specEvidence(spec));
      details = specDetails(spec);
    } else evidence.push(`root model ${rootItem.path} ${model ? 'is not a Core ML Model spec' : 'is MISSING from the package'}`);
    files.push(...packageFiles(all, items, rootPath));
  }
  return detection('coreml', NAME, 'mlpackage', version, apple ? 'high' : 'medium', evidence, { files, details });
}

/** The files of a package's items under Data/ (folders expanded). */
function packageFiles(all: { path: string; size: number }[], items: Map<string, ManifestItem>, rootPath: string | undefined): ModelFile[] {
  const out: ModelFile[] = [];
  for (const item of items.values()) {
    const p = safeRelativePath(joinPath('Data', item.path));
    if (!p) continue;
    for (const f of all) {
      if (f.path !== p && !f.path.startsWith(p + '/')) continue;
      if (out.some((o) => o.path === f.path)) continue;
      out.push({ path: f.path, size: f.size, role: f.path === rootPath ? 'model' : /weight/i.test(item.name ?? item.path) ? 'weights' : 'data' });
    }
  }
  return out.sort((a, b) => (a.role === 'model' ? -1 : b.role === 'model' ? 1 : a.path.localeCompare(b.path)));
}

async function packageDetection(tree: TreeProbe): Promise<Detection | undefined> {
  const json = await tree.json('Manifest.json');
  if (!isObject(json) || !isObject(json.itemInfoEntries)) return undefined;
  const { items, root } = manifestItems(json);
  const rootItem = root ? items.get(root) : undefined;
  if (!rootItem) return undefined;
  const rootPath = safeRelativePath(joinPath('Data', rootItem.path));
  const model = rootPath ? await tree.probe(rootPath) : undefined;
  const spec = model ? parseCoreMLHead(await model.head(), model.size) : undefined;
  const evidence = [`.mlpackage folder: Manifest.json with ${items.size} item${items.size === 1 ? '' : 's'}, root model ${rootItem.path}`];
  if (spec) evidence.push(...specEvidence(spec));
  else evidence.push(`root model ${rootItem.path} ${model ? 'is not a Core ML Model spec' : 'is MISSING'}`);
  const files: ModelFile[] = [{ path: 'Manifest.json', size: tree.entry('Manifest.json')?.size ?? 0, role: 'manifest' }, ...packageFiles(tree.entries, items, rootPath)];
  const weights = files.filter((f) => f.role === 'weights');
  if (weights.length) evidence.push(`weights: ${weights.map((w) => `${w.path.split('/').slice(-2).join('/')} (${w.size} bytes)`).join(', ')}`);
  return detection('coreml', NAME, 'mlpackage', spec?.specificationVersion ?? null, spec ? 'high' : 'medium', evidence, {
    files,
    details: { ...(spec ? specDetails(spec) : {}), ...(tree.name.endsWith('.mlpackage') ? { package: tree.name } : {}) },
  });
}

/** First object of a compiled model's metadata.json (written by coremlc). */
function isCompiledMetadata(v: unknown): boolean {
  if (!isObject(v)) return false;
  const typeName = isObject(v.modelType) && typeof v.modelType.name === 'string' ? v.modelType.name : undefined;
  const keys = ['metadataOutputVersion', 'specificationVersion', 'generatedClassName', 'mlProgramOperationTypeHistogram', 'neuralNetworkLayerTypeHistogram', 'inputSchema', 'outputSchema', 'availability'];
  const hits = keys.filter((k) => k in v).length;
  return (typeName !== undefined && typeName.startsWith('MLModelType_') && hits >= 1) || hits >= 4;
}

function compiledSummary(meta: Record<string, unknown>): { evidence: string; version: number | null; details: Detection['details'] } {
  const typeName = isObject(meta.modelType) && typeof meta.modelType.name === 'string' ? meta.modelType.name.replace(/^MLModelType_/, '') : undefined;
  const version = typeof meta.specificationVersion === 'number' ? meta.specificationVersion : null;
  const ud = isObject(meta.userDefinedMetadata) ? meta.userDefinedMetadata : {};
  const tools = typeof ud['com.github.apple.coremltools.version'] === 'string' ? (ud['com.github.apple.coremltools.version'] as string) : undefined;
  return {
    evidence:
      `compiled model metadata.json: ${typeName ? `model type ${typeName}` : 'model type not stated'}` +
      (version !== null ? `, specificationVersion ${version}` : '') +
      (typeof meta.generatedClassName === 'string' ? `, class ${meta.generatedClassName}` : '') +
      (tools ? `, coremltools ${tools}` : ''),
    version,
    details: { ...(version !== null ? { specificationVersion: version } : {}), ...(typeName ? { modelType: typeName } : {}), ...(tools ? { producer: `coremltools ${tools}` } : {}) },
  };
}

async function compiledMetadataDetection(meta: Record<string, unknown>, probe: Probe): Promise<Detection> {
  const s = compiledSummary(meta);
  const siblings = await probe.siblings();
  const compiled = siblings.some((f) => f.path === 'coremldata.bin');
  const evidence = [s.evidence];
  if (compiled) evidence.push('next to coremldata.bin: a compiled .mlmodelc folder');
  return detection('coreml', NAME, 'mlmodelc', s.version, probe.name === 'metadata.json' || compiled ? 'high' : 'medium', evidence, { details: s.details });
}

/** `model.espresso.net` / `.shape` of a compiled neural network (JSON written by coremlc). */
function espressoDetection(json: Record<string, unknown>, probe: Probe): Detection | undefined {
  if (Array.isArray(json.layers) && (typeof json.storage === 'string' || typeof json.format_version === 'number')) {
    const storage = typeof json.storage === 'string' ? json.storage : undefined;
    if (storage !== undefined && !/\.espresso\.weights$/.test(storage) && typeof json.format_version !== 'number') return undefined;
    const typed = json.layers.filter((l) => isObject(l) && typeof l.type === 'string').length;
    if (json.layers.length > 0 && typed === 0) return undefined;
    return detection('coreml', NAME, 'mlmodelc', null, storage?.endsWith('.espresso.weights') || probe.name === 'model.espresso.net' ? 'high' : 'medium', [
      `Espresso network JSON${typeof json.format_version === 'number' ? ` (format_version ${json.format_version})` : ''}: ${json.layers.length} layer${json.layers.length === 1 ? '' : 's'}${storage ? `, weights in ${storage}` : ''} — part of a compiled .mlmodelc`,
    ]);
  }
  if (isObject(json.layer_shapes) && Object.keys(json).length <= 2 && /\.espresso\.shape$/.test(probe.name)) {
    return detection('coreml', NAME, 'mlmodelc', null, 'medium', [`Espresso shape JSON (${Object.keys(json.layer_shapes).length} blob shapes) — part of a compiled .mlmodelc`]);
  }
  return undefined;
}

async function compiledDetection(tree: TreeProbe): Promise<Detection | undefined> {
  const markers = ['model.mil', 'model.espresso.net', 'model.espresso.shape', 'model.espresso.weights', 'metadata.json', 'model/coremldata.bin', 'analytics/coremldata.bin', 'neural_network_optionals/coremldata.bin'];
  const present = markers.filter((m) => tree.has(m));
  if (present.length === 0) return undefined;
  const meta = await tree.json('metadata.json');
  const metaObj = Array.isArray(meta) && isCompiledMetadata(meta[0]) ? (meta[0] as Record<string, unknown>) : undefined;
  const evidence = [`compiled Core ML folder: coremldata.bin with ${present.join(', ')}`];
  let version: number | null = null;
  let details: Detection['details'] = tree.name.endsWith('.mlmodelc') ? { package: tree.name } : {};
  if (metaObj) {
    const s = compiledSummary(metaObj);
    evidence.push(s.evidence);
    version = s.version;
    details = { ...details, ...s.details };
  }
  const role = (p: string): string => {
    if (p === 'coremldata.bin') return 'entry';
    if (p === 'metadata.json') return 'metadata';
    if (p.startsWith('weights/') || p.endsWith('.weights') || basename(p) === 'weight.bin') return 'weights';
    if (p === 'model.mil' || p.startsWith('model.espresso')) return 'program';
    return 'data';
  };
  const files: ModelFile[] = tree.entries
    .map((e) => ({ path: e.path, size: e.size, role: role(e.path) }))
    .sort((a, b) => (a.role === 'entry' ? -1 : b.role === 'entry' ? 1 : a.path.localeCompare(b.path)));
  const strong = metaObj !== undefined || present.includes('model.mil') || present.includes('model.espresso.net');
  return detection('coreml', NAME, 'mlmodelc', version, strong ? 'high' : 'medium', evidence, { files, details });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
