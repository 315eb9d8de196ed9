/**
 * A lazy walk of an ONNX ModelProto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) over a
 * ByteSource: every field is read except tensor payloads (raw_data, large typed value fields), which
 * are skipped by length, so a 2 GB self-contained model costs one small read per initializer.
 *
 * What it collects (native names): the ModelProto header, opset imports, metadata_props, the main
 * graph's inputs/outputs, every initializer and sparse initializer of the main graph and of all
 * nested subgraphs (node attributes `g` / `graphs`: If, Loop, Scan …), the op_type histogram of
 * the main graph and its subgraphs, model-local functions (their own histogram), and the nodes that
 * matter for describing quantization. Malformed or truncated input yields diagnostics and a
 * partial model, never an exception.
 */
import { SourceFieldReader, WIRE, int64, readVarint, type ProtoField } from '../../codecs/protobuf.js';
import { decodeUtf8 } from '../../io/bytes.js';
import type { ByteSource } from '../../io/source.js';
import { INSPECT_LIMITS } from '../../limits.js';
import { parseEntry, parseOpset } from './proto.js';
import { valueInfo } from './types.js';
import type { OnnxFunction, OnnxIO, OnnxModel, OnnxSparse, OnnxTensor } from './model-types.js';
import { NODE_INLINE, QUANT_OP, decodeNode, scanPacked, type DecodedNode } from './node.js';

export type { OnnxFunction, OnnxIO, OnnxModel, OnnxNode, OnnxSparse, OnnxTensor } from './model-types.js';
export { QUANT_OP } from './node.js';

/** Caps of the walk (all values come from untrusted files). */
export const ONNX_WALK = {
  /** Bytes read for everything but skipped payloads: node lists of huge graphs stay far below. */
  budget: INSPECT_LIMITS.protobufMessage,
  /** Protobuf fields visited in all (unpacked typed values count one each). */
  maxFields: 50_000_000,
  /** Nesting of subgraphs in node attributes (If inside Loop inside Scan …). */
  graphDepth: 32,
  /** Largest ValueInfo / metadata entry / external_data entry read whole. */
  smallMessage: 1024 * 1024,
  /** Longest doc_string kept (longer ones are cut). */
  docString: 64 * 1024,
  /** Largest packed varint payload read to count its elements (bigger ones are sized from dims). */
  packedCount: 8 * 1024 * 1024,
  /** Nodes whose inputs/attributes are kept for the quantization summary. */
  quantNodes: 1_000_000,
} as const;

interface Scope {
  depth: number;
  path: string;
  /** Where found tensors go; undefined inside functions (counted, not listed). */
  listTensors: boolean;
  ops: Map<string, number>;
  byDomain?: Map<string, Map<string, number>>;
}

export class OnnxWalker {
  readonly r: SourceFieldReader;
  private fieldsVisited = 0;
  private stopped = false;
  readonly m: OnnxModel = {
    producerName: '', producerVersion: '', domain: '', opsets: [], metadata: [], inputs: [], outputs: [],
    mainInitializers: new Set(), tensors: [], sparse: [], ops: new Map(), opsByDomain: new Map(), nodes: 0,
    subgraphs: 0, functions: [], functionInitializers: 0, trainingInfo: 0, quantNodes: [], constants: 0,
    partial: false, diagnostics: [], bytesRead: 0,
  };

  constructor(readonly source: ByteSource, opts: { budget?: number } = {}) {
    this.r = new SourceFieldReader(source, { minWindow: 512, maxWindow: 1024 * 1024, budget: opts.budget ?? ONNX_WALK.budget });
  }

  private diag(code: string, message: string): void {
    if (this.m.diagnostics.filter((d) => d.code === code).length < 20) this.m.diagnostics.push({ code, message });
  }

  /**
   * Visit the fields of [at, end); a bad field ends the walk of this message with a diagnostic.
   * Fields already in the reader's window are taken without a promise (hot loop of big graphs).
   */
  private async each(at: number, end: number, what: string, visit: (f: ProtoField) => void | Promise<void>): Promise<void> {
    let p = at;
    while (p < end && !this.stopped) {
      if (++this.fieldsVisited > ONNX_WALK.maxFields) {
        this.stop('LIMIT_EXCEEDED', `more than ${ONNX_WALK.maxFields} protobuf fields; the rest of the model is not read`);
        return;
      }
      const f = this.r.fieldNow(p, end) ?? (await this.r.field(p, end));
      if (!f) {
        if (this.r.exhausted) this.stop('LIMIT_EXCEEDED', `read budget of ${ONNX_WALK.budget} bytes (payloads excluded) spent at offset ${p}; the rest of the model is not read`);
        else this.malformed(what, p, end);
        return;
      }
      const r = visit(f);
      if (r) await r;
      p = f.end;
    }
  }

  private malformed(what: string, at: number, end: number): void {
    this.m.partial = true;
    this.diag(end >= this.source.size ? 'TRUNCATED' : 'MALFORMED', `${this.source.name}: ${what} has a malformed or truncated field at offset ${at} (message ends at ${end})`);
  }

  private stop(code: string, message: string): void {
    this.stopped = true;
    this.m.partial = true;
    this.diag(code, message);
  }

  private async str(f: ProtoField, max = 64 * 1024): Promise<string | undefined> {
    if (f.wire !== WIRE.len) return undefined;
    const b = this.r.bytesNow(f, max) ?? (await this.r.bytes(f, max));
    return b ? decodeUtf8(b) : undefined;
  }

  /** Walk the whole model. */
  async model(): Promise<OnnxModel> {
    const size = this.source.size;
    let p = 0;
    const m = this.m;
    while (p < size && !this.stopped) {
      const f = await this.r.field(p, size);
      if (!f) {
        await this.truncatedTopLevel(p);
        break;
      }
      p = f.end;
      switch (f.field) {
        case 1: if (f.wire === WIRE.varint) m.irVersion = int64(f.lo!, f.hi!); break;
        case 2: m.producerName = (await this.str(f, 4096)) ?? ''; break;
        case 3: m.producerVersion = (await this.str(f, 4096)) ?? ''; break;
        case 4: m.domain = (await this.str(f, 4096)) ?? ''; break;
        case 5: if (f.wire === WIRE.varint) m.modelVersion = int64(f.lo!, f.hi!); break;
        case 6: m.docString = await this.doc(f); break;
        case 7: if (f.wire === WIRE.len) await this.graph(f.at, f.end, { depth: 0, path: '', listTensors: true, ops: m.ops, byDomain: m.opsByDomain }, true); break;
        case 8: {
          const b = f.wire === WIRE.len ? await this.r.bytes(f, 8192) : undefined;
          const o = b && parseOpset(b);
          if (o) m.opsets.push(o);
          break;
        }
        case 14: {
          if (f.wire !== WIRE.len) break;
          const b = f.length <= ONNX_WALK.smallMessage ? await this.r.bytes(f, ONNX_WALK.smallMessage) : undefined;
          const e = b ? parseEntry(b, 0, b.length, ONNX_WALK.smallMessage) : await this.bigEntry(f);
          if (e) m.metadata.push(e);
          else this.diag('MALFORMED', `metadata_props entry at offset ${f.tagAt} is unreadable`);
          break;
        }
        case 20: m.trainingInfo++; break;
        case 25: if (f.wire === WIRE.len) await this.func(f); break;
      }
    }
    m.bytesRead = this.r.bytesRead;
    return m;
  }

  /** A metadata entry too big to hold: its key, and the start of its value. */
  private async bigEntry(f: ProtoField): Promise<[string, string] | undefined> {
    let key: string | undefined;
    let value = '';
    await this.each(f.at, f.end, `metadata_props entry at offset ${f.tagAt}`, async (g) => {
      if (g.field === 1) key = await this.str(g, 64 * 1024);
      else if (g.field === 2 && g.wire === WIRE.len) {
        const b = await this.source.read(g.at, Math.min(g.length, ONNX_WALK.docString)).catch(() => new Uint8Array(0));
        value = `${decodeUtf8(b)}… (${g.length} bytes)`;
      }
    });
    return key === undefined ? undefined : [key, value];
  }

  /** A top-level field cut by the end of the file: walk what is there of a graph, say it is cut. */
  private async truncatedTopLevel(p: number): Promise<void> {
    this.m.partial = true;
    const b = await this.source.read(p, 24).catch(() => new Uint8Array(0));
    const tag = readVarint(b, 0);
    const len = tag && (tag.lo & 7) === WIRE.len ? readVarint(b, tag.size) : undefined;
    if (tag && len?.value !== undefined && p + tag.size + len.size + len.value > this.source.size) {
      const at = p + tag.size + len.size;
      this.diag('TRUNCATED', `${this.source.name}: field ${tag.lo >>> 3} at offset ${p} declares ${len.value} bytes but the file ends ${this.source.size - at} bytes later`);
      if (tag.lo >>> 3 === 7) await this.graph(at, this.source.size, { depth: 0, path: '', listTensors: true, ops: this.m.ops, byDomain: this.m.opsByDomain }, true);
      return;
    }
    this.diag('MALFORMED', `${this.source.name}: unreadable ModelProto field at offset ${p}`);
  }

  private async doc(f: ProtoField): Promise<string | undefined> {
    if (f.wire !== WIRE.len) return undefined;
    if (f.length <= ONNX_WALK.docString) return this.str(f, ONNX_WALK.docString);
    const b = await this.source.read(f.at, ONNX_WALK.docString).catch(() => undefined);
    return b ? `${decodeUtf8(b)}… (${f.length} bytes)` : undefined;
  }

  /** GraphProto { node = 1; name = 2; initializer = 5; input = 11; output = 12; sparse_initializer = 15 }. */
  private async graph(at: number, end: number, scope: Scope, main = false): Promise<void> {
    if (scope.depth > ONNX_WALK.graphDepth) {
      this.diag('LIMIT_EXCEEDED', `subgraphs nested deeper than ${ONNX_WALK.graphDepth} levels at offset ${at} are not read`);
      this.m.partial = true;
      return;
    }
    await this.each(at, end, main ? 'the main graph' : `subgraph ${scope.path}`, (f) => {
      if (f.wire !== WIRE.len) return;
      switch (f.field) {
        case 1: return this.node(f, scope);
        case 2: return main ? this.str(f, 4096).then((n) => void (this.m.graphName = n)) : undefined;
        case 5: return this.tensor(f, scope.path).then((t) => {
          if (scope.listTensors) this.m.tensors.push(t);
          else this.m.functionInitializers++;
          if (main) this.m.mainInitializers.add(t.name);
        });
        case 11:
        case 12:
          return main ? this.io(f).then((io) => void (io && (f.field === 11 ? this.m.inputs : this.m.outputs).push(io))) : undefined;
        case 15: return this.sparseTensor(f, scope.path).then((sp) => {
          if (scope.listTensors) this.m.sparse.push(sp);
          else this.m.functionInitializers++;
        });
      }
    });
  }

  private async io(f: ProtoField): Promise<OnnxIO | undefined> {
    const b = this.r.bytesNow(f, ONNX_WALK.smallMessage) ?? (await this.r.bytes(f, ONNX_WALK.smallMessage));
    const v = b && valueInfo(b);
    if (!v) {
      this.diag('MALFORMED', `graph input/output at offset ${f.tagAt} is unreadable or over ${ONNX_WALK.smallMessage} bytes`);
      return undefined;
    }
    return { name: v.name, type: v.type };
  }

  /**
   * NodeProto { input = 1; output = 2; name = 3; op_type = 4; attribute = 5; domain = 7 }.
   * A node held in the window (almost all are small) is decoded in memory; one with a large
   * attribute (a Constant holding a big tensor) is walked field by field. Subgraphs in attributes
   * (AttributeProto g = 6, graphs = 11) are walked after the node.
   */
  private node(f: ProtoField, scope: Scope): void | Promise<void> {
    const b = f.length <= NODE_INLINE ? this.r.bytesNow(f, NODE_INLINE) : undefined;
    if (b) return this.nodeFrom(decodeNode(b, f.at), scope, f);
    return this.nodeSlow(f, scope);
  }

  private async nodeSlow(f: ProtoField, scope: Scope): Promise<void> {
    const b = f.length <= NODE_INLINE ? await this.r.bytes(f, NODE_INLINE) : undefined;
    if (b) return this.nodeFrom(decodeNode(b, f.at), scope, f);
    if (this.stopped || this.r.exhausted) return;
    const n: DecodedNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], ints: {}, graphs: [], ok: true };
    await this.each(f.at, f.end, `node at offset ${f.tagAt}`, async (g) => {
      if (g.wire !== WIRE.len) return;
      if (g.field === 1) n.inputs.push((await this.str(g)) ?? '');
      else if (g.field === 2) n.outputs.push((await this.str(g)) ?? '');
      else if (g.field === 3) n.name = (await this.str(g, 4096)) ?? '';
      else if (g.field === 4) n.opType = (await this.str(g, 4096)) ?? '';
      else if (g.field === 7) n.domain = (await this.str(g, 4096)) ?? '';
      else if (g.field === 5) await this.attribute(g, n);
    });
    return this.nodeFrom(n, scope, f);
  }

  private nodeFrom(n: DecodedNode, scope: Scope, f: ProtoField): void | Promise<void> {
    if (!n.ok) this.malformed(`node at offset ${f.tagAt}`, f.at, f.end);
    if (scope.listTensors) this.m.nodes++;
    scope.ops.set(n.opType, (scope.ops.get(n.opType) ?? 0) + 1);
    if (scope.byDomain) {
      const d = scope.byDomain.get(n.domain) ?? new Map<string, number>();
      d.set(n.opType, (d.get(n.opType) ?? 0) + 1);
      scope.byDomain.set(n.domain, d);
    }
    if (n.opType === 'Constant' && n.domain === '') this.m.constants++;
    if (QUANT_OP.test(n.opType) && this.m.quantNodes.length < ONNX_WALK.quantNodes) this.m.quantNodes.push({ opType: n.opType, domain: n.domain, inputs: n.inputs, outputs: n.outputs, ints: n.ints });
    if (n.graphs.length === 0) return;
    const nodeName = n.name || `${n.opType}#${this.m.nodes}`;
    return (async () => {
      for (const g of n.graphs) {
        if (scope.listTensors) this.m.subgraphs++;
        await this.graph(g.at, g.end, { ...scope, depth: scope.depth + 1, path: `${scope.path ? scope.path + '/' : ''}${nodeName}/${g.attr}` });
      }
    })();
  }

  /** AttributeProto { name = 1; i = 3; t = 5 (skipped); g = 6; graphs = 11 }, walked over the file. */
  private async attribute(f: ProtoField, n: DecodedNode): Promise<void> {
    let name = '';
    let i: number | undefined;
    const graphs: ProtoField[] = [];
    await this.each(f.at, f.end, `attribute at offset ${f.tagAt}`, async (g) => {
      if (g.field === 1 && g.wire === WIRE.len) name = (await this.str(g, 4096)) ?? '';
      else if (g.field === 3 && g.wire === WIRE.varint) i = int64(g.lo!, g.hi!);
      else if ((g.field === 6 || g.field === 11) && g.wire === WIRE.len) graphs.push(g);
    });
    if (i !== undefined && name) n.ints[name] = i;
    for (const g of graphs) n.graphs.push({ attr: name, at: g.at, end: g.end });
  }

  /**
   * TensorProto { dims = 1; data_type = 2; segment = 3; float_data = 4; int32_data = 5; string_data = 6;
   * int64_data = 7; name = 8; raw_data = 9; double_data = 10; uint64_data = 11; external_data = 13;
   * data_location = 14 }. Payloads are not read (packed varints are, when small, to count them).
   */
  async tensor(f: ProtoField, scope: string): Promise<OnnxTensor> {
    const t: OnnxTensor = { name: '', dataType: 0, dims: [], at: f.at, end: f.end, dataLocation: 0, segment: false, scope };
    await this.each(f.at, f.end, `tensor at offset ${f.tagAt}`, async (g) => {
      switch (g.field) {
        case 1:
          if (g.wire === WIRE.varint) t.dims.push(int64(g.lo!, g.hi!));
          else if (g.wire === WIRE.len) {
            const b = await this.r.bytes(g, 64 * 1024);
            if (b) t.dims.push(...scanPacked(b));
          }
          break;
        case 2: if (g.wire === WIRE.varint) t.dataType = int64(g.lo!, g.hi!); break;
        case 3: t.segment = true; break;
        case 8: if (g.wire === WIRE.len) t.name = (await this.str(g)) ?? ''; break;
        case 9: if (g.wire === WIRE.len) t.raw = { at: g.at, length: g.length }; break;
        case 13: {
          const b = g.wire === WIRE.len ? await this.r.bytes(g, ONNX_WALK.smallMessage) : undefined;
          const e = b && parseEntry(b, 0, b.length, 64 * 1024);
          if (e) (t.external ??= {})[e[0]] = e[1];
          break;
        }
        case 14: if (g.wire === WIRE.varint) t.dataLocation = g.value ?? 0; break;
        case 4: case 5: case 6: case 7: case 10: case 11:
          await this.typed(t, g);
          break;
      }
    });
    return t;
  }

  /** Count the elements of a typed value field without keeping them. */
  private async typed(t: OnnxTensor, g: ProtoField): Promise<void> {
    const fixed = g.field === 4 ? 4 : g.field === 10 ? 8 : 0;
    let count: number | undefined;
    let bytes = g.length;
    if (g.field === 6) count = 1; // one string per field
    else if (g.wire === WIRE.len) {
      if (fixed) count = Math.floor(g.length / fixed);
      else if (g.length <= ONNX_WALK.packedCount) {
        const b = await this.r.bytes(g, ONNX_WALK.packedCount);
        if (b) {
          count = 0;
          for (const x of b) if (x < 0x80) count++;
        }
      }
    } else {
      count = 1;
      bytes = g.wire === WIRE.i32 ? 4 : g.wire === WIRE.i64 ? 8 : g.length;
    }
    if (!t.typed) t.typed = { field: g.field, count, bytes, at: g.at };
    else if (t.typed.field === g.field) {
      t.typed.count = t.typed.count !== undefined && count !== undefined ? t.typed.count + count : undefined;
      t.typed.bytes += bytes;
    } else this.diag('MALFORMED', `tensor ${t.name || `at offset ${t.at}`} stores values in two typed fields (${t.typed.field} and ${g.field})`);
  }

  /** SparseTensorProto { values = 1; indices = 2; dims = 3 }. */
  private async sparseTensor(f: ProtoField, scope: string): Promise<OnnxSparse> {
    const s: OnnxSparse = { dims: [], scope };
    await this.each(f.at, f.end, `sparse tensor at offset ${f.tagAt}`, async (g) => {
      if ((g.field === 1 || g.field === 2) && g.wire === WIRE.len) {
        const t = await this.tensor(g, scope);
        if (g.field === 1) s.values = t;
        else s.indices = t;
      } else if (g.field === 3) {
        if (g.wire === WIRE.varint) s.dims.push(int64(g.lo!, g.hi!));
        else if (g.wire === WIRE.len) {
          const b = await this.r.bytes(g, 64 * 1024);
          const sc = b ? scanPacked(b) : [];
          s.dims.push(...sc);
        }
      }
    });
    return s;
  }

  /** FunctionProto { name = 1; node = 7; domain = 10 }: its own op histogram; subgraph weights are counted only. */
  private async func(f: ProtoField): Promise<void> {
    const fn: OnnxFunction = { name: '', domain: '', nodes: 0, ops: {} };
    const ops = new Map<string, number>();
    const nodes: ProtoField[] = [];
    await this.each(f.at, f.end, `function at offset ${f.tagAt}`, async (g) => {
      if (g.wire !== WIRE.len) return;
      if (g.field === 1) fn.name = (await this.str(g, 4096)) ?? '';
      else if (g.field === 10) fn.domain = (await this.str(g, 4096)) ?? '';
      else if (g.field === 7) nodes.push(g);
    });
    const scope: Scope = { depth: 1, path: `function ${fn.domain}.${fn.name}`, listTensors: false, ops };
    for (const n of nodes) {
      fn.nodes++;
      await this.node(n, scope);
    }
    fn.ops = Object.fromEntries(ops);
    this.m.functions.push(fn);
  }
}

/** Walk a model file. */
export async function readOnnxModel(source: ByteSource, opts: { budget?: number } = {}): Promise<OnnxModel> {
  return new OnnxWalker(source, opts).model();
}

