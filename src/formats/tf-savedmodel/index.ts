/**
 * TensorFlow SavedModel (https://www.tensorflow.org/guide/saved_model; schema
 * tensorflow/core/protobuf/saved_model.proto) and its relatives. Variants:
 * - `saved-model`: `saved_model.pb` (or `.pbtxt`) + `variables/` + `assets/` + `fingerprint.pb`;
 * - `session-bundle`: TF Serving's deprecated pre-SavedModel export (`export.meta` MetaGraphDef +
 *   V1 checkpoint `export-?????-of-?????` or `export.index` / `export.data-*`);
 * - `checkpoint`: a bare TF checkpoint (`*.index` + `*.data-*-of-*`, optionally `*.meta`);
 * - `frozen-graph`: a GraphDef-only `.pb` (or `.pbtxt`), weights folded into Const nodes.
 * Protobuf has no magic: the files are recognised by their fields and wire types.
 */
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe, TreeProbe } from '../../identify/probe.js';
import type { Detection, ModelFile } from '../../types.js';
import type { TreeEntry } from '../../io/tree.js';
import { isFingerprint, parseGraphDef, parseMetaGraph, parseSavedModel, type MetaGraphInfo, type SavedModelInfo } from './proto.js';
import { isSSTable } from './sstable.js';

const NAME = 'TensorFlow SavedModel';

/** Files of a SavedModel folder besides saved_model.pb, relative to it. */
const SAVED_MODEL_PART = /^(variables\/variables\.(index|data-\d{5}-of-\d{5})|fingerprint\.pb|keras_metadata\.pb|assets\/.+|assets\.extra\/.+)$/;

function roleOf(path: string): string {
  if (path.startsWith('variables/')) return path.endsWith('.index') ? 'checkpoint-index' : 'weights';
  if (path === 'fingerprint.pb') return 'fingerprint';
  if (path === 'keras_metadata.pb') return 'metadata';
  return 'asset';
}

export const tfSavedmodel: FormatModule = {
  id: 'tf-savedmodel',
  name: NAME,
  extensions: ['.pb', '.pbtxt', '.meta', '.index'],
  load: async () => ({ ...(await import('./inspect.js')), scan: (await import('./scan.js')).scan }),

  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length < 2) return undefined;
    const first = head[0]!;
    // SavedModel: field 1 varint (0x08) or field 2 LEN (0x12) first.
    if (first === 0x08 || first === 0x12) {
      const sm = parseSavedModel(head, probe.size);
      if (sm) return savedModelDetection(sm, probe, await probe.folderFiles());
    }
    // MetaGraphDef alone: export.meta of a Session Bundle, or the .meta of a TF1 checkpoint.
    if (first === 0x0a || first === 0x12 || first === 0x1a || first === 0x22 || first === 0x2a || first === 0x3a) {
      const meta = metaGraphAlone(head, probe.size);
      if (meta) return metaDetection(meta, probe);
    }
    // GraphDef alone (frozen graph): node = 1 first.
    if (first === 0x0a) {
      const g = parseGraphDef(head, 0, head.length, probe.size);
      if (g && g.nodes > 0 && g.checked > 0) return frozenDetection(g, probe);
    }
    if (probe.name === 'fingerprint.pb' && isFingerprint(head, probe.size)) return fingerprintDetection(probe);
    const text = await probe.text();
    if (text !== undefined) return textDetection(text, probe);
    if (await isSSTable(probe)) return checkpointDetection(probe);
    return undefined;
  },

  async detectTree(tree: TreeProbe) {
    for (const entry of ['saved_model.pb', 'saved_model.pbtxt']) {
      if (!tree.has(entry)) continue;
      const p = await tree.probe(entry);
      if (!p) continue;
      const d = entry.endsWith('.pb') ? await savedModelFile(p, tree.entries) : await this.detect!(p);
      if (d && d.format.variant === 'saved-model') return d;
    }
    if (tree.has('export.meta') && tree.entries.some((e) => /^export(-\d{5}-of-\d{5}|\.index|\.data-\d{5}-of-\d{5})$/.test(e.path))) {
      const p = await tree.probe('export.meta');
      if (!p) return undefined;
      const meta = metaGraphAlone(await p.head(), p.size);
      if (meta) return metaDetection(meta, p, tree.entries);
    }
    return undefined;
  },
};

async function savedModelFile(p: Probe, entries: TreeEntry[]): Promise<Detection | undefined> {
  const head = await p.head();
  const sm = parseSavedModel(head, p.size);
  return sm ? savedModelDetection(sm, p, entries) : undefined;
}

function metaEvidence(m: MetaGraphInfo): string {
  const parts: string[] = [];
  if (m.tags.length) parts.push(`tags [${m.tags.join(', ')}]`);
  if (m.tensorflowVersion) parts.push(`TensorFlow ${m.tensorflowVersion}${m.tensorflowGitVersion && m.tensorflowGitVersion !== 'unknown' ? ` (${m.tensorflowGitVersion})` : ''}`);
  if (m.signatures.length) parts.push(`signatures ${m.signatures.slice(0, 6).join(', ')}${m.signatures.length > 6 ? ', …' : ''}`);
  if (m.hasObjectGraph) parts.push('object graph (TF2)');
  return parts.join(', ');
}

function savedModelDetection(sm: SavedModelInfo, probe: Probe, folder: TreeEntry[]): Detection {
  const m = sm.metaGraphs[0]!;
  const count = sm.complete ? `${sm.metaGraphCount} MetaGraph${sm.metaGraphCount === 1 ? '' : 's'}` : `${sm.metaGraphCount}+ MetaGraphs`;
  const evidence = [`protobuf SavedModel: schema version ${sm.schemaVersion ?? 'unset'}, ${count}`];
  const me = metaEvidence(m);
  if (me) evidence.push(`MetaGraph: ${me}`);
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'entry' }];
  for (const f of folder) if (SAVED_MODEL_PART.test(f.path)) files.push({ path: f.path, size: f.size, role: roleOf(f.path) });
  const shards = files.filter((f) => f.role === 'weights').length;
  if (files.some((f) => f.role === 'checkpoint-index')) evidence.push(`variables: index + ${shards} data shard${shards === 1 ? '' : 's'}`);
  else if (folder.length > 0) evidence.push('no variables/ folder (a model without variables, or an incomplete copy)');
  const strong = sm.schemaVersion === 1 && (m.fields.has(1) || m.fields.has(2) || m.fields.has(7));
  return detection('tf-savedmodel', NAME, 'saved-model', sm.schemaVersion ?? null, strong ? 'high' : 'medium', evidence, {
    files: files.length > 1 ? files : undefined,
    details: {
      metaGraphCount: sm.metaGraphCount,
      ...(m.tags.length ? { tags: m.tags.join(',') } : {}),
      ...(m.tensorflowVersion ? { producer: `TensorFlow ${m.tensorflowVersion}` } : {}),
    },
  });
}

/** A MetaGraphDef at the top level, with enough of it present to be sure. */
function metaGraphAlone(head: Uint8Array, size: number): MetaGraphInfo | undefined {
  const m = parseMetaGraph(head, 0, head.length, size);
  if (!m) return undefined;
  // meta_info_def with content, or graph_def together with saver/collections/signatures.
  const informative = m.tags.length > 0 || m.tensorflowVersion !== undefined;
  if (!(m.fields.has(1) && (informative || m.fields.has(2))) && !(m.fields.has(2) && (m.fields.has(3) || m.fields.has(4) || m.fields.has(5)))) return undefined;
  return m;
}

async function metaDetection(m: MetaGraphInfo, probe: Probe, tree?: TreeEntry[]): Promise<Detection> {
  const folder = tree ?? (await probe.siblings());
  const stem = probe.name.replace(/\.meta$/, '');
  const ckpt = folder.filter((f) => f.path === `${stem}.index` || f.path.startsWith(`${stem}.data-`) || new RegExp(`^${escapeRe(stem)}-\\d{5}-of-\\d{5}$`).test(f.path));
  const bundle = probe.name === 'export.meta' || (stem === 'export' && ckpt.length > 0);
  const me = metaEvidence(m);
  const evidence = [`protobuf MetaGraphDef${me ? `: ${me}` : ''}${m.collections.length ? `, collections ${m.collections.slice(0, 6).join(', ')}` : ''}`];
  const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'entry' }];
  for (const f of ckpt) files.push({ path: f.path, size: f.size, role: f.path.endsWith('.index') ? 'checkpoint-index' : 'weights' });
  if (!bundle && folder.some((f) => f.path === 'checkpoint')) files.push({ path: 'checkpoint', size: folder.find((f) => f.path === 'checkpoint')!.size, role: 'checkpoint-state' });
  if (bundle) {
    evidence.push(
      `TensorFlow Serving Session Bundle (export.meta + ${ckpt.length ? ckpt.map((c) => c.path).join(', ') : 'checkpoint files not found'}): ` +
        'a deprecated pre-SavedModel export format; convert it to a SavedModel (load it with TF 1.x and re-export with SavedModelBuilder) before serving',
    );
    return detection('tf-savedmodel', NAME, 'session-bundle', null, 'high', evidence, { files: files.length > 1 ? files : undefined, details: { deprecated: true } });
  }
  const isCkpt = probe.name.endsWith('.meta');
  evidence.push(
    isCkpt
      ? `TF1 checkpoint meta graph${ckpt.length ? ` with ${ckpt.length} checkpoint file${ckpt.length === 1 ? '' : 's'}` : ' (checkpoint files not found next to it)'}`
      : 'a bare MetaGraphDef (no SavedModel wrapper)',
  );
  return detection('tf-savedmodel', NAME, isCkpt ? 'checkpoint' : 'meta-graph', null, 'medium', evidence, { files: files.length > 1 ? files : undefined });
}

function frozenDetection(g: { nodes: number; ops: string[]; producer?: number; hasLibrary: boolean }, probe: Probe): Detection {
  const evidence = [
    `protobuf GraphDef: ${g.nodes} node${g.nodes === 1 ? '' : 's'} in the first ${Math.min(probe.size, 65536)} bytes (ops ${g.ops.slice(0, 8).join(', ')}${g.ops.length > 8 ? ', …' : ''})` +
      (g.producer !== undefined ? `, producer version ${g.producer}` : ''),
    'a frozen graph: a GraphDef without SavedModel wrapper, weights folded into Const nodes',
  ];
  return detection('tf-savedmodel', NAME, 'frozen-graph', g.producer ?? null, 'medium', evidence, { details: { ...(g.producer !== undefined ? { graphProducer: g.producer } : {}) } });
}

async function fingerprintDetection(probe: Probe): Promise<Detection> {
  const siblings = await probe.siblings();
  const sm = siblings.find((s) => s.path === 'saved_model.pb' || s.path === 'saved_model.pbtxt');
  const files: ModelFile[] | undefined = sm ? [{ path: sm.path, size: sm.size, role: 'entry' }, { path: probe.name, size: probe.size, role: 'fingerprint' }] : undefined;
  return detection('tf-savedmodel', NAME, 'saved-model', null, 'low', ['protobuf FingerprintDef: the fingerprint.pb of a SavedModel (hashes only); open the SavedModel folder'], { files });
}

async function textDetection(text: string, probe: Probe): Promise<Detection | undefined> {
  const t = text.slice(0, 64 * 1024);
  if (/^\s*saved_model_schema_version\s*:\s*\d+/m.test(t) && /^\s*meta_graphs\s*\{/m.test(t)) {
    const v = /saved_model_schema_version\s*:\s*(\d+)/.exec(t)![1]!;
    const tags = [...t.matchAll(/^\s*tags\s*:\s*"([^"]{0,64})"/gm)].map((m) => m[1]).slice(0, 8);
    const tf = /tensorflow_version\s*:\s*"([^"]{0,64})"/.exec(t)?.[1];
    const evidence = [`protobuf text SavedModel: schema version ${v}${tags.length ? `, tags [${tags.join(', ')}]` : ''}${tf ? `, TensorFlow ${tf}` : ''}`];
    const folder = await probe.folderFiles();
    const files: ModelFile[] = [{ path: probe.name, size: probe.size, role: 'entry' }];
    for (const f of folder) if (SAVED_MODEL_PART.test(f.path)) files.push({ path: f.path, size: f.size, role: roleOf(f.path) });
    return detection('tf-savedmodel', NAME, 'saved-model', v, 'high', evidence, { files: files.length > 1 ? files : undefined });
  }
  // GraphDef in text form: top-level `node {` blocks with `op: "…"`.
  if (/^node\s*\{/m.test(t) && /^\s+op\s*:\s*"_?[A-Z][A-Za-z0-9_]*"/m.test(t) && /^\s+name\s*:\s*"/m.test(t) && !/^\s*layers?\s*\{/m.test(t)) {
    const nodes = (t.match(/^node\s*\{/gm) ?? []).length;
    return detection('tf-savedmodel', NAME, 'frozen-graph', null, probe.ext === '.pbtxt' ? 'medium' : 'low', [`protobuf text GraphDef: ${nodes} node blocks in the first 64 KiB`]);
  }
  return undefined;
}

/** A TF checkpoint file (SSTable): a V2 `.index`, or a V1 `-NNNNN-of-NNNNN` shard. */
async function checkpointDetection(probe: Probe): Promise<Detection | undefined> {
  const siblings = await probe.siblings();
  const name = probe.name;
  let stem: string | undefined;
  if (name.endsWith('.index')) stem = name.slice(0, -'.index'.length);
  const v1 = /^(.*)-\d{5}-of-\d{5}$/.exec(name);
  if (v1) stem = v1[1];
  if (stem === undefined || stem === '') return undefined;
  const parts = siblings.filter((f) => f.path === `${stem}.index` || f.path.startsWith(`${stem}.data-`) || new RegExp(`^${escapeRe(stem)}-\\d{5}-of-\\d{5}$`).test(f.path));
  const meta = siblings.find((f) => f.path === `${stem}.meta`);
  const files: ModelFile[] = [];
  if (meta) files.push({ path: meta.path, size: meta.size, role: 'entry' }); // the meta graph owns the checkpoint
  const own = { path: name, size: probe.size, role: name.endsWith('.index') ? 'checkpoint-index' : 'weights' };
  if (meta) files.push(own);
  else files.unshift(own); // entry first
  for (const f of parts) if (f.path !== name) files.push({ path: f.path, size: f.size, role: f.path.endsWith('.index') ? 'checkpoint-index' : 'weights' });
  const bundle = stem === 'export';
  const evidence = [
    `LevelDB table (SSTable footer magic): a TensorFlow ${v1 ? 'V1 checkpoint shard' : 'checkpoint index'}`,
    stem === 'variables'
      ? 'the variables of a SavedModel: open the SavedModel folder (with saved_model.pb) instead'
      : bundle
        ? 'the checkpoint of a TF Serving Session Bundle (deprecated; convert to a SavedModel)'
        : `a bare checkpoint "${stem}"${meta ? ' with its .meta graph' : ' without graph (needs the code that built the model)'}`,
  ];
  return detection('tf-savedmodel', NAME, bundle ? 'session-bundle' : 'checkpoint', null, 'low', evidence, { files: files.length > 1 ? files : undefined });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
