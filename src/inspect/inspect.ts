/**
 * inspect: what is inside a model, read from headers only. The driver identifies the model, hands
 * the entry file / folder to the format's inspector (loaded lazily), and derives the common parts of
 * the report (parameter count, dtype mix, tensor bytes) the same way for every format.
 */
import { ModelwiseError, asModelwiseError } from '../errors.js';
import { formatById } from '../formats/registry.js';
import type { FormatImpl, InspectInput, InspectOptions, Inspection } from '../formats/types.js';
import { detectFolder, identifySource, identifyTree, type ModelInput } from '../identify/identify.js';
import { Probe, TreeProbe } from '../identify/probe.js';
import { openUrl, isRemote, type HttpOptions } from '../io/http.js';
import { BlobSource, BytesSource, type ByteSource } from '../io/source.js';
import { SubTree, dirname, joinPath, type SourceTree } from '../io/tree.js';
import { INSPECT_LIMITS } from '../limits.js';
import { big, describeQuantization, elementCount, isQuantizedDtype } from './summary.js';
import type { BigNum, Identification, ModelReport, TensorInfo } from '../types.js';

/** A model located and opened: what inspect, scan and convert work from. */
export interface OpenedModel {
  id: Identification;
  input: InspectInput;
  impl: FormatImpl;
}

/** Resolve the format implementation for an identification (throws when there is none). */
export async function openModel(id: Identification, probe: Probe | undefined, tree: TreeProbe | undefined, options: InspectOptions = {}): Promise<OpenedModel> {
  if (!id.format) {
    if (id.error) throw new ModelwiseError(id.error.code as never, id.error.message);
    const more = id.models?.length ? `; choose one of: ${id.models.map((m) => m.path).join(', ')}` : '';
    throw new ModelwiseError('UNKNOWN_FORMAT', `${id.path}: not a recognised model — ${id.reason ?? 'unknown'}${more}`);
  }
  const mod = formatById(id.format.id);
  const impl = mod?.load ? await mod.load() : undefined;
  if (!impl) throw new ModelwiseError('UNSUPPORTED', `${id.path}: ${id.format.name} is identified, but reading it further is not implemented yet`);
  return { id, input: { id, probe, tree, options }, impl };
}

async function run(id: Identification, probe: Probe | undefined, tree: TreeProbe | undefined, options: InspectOptions): Promise<ModelReport> {
  const m = await openModel(id, probe, tree, options);
  if (!m.impl.inspect) throw new ModelwiseError('UNSUPPORTED', `${id.path}: inspecting ${id.format!.name} is not implemented yet`);
  return finalize(id, await m.impl.inspect(m.input), options);
}

/** Locate the model in a file (with its folder as context). */
export async function locateSource(source: ByteSource, opts: { path?: string; kind?: Identification['source']; tree?: SourceTree; treePath?: string } = {}): Promise<{ id: Identification; probe: Probe; tree: undefined }> {
  const path = opts.path ?? source.name;
  const id = await identifySource(source, { path, kind: opts.kind ?? 'bytes', tree: opts.tree, treePath: opts.treePath });
  return { id, probe: new Probe(source, path, opts.tree, opts.treePath), tree: undefined };
}

/** Inspect one file; `tree`/`treePath` give its folder (shards, external data, sibling weights). */
export async function inspectSource(
  source: ByteSource,
  opts: { path?: string; kind?: Identification['source']; tree?: SourceTree; treePath?: string; options?: InspectOptions } = {},
): Promise<ModelReport> {
  const { id, probe } = await locateSource(source, opts);
  return run(id, probe, undefined, opts.options ?? {});
}

/** Locate the model in a folder: its identification, entry file and own folder. */
export async function locateTree(tree: SourceTree, path: string): Promise<{ id: Identification; probe: Probe | undefined; tree: TreeProbe | undefined }> {
  const entries = await tree.list();
  const root = new TreeProbe(tree, path, entries);
  const id = await identifyTree(tree, path);
  if (!id.format) return { id, probe: undefined, tree: undefined };
  const prefix = path.endsWith('/') ? path : path + '/';
  const entryRel = id.files?.[0]?.path.startsWith(prefix) ? id.files[0].path.slice(prefix.length) : undefined;
  // The model's own folder: the deepest ancestor of the entry that a folder detector claims.
  let modelTree = root;
  if (entryRel) {
    const parts = dirname(entryRel).split('/').filter(Boolean);
    for (let i = parts.length; i > 0; i--) {
      const dir = parts.slice(0, i).join('/');
      const sub = new TreeProbe(new SubTree(tree, dir), joinPath(path, dir), entries.filter((e) => e.path.startsWith(dir + '/')).map((e) => ({ path: e.path.slice(dir.length + 1), size: e.size })));
      if (await detectFolder(sub)) {
        modelTree = sub;
        break;
      }
    }
  }
  let probe: Probe | undefined;
  if (entryRel) {
    const s = await tree.open(entryRel);
    if (s) probe = new Probe(s, joinPath(path, entryRel), tree, entryRel);
  }
  return { id, probe, tree: modelTree };
}

/** Inspect a folder model (SavedModel, .mlpackage, TF.js, sharded checkpoint, HF folder …). */
export async function inspectTree(tree: SourceTree, path: string, options: InspectOptions = {}): Promise<ModelReport> {
  const m = await locateTree(tree, path);
  return run(m.id, m.probe, m.tree, options);
}

/** Inspect bytes, a Blob, a ByteSource, a SourceTree or an http(s):// / hf:// URL. */
export async function inspect(input: ModelInput, opts: HttpOptions & { name?: string; options?: InspectOptions } = {}): Promise<ModelReport> {
  const options = opts.options ?? {};
  if (typeof input === 'string') {
    if (!isRemote(input)) throw new ModelwiseError('USAGE', 'local paths need the Node entry point (import from "modelwise" in Node)');
    const source = await openUrl(input, opts);
    return inspectSource(source, { path: input, kind: 'url', options });
  }
  if (input instanceof Uint8Array) return inspectSource(new BytesSource(input, opts.name), { path: opts.name ?? '<bytes>', options });
  if (input instanceof ArrayBuffer) return inspectSource(new BytesSource(new Uint8Array(input), opts.name), { path: opts.name ?? '<bytes>', options });
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    const s = new BlobSource(input, opts.name);
    return inspectSource(s, { path: s.name, options });
  }
  if (typeof (input as SourceTree).list === 'function') return inspectTree(input as SourceTree, opts.name ?? (input as SourceTree).name, options);
  const src = input as ByteSource;
  return inspectSource(src, { path: opts.name ?? src.name, options });
}

/** Build the common report from an inspector's facts. */
export function finalize(id: Identification, ins: Inspection, options: InspectOptions = {}): ModelReport {
  const max = options.maxTensors ?? INSPECT_LIMITS.reportTensors;
  const byDtype: Record<string, number> = {};
  let total = 0;
  let tensorBytes = 0;
  let bytesKnown = ins.tensors.length > 0;
  const storages = new Map<string, number>();
  for (const t of ins.tensors) {
    const n = elementCount(t.shape);
    if (n !== undefined) {
      total += n;
      byDtype[t.dtype] = (byDtype[t.dtype] ?? 0) + n;
    }
    if (typeof t.byteLength !== 'number') bytesKnown = false;
    else if (t.storage === undefined) tensorBytes += t.byteLength;
    else {
      // Several tensors can view one storage (tied weights, deduplicated constants): count it once.
      const key = `${t.file ?? ''}|${t.storage}`;
      const prev = storages.get(key) ?? 0;
      if (t.byteLength > prev) {
        tensorBytes += t.byteLength - prev;
        storages.set(key, t.byteLength);
      }
    }
  }
  const files = ins.files ?? id.files;
  const fileSize = files && files.length > 0 ? files.reduce((s, f) => s + f.size, 0) : (id.size ?? 0);
  let quantization = ins.quantization;
  if (!quantization && Object.keys(byDtype).some(isQuantizedDtype)) quantization = describeQuantization(byDtype);
  const format = { ...id.format!, ...(ins.format ?? {}) };
  const report: ModelReport = {
    path: id.path,
    format,
    producer: ins.producer ?? null,
    architecture: ins.architecture ?? null,
    parameters: { total: big(total), byDtype: Object.fromEntries(Object.entries(byDtype).map(([k, v]) => [k, big(v)])) },
    size: { file: fileSize, tensorBytes: bytesKnown ? big(tensorBytes) : ins.tensors.length === 0 ? 0 : null, ...(files && files.length > 1 ? { files: files.length } : {}) },
    tensors: { count: ins.tensors.length, items: ins.tensors.slice(0, max), truncated: ins.tensors.length > max },
    ...(ins.graph ? { graph: ins.graph } : {}),
    ...(quantization ? { quantization } : {}),
    ...(ins.hyperParameters && Object.keys(ins.hyperParameters).length ? { hyperParameters: ins.hyperParameters } : {}),
    ...(ins.tokenizer ? { tokenizer: ins.tokenizer } : {}),
    ...(ins.details ? { details: ins.details } : {}),
    metadata: ins.metadata ?? {},
    ...(files && files.length > 0 ? { files } : {}),
    diagnostics: ins.diagnostics ?? [],
  };
  return report;
}

export { describeQuantization, elementCount };
