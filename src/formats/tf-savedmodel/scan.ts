/**
 * TensorFlow SavedModel security rules. A graph runs its ops when it is loaded or served, and some
 * ops touch the host: ReadFile / WriteFile read and write any path, PyFunc / EagerPyFunc call
 * Python (resolved from a registry at run time), MatchingFiles lists folders, PrintV2 and the
 * Debug* ops can write to files or URLs, dataset / reader ops open files, RemoteCall runs elsewhere.
 * They may sit in the main graph or in any function of its library (tf.function bodies: where
 * TF2 SavedModels keep everything), so both are walked:
 *
 *   SavedModel { meta_graphs = 2: MetaGraphDef { graph_def = 2: GraphDef { node = 1: NodeDef { name = 1,
 *     op = 2, attr = 5 }, library = 2: FunctionDefLibrary { function = 1: FunctionDef { signature = 1:
 *     OpDef { name = 1 }, node_def = 3: NodeDef } } } } }
 *
 * - TF-001 (high): ReadFile, WriteFile, PyFunc, PyFuncStateless, EagerPyFunc.
 * - TF-002 (medium): other host I/O (MatchingFiles, file readers and datasets, summary writers,
 *   PrintV2, Debug*, RemoteCall …) and ops unknown to TensorFlow (a custom kernel library must be
 *   loaded: native code outside the model); (info): checkpoint I/O (SaveV2, RestoreV2 …), normal in
 *   every SavedModel.
 * - Keras Lambda layers and custom objects in keras_metadata.pb (KER-*, ../../scan/keras-config.ts).
 *
 * Payloads (Const tensors) are skipped by length: a multi-GB frozen graph costs one small read per node.
 */
import { SourceFieldReader, WIRE, fieldString, scanMessage, walkMessage, type ProtoField } from '../../codecs/protobuf.js';
import { ModelwiseError } from '../../errors.js';
import { decodeUtf8, tryDecodeUtf8 } from '../../io/bytes.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { scanKerasConfig } from '../../scan/keras-config.js';
import { registerRules } from '../../scan/rules.js';
import type { ScanState } from '../../scan/scan.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';
import { folderOf, type ModelFolder } from './folder.js';
import { TF_OPS } from '../../scan/tf-ops.js';

registerRules({
  'TF-001': 'TensorFlow graph reads or writes host files or calls Python (ReadFile, WriteFile, PyFunc, EagerPyFunc)',
  'TF-002': 'TensorFlow graph touches the host (file listing, readers, writers, debug/print sinks, remote calls) or uses ops unknown to TensorFlow',
});

/** Ops that read/write arbitrary files or run Python: high. */
const TF_CRITICAL: Record<string, string> = {
  ReadFile: 'reads any file of the host into a tensor',
  WriteFile: 'writes a tensor to any path of the host',
  PyFunc: 'calls a Python function registered at run time',
  PyFuncStateless: 'calls a Python function registered at run time',
  EagerPyFunc: 'calls a Python function registered at run time',
};

/** Other host-touching ops: medium. */
const TF_HOST = new Map<string, string>([
  ...['MatchingFiles', 'MatchingFilesDataset', 'ExperimentalMatchingFilesDataset'].map((o) => [o, 'lists files matching a pattern on the host'] as [string, string]),
  ...['WholeFileReader', 'WholeFileReaderV2', 'TextLineReader', 'TextLineReaderV2', 'TFRecordReader', 'TFRecordReaderV2', 'FixedLengthRecordReader', 'FixedLengthRecordReaderV2', 'LMDBReader', 'IdentityReader', 'IdentityReaderV2', 'ReaderRead', 'ReaderReadV2', 'ReaderReadUpTo', 'ReaderReadUpToV2', 'RecordInput'].map((o) => [o, 'reads files of the host'] as [string, string]),
  ...['TFRecordDataset', 'TFRecordDatasetV2', 'TextLineDataset', 'FixedLengthRecordDataset', 'FixedLengthRecordDatasetV2', 'CSVDataset', 'CSVDatasetV2', 'ExperimentalCSVDataset', 'LMDBDataset', 'ExperimentalLMDBDataset', 'LoadDataset', 'SnapshotDatasetReader', 'SnapshotChunkDataset', 'ListSnapshotChunksDataset', 'LoadAndRemapMatrix', 'GenerateVocabRemapping', 'ImmutableConst'].map((o) => [o, 'reads files of the host'] as [string, string]),
  ...['SqlDataset', 'ExperimentalSqlDataset'].map((o) => [o, 'opens a database connection'] as [string, string]),
  ...['CacheDataset', 'CacheDatasetV2', 'SnapshotDataset', 'SnapshotDatasetV2', 'SaveDataset', 'SaveDatasetV2', 'DatasetToTFRecord', 'ExperimentalDatasetToTFRecord', 'DistributedSave'].map((o) => [o, 'writes files on the host'] as [string, string]),
  ...['CreateSummaryFileWriter', 'CreateSummaryDbWriter', 'SummaryWriter', 'ImportEvent', 'WriteSummary', 'WriteScalarSummary', 'WriteHistogramSummary', 'WriteImageSummary', 'WriteAudioSummary', 'WriteGraphSummary', 'WriteRawProtoSummary', 'FlushSummaryWriter', 'CloseSummaryWriter', 'StatsAggregatorSetSummaryWriter'].map((o) => [o, 'writes summary files on the host'] as [string, string]),
  ...['Print', 'PrintV2'].map((o) => [o, 'prints tensors (PrintV2 output_stream may name a file)'] as [string, string]),
  ...['DebugIdentity', 'DebugIdentityV2', 'DebugIdentityV3', 'DebugNanCount', 'DebugNumericSummary', 'DebugNumericSummaryV2', 'Copy', 'CopyHost'].map((o) => [o, 'debug op whose debug_urls may name files or network endpoints'] as [string, string]),
  ...['DataServiceDataset', 'DataServiceDatasetV2', 'DataServiceDatasetV3', 'DataServiceDatasetV4', 'RegisterDataset', 'RegisterDatasetV2', 'RemoteCall', 'CreateSummaryDbWriter'].map((o) => [o, 'talks to a remote service'] as [string, string]),
  ['FileSystemSetConfiguration', 'changes file-system settings of the host'],
  ['DecodeProtoV2', 'may load a protobuf descriptor from a host path (descriptor_source)'],
  ['EncodeProto', 'may load a protobuf descriptor from a host path (descriptor_source)'],
  ['FixedUnigramCandidateSampler', 'may read a vocabulary file (vocab_file)'],
]);

/** Checkpoint I/O every SavedModel has: info. */
const TF_CHECKPOINT = new Set(['Save', 'SaveV2', 'SaveSlices', 'Restore', 'RestoreV2', 'RestoreSlice', 'MergeV2Checkpoints', 'ShardedFilename', 'ShardedFilespec', 'InitializeTableFromTextFile', 'InitializeTableFromTextFileV2']);

const LIMITS = { nodes: 20_000_000, functions: 1_000_000, smallMessage: 64 * 1024, stringsPerScope: 64, readBudget: 1024 * 1024 * 1024 } as const;

interface OpHit {
  op: string;
  scope: string;
  nodes: string[];
  count: number;
  attrs: string[];
}

interface Scan {
  hits: Map<string, OpHit>;
  /** Path-like string constants seen per scope (evidence for ReadFile / WriteFile). */
  strings: Map<string, string[]>;
  nodes: number;
  functions: number;
  partial: boolean;
}

class GraphWalker {
  readonly r: SourceFieldReader;
  readonly s: Scan = { hits: new Map(), strings: new Map(), nodes: 0, functions: 0, partial: false };
  constructor(readonly source: ByteSource) {
    this.r = new SourceFieldReader(source, { minWindow: 4096, maxWindow: 1024 * 1024, budget: LIMITS.readBudget });
  }

  private async walk(start: number, end: number, visit: (f: ProtoField) => Promise<boolean | void> | boolean | void): Promise<void> {
    const w = await walkMessage(this.r, start, end, visit);
    if (!w.ok) this.s.partial = true;
  }

  async savedModel(): Promise<void> {
    await this.walk(0, this.source.size, async (f) => {
      if (f.field === 2 && f.wire === WIRE.len) await this.metaGraph(f.at, f.end);
    });
  }

  async metaGraph(start: number, end: number): Promise<void> {
    await this.walk(start, end, async (f) => {
      if (f.field === 2 && f.wire === WIRE.len) await this.graphDef(f.at, f.end);
    });
  }

  async graphDef(start: number, end: number): Promise<void> {
    await this.walk(start, end, async (f) => {
      if (f.wire !== WIRE.len) return;
      if (f.field === 1) await this.node(f, 'main graph');
      else if (f.field === 2) await this.library(f);
    });
  }

  private async library(f: ProtoField): Promise<void> {
    await this.walk(f.at, f.end, async (g) => {
      if (g.field !== 1 || g.wire !== WIRE.len) return;
      if (++this.s.functions > LIMITS.functions) return false;
      await this.fn(g);
    });
  }

  private async fn(f: ProtoField): Promise<void> {
    let name = '?';
    const nodes: ProtoField[] = [];
    await this.walk(f.at, f.end, async (g) => {
      if (g.wire !== WIRE.len) return;
      if (g.field === 1) {
        await this.walk(g.at, g.end, async (h) => {
          if (h.field === 1 && h.wire === WIRE.len) {
            name = (await this.r.string(h, 4096)) ?? '?';
            return false;
          }
        });
      } else if (g.field === 3) nodes.push(g);
    });
    for (const n of nodes) await this.node(n, `function ${name}`);
  }

  private async node(f: ProtoField, scope: string): Promise<void> {
    if (++this.s.nodes > LIMITS.nodes) {
      this.s.partial = true;
      return;
    }
    let name = '';
    let op = '';
    const attrs: ProtoField[] = [];
    await this.walk(f.at, f.end, async (g) => {
      if (g.wire !== WIRE.len) return;
      if (g.field === 1) name = (await this.r.string(g, 4096)) ?? '';
      else if (g.field === 2) op = (await this.r.string(g, 4096)) ?? '';
      else if (g.field === 5) attrs.push(g);
    });
    const interesting = op in TF_CRITICAL || TF_HOST.has(op) || TF_CHECKPOINT.has(op) || (!TF_OPS.has(op) && !op.startsWith('_'));
    if (op === 'Const') await this.constStrings(attrs, scope);
    if (!interesting) return;
    const key = `${op}\u0000${scope}`;
    const hit = this.s.hits.get(key) ?? { op, scope, nodes: [], count: 0, attrs: [] };
    hit.count++;
    if (hit.nodes.length < 5 && name) hit.nodes.push(name);
    if (hit.attrs.length < 8) for (const a of attrs) hit.attrs.push(...(await this.attrStrings(a)).slice(0, 8 - hit.attrs.length));
    this.s.hits.set(key, hit);
  }

  /** String values of one attr map entry (AttrValue.s = 2, list = 1 { s = 2 }), as "key=value". */
  private async attrStrings(f: ProtoField): Promise<string[]> {
    if (f.length > LIMITS.smallMessage) return [];
    const b = await this.r.bytes(f, LIMITS.smallMessage);
    if (!b) return [];
    const m = scanMessage(b);
    if (!m.ok) return [];
    const keyF = m.fields.find((x) => x.field === 1 && x.wire === WIRE.len);
    const valF = m.fields.find((x) => x.field === 2 && x.wire === WIRE.len);
    const key = keyF ? fieldString(b, keyF) : undefined;
    if (!key || !valF || /^(T|dtype|_class|_output_shapes|shape|Tout|Tin|_read_only_resource_inputs)$/.test(key)) return [];
    const v = scanMessage(b, valF.at, valF.end);
    if (!v.ok) return [];
    const out: string[] = [];
    for (const x of v.fields) {
      if (x.field === 2 && x.wire === WIRE.len) {
        const s = fieldString(b, x, 1024);
        if (s) out.push(`${key}=${JSON.stringify(s)}`);
      } else if (x.field === 1 && x.wire === WIRE.len) {
        const l = scanMessage(b, x.at, x.end);
        if (l.ok) for (const y of l.fields) if (y.field === 2 && y.wire === WIRE.len) {
          const s = fieldString(b, y, 1024);
          if (s) out.push(`${key}=${JSON.stringify(s)}`);
        }
      }
    }
    return out;
  }

  /** Path- or URL-like string constants of a Const node (attr "value": TensorProto string_val = 8). */
  private async constStrings(attrs: ProtoField[], scope: string): Promise<void> {
    const list = this.s.strings.get(scope) ?? [];
    if (list.length >= LIMITS.stringsPerScope) return;
    for (const a of attrs) {
      if (a.length > LIMITS.smallMessage) continue;
      const b = await this.r.bytes(a, LIMITS.smallMessage);
      if (!b) continue;
      const m = scanMessage(b);
      if (!m.ok) continue;
      const keyF = m.fields.find((x) => x.field === 1 && x.wire === WIRE.len);
      const valF = m.fields.find((x) => x.field === 2 && x.wire === WIRE.len);
      if (!keyF || !valF || fieldString(b, keyF) !== 'value') continue;
      const v = scanMessage(b, valF.at, valF.end);
      const tensor = v.ok ? v.fields.find((x) => x.field === 8 && x.wire === WIRE.len) : undefined;
      if (!tensor) continue;
      const t = scanMessage(b, tensor.at, tensor.end);
      if (!t.ok) continue;
      for (const x of t.fields) {
        if (x.field !== 8 || x.wire !== WIRE.len) continue;
        const s = tryDecodeUtf8(b.subarray(x.at, Math.min(x.end, x.at + 512)));
        if (s && /^(\/|[a-zA-Z]:[\\/]|\.\.?[\\/]|~\/|[a-z][\w+.-]*:\/\/)/.test(s) && list.length < LIMITS.stringsPerScope) list.push(s);
      }
    }
    this.s.strings.set(scope, list);
  }
}

function findings(s: Scan, where: string): Finding[] {
  const out: Finding[] = [];
  const checkpoint: string[] = [];
  for (const h of s.hits.values()) {
    const loc = `${where} > ${h.scope}`;
    const nodes = h.nodes.length ? ` (node${h.count > 1 ? 's' : ''} ${h.nodes.map((n) => JSON.stringify(n)).join(', ')}${h.count > h.nodes.length ? ', …' : ''})` : '';
    const attrs = h.attrs.length ? `; ${h.attrs.slice(0, 4).join(', ')}` : '';
    const strings = s.strings.get(h.scope) ?? [];
    const paths = strings.length && (h.op in TF_CRITICAL || TF_HOST.has(h.op)) ? `; string constants nearby: ${strings.slice(0, 4).map((x) => JSON.stringify(x)).join(', ')}` : '';
    const count = h.count > 1 ? ` ×${h.count}` : '';
    if (h.op in TF_CRITICAL) {
      out.push({ rule: 'TF-001', severity: 'high', location: loc, evidence: `op ${h.op}${count}${nodes}${attrs}${paths}`, message: `${h.op} ${TF_CRITICAL[h.op]}: running or serving this graph touches the host` });
    } else if (TF_HOST.has(h.op)) {
      out.push({ rule: 'TF-002', severity: 'medium', location: loc, evidence: `op ${h.op}${count}${nodes}${attrs}${paths}`, message: `${h.op} ${TF_HOST.get(h.op)}` });
    } else if (TF_CHECKPOINT.has(h.op)) {
      checkpoint.push(`${h.op}${count}`);
    } else {
      out.push({ rule: 'TF-002', severity: 'medium', location: loc, evidence: `op ${JSON.stringify(h.op)}${count}${nodes} is not a TensorFlow op`, message: 'an op unknown to TensorFlow needs a custom kernel library (native code outside the model) loaded before the graph can run' });
    }
  }
  if (checkpoint.length) {
    out.push({ rule: 'TF-002', severity: 'info', location: where, evidence: `checkpoint and table I/O ops: ${[...new Set(checkpoint)].slice(0, 12).join(', ')}`, message: 'save/restore ops read and write the model\'s own variables folder; normal in every SavedModel' });
  }
  if (s.partial) {
    out.push({ rule: 'HDR-001', severity: 'low', location: where, evidence: `graph read partially (${s.nodes} nodes, ${s.functions} functions)`, message: 'the graph protobuf is damaged or too large: ops past the break were not checked', malformed: true });
  }
  return out;
}

/** Ops of a text GraphDef / SavedModel (.pbtxt): `op: "Name"` lines. */
function textFindings(text: string, where: string): Finding[] {
  const s: Scan = { hits: new Map(), strings: new Map(), nodes: 0, functions: 0, partial: false };
  const re = /\bop\s*:\s*"([^"\\]{1,200})"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) && s.nodes < LIMITS.nodes) {
    s.nodes++;
    const op = m[1]!;
    if (!(op in TF_CRITICAL || TF_HOST.has(op) || TF_CHECKPOINT.has(op) || (!TF_OPS.has(op) && !op.startsWith('_')))) continue;
    const h = s.hits.get(op) ?? { op, scope: 'graph (text)', nodes: [], count: 0, attrs: [] };
    h.count++;
    s.hits.set(op, h);
  }
  return findings(s, where);
}

type GraphKind = 'saved-model' | 'meta-graph' | 'graph-def';

async function scanGraph(source: ByteSource, kind: GraphKind, where: string, state: ScanState): Promise<Finding[]> {
  const head = await source.read(0, Math.min(source.size, 4096));
  const text = tryDecodeUtf8(head.subarray(0, Math.max(0, head.length - 4)));
  if (text !== undefined && /\b(node|meta_graphs|op|graph_def)\s*[:{]/.test(text) && !/[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(text)) {
    if (source.size > 256 * 1024 * 1024) throw new ModelwiseError('LIMIT_EXCEEDED', `text graph of ${source.size} bytes`, { file: where });
    state.scanned.push(`${where} (TensorFlow text graph ops)`);
    return textFindings(decodeUtf8(await readExact(source, 0, source.size, 'text graph')), where);
  }
  const w = new GraphWalker(source);
  if (kind === 'saved-model') await w.savedModel();
  else if (kind === 'meta-graph') await w.metaGraph(0, source.size);
  else await w.graphDef(0, source.size);
  state.scanned.push(`${where} (TensorFlow graph: ${w.s.nodes} nodes, ${w.s.functions} functions)`);
  return findings(w.s, where);
}

/** keras_metadata.pb: SavedMetadata { nodes = 1: SavedObject { node_path = 3, identifier = 4, metadata = 5 (JSON) } }. */
async function scanKerasMetadata(source: ByteSource, where: string, state: ScanState): Promise<Finding[]> {
  const out: Finding[] = [];
  const r = new SourceFieldReader(source, { budget: 256 * 1024 * 1024 });
  let n = 0;
  await walkMessage(r, 0, source.size, async (f) => {
    if (f.field !== 1 || f.wire !== WIRE.len || f.length > 16 * 1024 * 1024) return;
    const b = await r.bytes(f, 16 * 1024 * 1024);
    if (!b) return;
    const m = scanMessage(b);
    if (!m.ok) return;
    const pathF = m.fields.find((x) => x.field === 3 && x.wire === WIRE.len);
    const mdF = m.fields.find((x) => x.field === 5 && x.wire === WIRE.len);
    const text = mdF ? fieldString(b, mdF, 16 * 1024 * 1024) : undefined;
    if (!text) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    n++;
    const path = pathF ? fieldString(b, pathF) ?? '?' : '?';
    out.push(...(await scanKerasConfig(json, { location: `${where} > ${path}`, state })));
  }, 10_000_000);
  state.scanned.push(`${where} (Keras metadata, ${n} objects)`);
  return out;
}

async function open(folder: ModelFolder, names: string[]): Promise<{ source: ByteSource; name: string } | undefined> {
  for (const n of names) {
    const s = await folder.open(n);
    if (s) return { source: s, name: n };
  }
  return undefined;
}

export async function scan(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const folder = folderOf(input);
  const base = input.probe ? input.probe.path.slice(0, Math.max(0, input.probe.path.length - input.probe.name.length)) : input.tree ? `${input.tree.path}/` : '';
  const variant = input.id.format?.variant;
  const entryName = folder.entry?.name;
  const out: Finding[] = [];
  let graph: { source: ByteSource; name: string } | undefined;
  let kind: GraphKind = 'saved-model';
  if (variant === 'frozen-graph' && folder.entry) {
    graph = folder.entry;
    kind = 'graph-def';
  } else if ((variant === 'session-bundle' || variant === 'meta-graph' || variant === 'checkpoint') && folder.entry) {
    kind = 'meta-graph';
    graph = entryName?.endsWith('.meta') ? folder.entry : await open(folder, ['export.meta']);
    if (!graph && entryName) {
      const stem = entryName.replace(/\.(index|data-\d{5}-of-\d{5})$/, '');
      graph = await open(folder, [`${stem}.meta`]);
    }
  } else {
    graph = entryName === 'saved_model.pb' || entryName === 'saved_model.pbtxt' ? folder.entry : await open(folder, ['saved_model.pb', 'saved_model.pbtxt']);
    if (!graph && folder.entry && entryName !== 'fingerprint.pb' && entryName !== 'keras_metadata.pb') graph = folder.entry;
  }
  if (graph) out.push(...(await scanGraph(graph.source, kind, `${base}${graph.name}`, state)));
  const km = await open(folder, ['keras_metadata.pb']);
  if (km) out.push(...(await scanKerasMetadata(km.source, `${base}${km.name}`, state)));
  return out;
}
