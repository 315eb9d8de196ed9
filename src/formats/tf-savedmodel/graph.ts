/**
 * Lazy walkers over a SavedModel / MetaGraphDef / GraphDef held in a ByteSource: they read tags,
 * versions, signatures and op names field by field (SourceFieldReader) and skip everything else by
 * length — Const tensors folded into a multi-GB graph are never read. Field numbers follow:
 *
 * - SavedModel (tensorflow/core/protobuf/saved_model.proto): saved_model_schema_version = 1, meta_graphs = 2;
 * - MetaGraphDef (meta_graph.proto): meta_info_def = 1, graph_def = 2, saver_def = 3,
 *   collection_def = 4 (map), signature_def = 5 (map<string, SignatureDef>), asset_file_def = 6,
 *   object_graph_def = 7;
 * - MetaInfoDef: meta_graph_version = 1, stripped_op_list = 2, any_info = 3, tags = 4,
 *   tensorflow_version = 5, tensorflow_git_version = 6;
 * - SignatureDef: inputs = 1, outputs = 2 (map<string, TensorInfo>), method_name = 3;
 *   TensorInfo: name = 1, dtype = 2, tensor_shape = 3, coo_sparse = 4, composite_tensor = 5;
 * - AssetFileDef: tensor_info = 1, filename = 2;
 * - SavedObjectGraph (saved_object_graph.proto): nodes = 1, concrete_functions = 2 (map);
 * - GraphDef (framework/graph.proto): node = 1, library = 2, version = 3, versions = 4 (VersionDef
 *   { producer = 1 }); NodeDef (node_def.proto): name = 1, op = 2;
 * - FunctionDefLibrary (function.proto): function = 1 (FunctionDef { signature = 1 (OpDef
 *   { name = 1 }), node_def = 3 }).
 */
import { SourceFieldReader, WIRE, scanMessage, fieldString, walkMessage, type ProtoField } from '../../codecs/protobuf.js';
import { tryDecodeUtf8 } from '../../io/bytes.js';
import type { Dim, Diagnostic, TensorInfo } from '../../types.js';
import { tfDtype, tfShape } from './bundle.js';

/** Largest small message read whole (a SignatureDef, a map key, a version string). */
const SMALL = 16 * 1024 * 1024;

export interface SignatureTensor {
  key: string;
  name: string;
  dtype: string;
  shape: Dim[] | null;
}

export interface Signature {
  key: string;
  method: string;
  inputs: SignatureTensor[];
  outputs: SignatureTensor[];
}

export interface GraphStats {
  nodes: number;
  ops: Record<string, number>;
  producer?: number;
  functions: number;
  functionNodes: number;
  functionOps: Record<string, number>;
}

export interface MetaGraph {
  tags: string[];
  tensorflowVersion?: string;
  tensorflowGitVersion?: string;
  metaGraphVersion?: string;
  signatures: Signature[];
  collections: string[];
  assets: { filename: string; tensor: string }[];
  graph?: GraphStats;
  objectGraph?: { nodes: number; concreteFunctions: number };
  hasSaver: boolean;
  /** The `serving_signatures` collection entry of a Session Bundle (decoded by ./session.ts). */
  servingSignatures?: Uint8Array;
}

/** Where the walkers read from; collects diagnostics instead of throwing. */
export class GraphReader {
  readonly r: SourceFieldReader;
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly source: { size: number; name: string; read(o: number, l: number): Promise<Uint8Array> }, budget = 512 * 1024 * 1024) {
    this.r = new SourceFieldReader(source, { minWindow: 4096, maxWindow: 1024 * 1024, budget });
  }

  damaged(what: string, at: number | undefined): void {
    const why = this.r.exhausted ? `the read budget ran out` : `bad protobuf field at byte ${at ?? '?'}`;
    this.diagnostics.push({ code: 'MALFORMED', message: `${this.source.name}: ${what} read partially (${why})` });
  }

  async string(f: ProtoField, max = 64 * 1024): Promise<string | undefined> {
    return f.wire === WIRE.len ? this.r.string(f, max) : undefined;
  }

  /** SavedModel: its schema version and the byte ranges of its meta graphs. */
  async savedModel(): Promise<{ schemaVersion?: number; metaGraphs: ProtoField[] }> {
    const out: { schemaVersion?: number; metaGraphs: ProtoField[] } = { metaGraphs: [] };
    const w = await walkMessage(this.r, 0, this.source.size, (f) => {
      if (f.field === 1 && f.wire === WIRE.varint) out.schemaVersion = f.value;
      else if (f.field === 2 && f.wire === WIRE.len) out.metaGraphs.push(f);
    });
    if (!w.ok) this.damaged('SavedModel', w.errorAt);
    return out;
  }

  /** A MetaGraphDef in [start, end); `full` also walks the graph (op histogram). */
  async metaGraph(start: number, end: number, full: boolean): Promise<MetaGraph> {
    const m: MetaGraph = { tags: [], signatures: [], collections: [], assets: [], hasSaver: false };
    const w = await walkMessage(this.r, start, end, async (f) => {
      if (f.wire !== WIRE.len) return;
      switch (f.field) {
        case 1: await this.metaInfo(f, m); break;
        case 2: if (full) m.graph = await this.graphDef(f.at, f.end); break;
        case 3: m.hasSaver = true; break;
        case 4: {
          const k = await this.mapKey(f);
          if (k !== undefined) m.collections.push(k);
          if (k === 'serving_signatures') m.servingSignatures = (await this.r.bytes(f, SMALL)) ?? undefined;
          break;
        }
        case 5: { const s = await this.signature(f); if (s) m.signatures.push(s); break; }
        case 6: { const a = await this.asset(f); if (a) m.assets.push(a); break; }
        case 7: m.objectGraph = await this.objectGraph(f); break;
      }
    });
    if (!w.ok) this.damaged('MetaGraphDef', w.errorAt);
    return m;
  }

  private async metaInfo(f: ProtoField, m: MetaGraph): Promise<void> {
    const w = await walkMessage(this.r, f.at, f.end, async (g) => {
      if (g.wire !== WIRE.len) return;
      if (g.field === 1) m.metaGraphVersion = await this.string(g);
      else if (g.field === 4) { const t = await this.string(g); if (t !== undefined) m.tags.push(t); }
      else if (g.field === 5) m.tensorflowVersion = await this.string(g);
      else if (g.field === 6) m.tensorflowGitVersion = await this.string(g);
    });
    if (!w.ok) this.damaged('MetaInfoDef', w.errorAt);
  }

  /** The key (field 1) of a map<string, …> entry. */
  private async mapKey(f: ProtoField): Promise<string | undefined> {
    let key: string | undefined;
    await walkMessage(this.r, f.at, f.end, async (g) => {
      if (g.field === 1 && g.wire === WIRE.len) {
        key = await this.string(g);
        return false;
      }
    });
    return key;
  }

  private async signature(f: ProtoField): Promise<Signature | undefined> {
    const bytes = await this.r.bytes(f, SMALL);
    if (!bytes) {
      this.diagnostics.push({ code: 'LIMIT_EXCEEDED', message: `signature_def entry of ${f.length} bytes not read` });
      return undefined;
    }
    return parseSignatureEntry(bytes);
  }

  private async asset(f: ProtoField): Promise<{ filename: string; tensor: string } | undefined> {
    const b = await this.r.bytes(f, SMALL);
    if (!b) return undefined;
    const s = scanMessage(b);
    if (!s.ok) return undefined;
    let filename = '';
    let tensor = '';
    for (const g of s.fields) {
      if (g.field === 2 && g.wire === WIRE.len) filename = fieldString(b, g) ?? '';
      else if (g.field === 1 && g.wire === WIRE.len) {
        const t = scanMessage(b, g.at, g.end);
        const n = t.ok ? t.fields.find((x) => x.field === 1 && x.wire === WIRE.len) : undefined;
        tensor = n ? (fieldString(b, n) ?? '') : '';
      }
    }
    return { filename, tensor };
  }

  private async objectGraph(f: ProtoField): Promise<{ nodes: number; concreteFunctions: number }> {
    const out = { nodes: 0, concreteFunctions: 0 };
    await walkMessage(this.r, f.at, f.end, (g) => {
      if (g.field === 1) out.nodes++;
      else if (g.field === 2) out.concreteFunctions++;
    });
    return out;
  }

  /** GraphDef in [start, end): op histogram of the main graph, function library totals. */
  async graphDef(start: number, end: number): Promise<GraphStats> {
    const g: GraphStats = { nodes: 0, ops: {}, functions: 0, functionNodes: 0, functionOps: {} };
    const w = await walkMessage(this.r, start, end, async (f) => {
      if (f.field === 1 && f.wire === WIRE.len) {
        g.nodes++;
        const op = await this.nodeOp(f);
        g.ops[op] = (g.ops[op] ?? 0) + 1;
      } else if (f.field === 2 && f.wire === WIRE.len) await this.library(f, g);
      else if (f.field === 4 && f.wire === WIRE.len) {
        await walkMessage(this.r, f.at, f.end, (v) => {
          if (v.field === 1 && v.wire === WIRE.varint) g.producer = v.value;
        });
      }
    });
    if (!w.ok) this.damaged('GraphDef', w.errorAt);
    return g;
  }

  /** NodeDef.op (field 2): the walk stops there, the node's attrs (Const payloads) are never read. */
  private async nodeOp(f: ProtoField): Promise<string> {
    let op = '';
    await walkMessage(this.r, f.at, f.end, async (g) => {
      if (g.field === 2 && g.wire === WIRE.len) {
        op = (await this.string(g, 4096)) ?? '';
        return false;
      }
    });
    return op;
  }

  /**
   * The weights of a frozen graph: every `Const` node of the GraphDef in [start, end), its
   * attr["value"] (AttrValue.tensor = 8, a TensorProto { dtype = 1, tensor_shape = 2,
   * tensor_content = 4 }). Only tags and lengths are read; `tensor_content` gives the data range.
   */
  async constTensors(start: number, end: number): Promise<TensorInfo[]> {
    const out: TensorInfo[] = [];
    await walkMessage(this.r, start, end, async (f) => {
      if (f.field !== 1 || f.wire !== WIRE.len) return;
      let name = '';
      let op = '';
      let value: ProtoField | undefined;
      await walkMessage(this.r, f.at, f.end, async (g) => {
        if (g.wire !== WIRE.len) return;
        if (g.field === 1) name = (await this.string(g, 1024 * 1024)) ?? '';
        else if (g.field === 2) {
          op = (await this.string(g, 4096)) ?? '';
          if (op !== 'Const') return false;
        } else if (g.field === 5 && !value) {
          let key: string | undefined;
          let v: ProtoField | undefined;
          await walkMessage(this.r, g.at, g.end, async (e) => {
            if (e.field === 1 && e.wire === WIRE.len) key = await this.string(e, 1024);
            else if (e.field === 2 && e.wire === WIRE.len) v = e;
          });
          if (key === 'value' && v) value = v;
        }
      });
      if (op !== 'Const' || !value) return;
      const t = await this.tensorProto(value);
      if (t) out.push({ name, ...t });
    });
    return out;
  }

  /** AttrValue { tensor = 8 } → TensorProto's dtype, shape and tensor_content range. */
  private async tensorProto(attr: ProtoField): Promise<Omit<TensorInfo, 'name'> | undefined> {
    let tp: ProtoField | undefined;
    await walkMessage(this.r, attr.at, attr.end, (a) => {
      if (a.field === 8 && a.wire === WIRE.len) tp = a;
    });
    if (!tp) return undefined;
    let dtype = 0;
    let shape: Dim[] | null = [];
    let content: ProtoField | undefined;
    let inline = false;
    await walkMessage(this.r, tp.at, tp.end, async (x) => {
      if (x.field === 1 && x.wire === WIRE.varint) dtype = x.value ?? 0;
      else if (x.field === 2 && x.wire === WIRE.len) {
        const b = await this.r.bytes(x, 64 * 1024);
        shape = b ? (tfShape(b, 0, b.length) ?? null) : null;
      } else if (x.field === 4 && x.wire === WIRE.len) content = x;
      else if (x.field >= 5) inline = true;
    });
    const c = content as ProtoField | undefined;
    return {
      dtype: tfDtype(dtype),
      shape,
      byteLength: c ? c.length : null,
      offset: c ? c.at : null,
      ...(c ? {} : { storage: inline ? 'inline-values' : 'empty' }),
    };
  }

  private async library(f: ProtoField, g: GraphStats): Promise<void> {
    const w = await walkMessage(this.r, f.at, f.end, async (fn) => {
      if (fn.field !== 1 || fn.wire !== WIRE.len) return;
      g.functions++;
      await walkMessage(this.r, fn.at, fn.end, async (x) => {
        if (x.field === 3 && x.wire === WIRE.len) {
          g.functionNodes++;
          const op = await this.nodeOp(x);
          g.functionOps[op] = (g.functionOps[op] ?? 0) + 1;
        }
      });
    });
    if (!w.ok) this.damaged('function library', w.errorAt);
  }
}

/** map<string, SignatureDef> entry { key = 1; value = 2 }. */
export function parseSignatureEntry(b: Uint8Array): Signature | undefined {
  const e = scanMessage(b);
  if (!e.ok) return undefined;
  const k = e.fields.find((f) => f.field === 1 && f.wire === WIRE.len);
  const v = e.fields.find((f) => f.field === 2 && f.wire === WIRE.len);
  const sig: Signature = { key: k ? (fieldString(b, k, SMALL) ?? '') : '', method: '', inputs: [], outputs: [] };
  if (!v) return sig;
  const s = scanMessage(b, v.at, v.end);
  if (!s.ok) return sig;
  for (const f of s.fields) {
    if ((f.field === 1 || f.field === 2) && f.wire === WIRE.len) {
      const t = tensorEntry(b, f);
      if (t) (f.field === 1 ? sig.inputs : sig.outputs).push(t);
    } else if (f.field === 3 && f.wire === WIRE.len) sig.method = fieldString(b, f, SMALL) ?? '';
  }
  return sig;
}

/** map<string, TensorInfo> entry: key = 1, TensorInfo = 2 { name = 1, dtype = 2, tensor_shape = 3 }. */
function tensorEntry(b: Uint8Array, f: ProtoField): SignatureTensor | undefined {
  const e = scanMessage(b, f.at, f.end);
  if (!e.ok) return undefined;
  const out: SignatureTensor = { key: '', name: '', dtype: tfDtype(0), shape: [] };
  for (const g of e.fields) {
    if (g.field === 1 && g.wire === WIRE.len) out.key = tryDecodeUtf8(b.subarray(g.at, g.end)) ?? '';
    else if (g.field === 2 && g.wire === WIRE.len) {
      const t = scanMessage(b, g.at, g.end);
      if (!t.ok) continue;
      for (const x of t.fields) {
        if (x.field === 1 && x.wire === WIRE.len) out.name = fieldString(b, x, SMALL) ?? '';
        else if (x.field === 2 && x.wire === WIRE.varint) out.dtype = tfDtype(x.value ?? 0);
        else if (x.field === 3 && x.wire === WIRE.len) out.shape = tfShape(b, x.at, x.end) ?? null;
      }
    }
  }
  return out;
}

/** The serving signature: `serving_default`, else the first key in code-point order (the oracle's rule). */
export function servingSignature(sigs: Signature[]): Signature | undefined {
  const usable = sigs.filter((s) => s.key !== '__saved_model_init_op');
  if (usable.length === 0) return undefined;
  return usable.find((s) => s.key === 'serving_default') ?? [...usable].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))[0];
}

export function producerOf(m: MetaGraph | undefined): string | null {
  if (!m?.tensorflowVersion) return null;
  const git = m.tensorflowGitVersion;
  return `TensorFlow ${m.tensorflowVersion}${git && git !== 'unknown' ? ` (git ${git})` : ''}`;
}
