/**
 * identify: which format, variant and version a file or folder is, by content, with the evidence.
 * Universal (no node:*): takes byte sources and trees; src/node adds paths.
 */
import { FORMATS } from '../formats/registry.js';
import { LIMITS } from '../limits.js';
import { asModelwiseError } from '../errors.js';
import type { ByteSource } from '../io/source.js';
import { BlobSource, BytesSource } from '../io/source.js';
import { SubTree, basename, dirname, joinPath, type SourceTree, type TreeEntry } from '../io/tree.js';
import { ZipTree } from '../codecs/zip.js';
import { openUrl, isRemote, type HttpOptions } from '../io/http.js';
import type { Confidence, Detection, Identification, ModelFile } from '../types.js';
import { Probe, TreeProbe, isObject } from './probe.js';
import { sniffNotModel } from './not-model.js';

const RANK: Record<Confidence, number> = { high: 3, medium: 2, low: 1 };

/** Run every detector on one file and keep the most confident answer (registry order breaks ties). */
export async function detectFile(probe: Probe): Promise<Detection | undefined> {
  let best: Detection | undefined;
  for (const f of FORMATS) {
    if (!f.detect) continue;
    let d: Detection | undefined;
    try {
      d = await f.detect(probe);
    } catch {
      d = undefined; // detectors must not throw; a bug in one must not hide the others
    }
    if (!d) continue;
    if (!best || RANK[d.confidence] > RANK[best.confidence]) best = d;
    if (best.confidence === 'high') break;
  }
  return best;
}

/** Folder-level detectors (SavedModel, .mlpackage, .mlmodelc …). */
export async function detectFolder(tp: TreeProbe): Promise<Detection | undefined> {
  for (const f of FORMATS) {
    if (!f.detectTree) continue;
    try {
      const d = await f.detectTree(tp);
      if (d) return d;
    } catch {
      /* a detector bug must not stop the others */
    }
  }
  return undefined;
}

function fromDetection(d: Detection, path: string, source: Identification['source'], size: number | null): Identification {
  return {
    path,
    source,
    size,
    format: d.format,
    confidence: d.confidence,
    evidence: d.evidence,
    ...(d.files ? { files: d.files } : {}),
    ...(d.details ? { details: d.details } : {}),
  };
}

/** Identify one file. `tree`/`treePath` give its folder so multi-file models can list their files. */
export async function identifySource(
  source: ByteSource,
  opts: { path?: string; kind?: Identification['source']; tree?: SourceTree; treePath?: string; depth?: number } = {},
): Promise<Identification> {
  const path = opts.path ?? source.name;
  const kind = opts.kind ?? 'bytes';
  try {
    const probe = new Probe(source, path, opts.tree, opts.treePath);
    const d = await detectFile(probe);
    if (d) {
      const id = fromDetection(d, path, kind, source.size);
      if (id.files) id.files = id.files.map((f) => ({ ...f, path: joinPath(dirname(path), f.path) }));
      return id;
    }
    const nm = await sniffNotModel(probe);
    const result: Identification = { path, source: kind, size: source.size, format: null, confidence: null, evidence: [], reason: nm.reason, notModel: nm.kind };
    // A plain zip: look inside, so "model.zip" holding an ONNX file says so.
    if (nm.kind === 'zip' && (opts.depth ?? 0) < LIMITS.archiveNesting) {
      const zip = await probe.zip();
      if (zip) {
        const inner = await identifyTree(new ZipTree(zip), path, { kind, depth: (opts.depth ?? 0) + 1 });
        const models = inner.format ? [inner] : (inner.models ?? []);
        if (models.length > 0) {
          result.models = models;
          result.reason = `a zip archive that contains ${models.length === 1 ? 'a model' : `${models.length} models`}: ${models.map((m) => `${m.path} (${m.format?.name})`).join(', ')}; extract it to use ${models.length === 1 ? 'it' : 'them'}`;
        }
      }
    }
    return result;
  } catch (e) {
    const err = asModelwiseError(e, path);
    return { path, source: kind, size: source.size, format: null, confidence: null, evidence: [], reason: err.message, error: { code: err.code, message: err.message } };
  }
}

/** Files of a Hugging Face style folder that accompany the weights. */
const HF_COMPANIONS = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|tokenizer\.model|special_tokens_map\.json|vocab\.json|vocab\.txt|merges\.txt|added_tokens\.json|preprocessor_config\.json|chat_template\.(json|jinja)|spiece\.model|sentencepiece\.bpe\.model)$/;

/**
 * Identify a folder (or an archive seen as one): a folder format (SavedModel, .mlpackage …), one
 * model with its files (TF.js, MXNet pair, sharded weights, a Hugging Face folder), or several models.
 */
export async function identifyTree(
  tree: SourceTree,
  path: string,
  opts: { kind?: Identification['source']; depth?: number } = {},
): Promise<Identification> {
  const kind = opts.kind ?? 'folder';
  let entries: TreeEntry[];
  try {
    entries = await tree.list();
  } catch (e) {
    const err = asModelwiseError(e, path);
    return { path, source: kind, size: null, format: null, confidence: null, evidence: [], reason: err.message, error: { code: err.code, message: err.message } };
  }
  const total = entries.reduce((s, e) => s + e.size, 0);
  const root = new TreeProbe(tree, path, entries);

  const folder = await detectFolder(root);
  if (folder) {
    const id = fromDetection(folder, path, kind, total);
    if (id.files) id.files = id.files.map((f) => ({ ...f, path: joinPath(path, f.path) }));
    return id;
  }

  // Subfolders that are models in their own right (a folder of SavedModels …), shallowest first.
  const models: { at: string; id: Identification; claimed: Set<string> }[] = [];
  const claimed = new Set<string>();
  const dirs = [...new Set(entries.flatMap((e) => ancestors(e.path)))].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  for (const dir of dirs) {
    if ([...claimed].some((c) => c === dir || dir.startsWith(c + '/'))) continue;
    const sub = new TreeProbe(new SubTree(tree, dir), joinPath(path, dir), entries.filter((e) => e.path.startsWith(dir + '/')).map((e) => ({ path: e.path.slice(dir.length + 1), size: e.size })));
    const d = await detectFolder(sub);
    if (!d) continue;
    const id = fromDetection(d, joinPath(path, dir), 'folder', sub.entries.reduce((s, e) => s + e.size, 0));
    const own = new Set(sub.entries.map((e) => joinPath(dir, e.path)));
    if (id.files) id.files = id.files.map((f) => ({ ...f, path: joinPath(joinPath(path, dir), f.path) }));
    models.push({ at: dir, id, claimed: own });
    claimed.add(dir);
    for (const f of own) claimed.add(f);
  }

  // Every remaining file, by content.
  const fileIds: { at: string; id: Identification; claims: Set<string> }[] = [];
  const candidates = entries.filter((e) => !claimed.has(e.path)).slice(0, 5000);
  for (const e of candidates) {
    const source = await tree.open(e.path).catch(() => undefined);
    if (!source) continue;
    const probe = new Probe(source, joinPath(path, e.path), tree, e.path);
    const d = await detectFile(probe);
    if (!d) continue;
    const id = fromDetection(d, joinPath(path, e.path), kind === 'folder' ? 'file' : kind, source.size);
    const dir = dirname(e.path);
    const claims = new Set((d.files ?? []).map((f) => joinPath(dir, f.path)));
    if (id.files) id.files = id.files.map((f) => ({ ...f, path: joinPath(joinPath(path, dir), f.path) }));
    fileIds.push({ at: e.path, id, claims });
  }
  // Drop files that another model lists as its own (shards of an index, weights of a model.json …):
  // a model that lists files is their owner when it is itself the entry of its list.
  const owns = (o: (typeof fileIds)[number]): boolean => (o.claims.values().next().value ?? o.at) === o.at;
  const kept = fileIds.filter((f) => !fileIds.some((o) => o.at !== f.at && o.claims.has(f.at) && owns(o)));
  const all = [...models.map((m) => ({ at: m.at, id: m.id })), ...kept.map((k) => ({ at: k.at, id: k.id }))];

  if (all.length === 1) {
    const only = all[0]!.id;
    const companions = entries.filter((e) => !e.path.includes('/') && HF_COMPANIONS.test(e.path));
    const hasConfig = companions.some((c) => c.path === 'config.json');
    const result: Identification = { ...only, path, source: kind, size: total };
    const files: ModelFile[] = only.files ? [...only.files] : [{ path: only.path, size: only.size ?? 0, role: 'weights' }];
    if (hasConfig && !all[0]!.at.includes('/')) {
      const arch = await hfArchitecture(root);
      for (const c of companions) files.push({ path: joinPath(path, c.path), size: c.size, role: companionRole(c.path) });
      result.format = { ...only.format!, variant: `${only.format!.variant}+hf-folder` };
      result.evidence = [...only.evidence, `Hugging Face folder: config.json${arch ? ` (${arch})` : ''}${companions.some((c) => c.path.startsWith('tokenizer')) ? ' with tokenizer' : ''}`];
      result.details = { ...(only.details ?? {}), ...(arch ? { architecture: arch } : {}) };
    } else if (!only.files) {
      result.evidence = [...only.evidence, `the only model in the folder: ${basename(only.path)}`];
    }
    result.files = files;
    return result;
  }
  if (all.length === 0) {
    return {
      path,
      source: kind,
      size: total,
      format: null,
      confidence: null,
      evidence: [],
      reason: entries.length === 0 ? 'an empty folder' : `no model among the ${entries.length} files of the folder`,
      notModel: 'folder',
    };
  }
  return {
    path,
    source: kind,
    size: total,
    format: null,
    confidence: null,
    evidence: [],
    reason: `a folder that holds ${all.length} separate models`,
    notModel: 'folder',
    models: all.map((m) => m.id),
  };
}

function ancestors(p: string): string[] {
  const parts = p.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length && i <= LIMITS.treeDepth; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

function companionRole(p: string): string {
  if (p === 'config.json') return 'config';
  if (p.startsWith('tokenizer') || /vocab|merges|spiece|sentencepiece|special_tokens|added_tokens|chat_template/.test(p)) return 'tokenizer';
  return 'config';
}

async function hfArchitecture(root: TreeProbe): Promise<string | undefined> {
  const cfg = await root.json('config.json');
  if (!isObject(cfg)) return undefined;
  if (Array.isArray(cfg.architectures) && typeof cfg.architectures[0] === 'string') return cfg.architectures[0];
  return typeof cfg.model_type === 'string' ? cfg.model_type : undefined;
}

/** Anything the universal API accepts as a model. */
export type ModelInput = ByteSource | Uint8Array | ArrayBuffer | Blob | SourceTree | string;

function isTree(x: unknown): x is SourceTree {
  return typeof x === 'object' && x !== null && typeof (x as SourceTree).list === 'function' && typeof (x as SourceTree).open === 'function';
}

/**
 * Identify a model: bytes, a Blob/File, a ByteSource, a SourceTree (folder, several dropped files),
 * or an http(s):// / hf:// URL (read by range requests). Node paths are accepted by the Node entry.
 */
export async function identify(input: ModelInput, opts: HttpOptions & { name?: string } = {}): Promise<Identification> {
  if (typeof input === 'string') {
    if (!isRemote(input)) {
      return { path: input, source: 'file', size: null, format: null, confidence: null, evidence: [], reason: 'local paths need the Node entry point (import from "modelwise" in Node)', error: { code: 'USAGE', message: 'local paths need Node' } };
    }
    try {
      const source = await openUrl(input, opts);
      return identifySource(source, { path: input, kind: 'url' });
    } catch (e) {
      const err = asModelwiseError(e, input);
      return { path: input, source: 'url', size: null, format: null, confidence: null, evidence: [], reason: err.message, error: { code: err.code, message: err.message } };
    }
  }
  if (input instanceof Uint8Array) return identifySource(new BytesSource(input, opts.name), { path: opts.name ?? '<bytes>' });
  if (input instanceof ArrayBuffer) return identifySource(new BytesSource(new Uint8Array(input), opts.name), { path: opts.name ?? '<bytes>' });
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    const s = new BlobSource(input, opts.name);
    return identifySource(s, { path: s.name });
  }
  if (isTree(input)) return identifyTree(input, opts.name ?? input.name);
  const src = input as ByteSource;
  return identifySource(src, { path: opts.name ?? src.name });
}
