/**
 * A TF.js graph model's topology (a GraphDef as JSON, tfjs-converter) as a graph: ops = node op
 * counts of the main graph (function library totals apart); inputs/outputs from the `signature`
 * (top-level, or inside `userDefinedMetadata`), keyed by signature names, else Placeholder nodes
 * and the nodes no other node consumes (Const/NoOp/Placeholder excluded). Also the ops of a binary
 * GraphDef (`tensorflowjs_model.pb` of tfjs-converter 0.x), read with the protobuf wire reader
 * (GraphDef.node = 1; NodeDef.name = 1, op = 2, input = 3 — tensorflow/core/framework/graph.proto).
 */
import { isObject } from '../../identify/probe.js';
import { fieldString, readField, WIRE } from '../../codecs/protobuf.js';
import type { Dim, GraphIO } from '../../types.js';

type Obj = Record<string, unknown>;

const TF_DTYPES: Record<string, string> = {
  FLOAT: 'f32', DOUBLE: 'f64', INT32: 'i32', UINT8: 'u8', INT16: 'i16', INT8: 'i8', STRING: 'string', COMPLEX64: 'c64', INT64: 'i64', BOOL: 'bool',
  BFLOAT16: 'bf16', UINT16: 'u16', COMPLEX128: 'c128', HALF: 'f16', RESOURCE: 'resource', VARIANT: 'variant', UINT32: 'u32', UINT64: 'u64',
};

/** DT_FLOAT → f32 (unknown names lowercased). */
export function tfDtype(dt: unknown): string | null {
  if (typeof dt !== 'string' || !dt) return null;
  const base = dt.startsWith('DT_') ? dt.slice(3) : dt;
  return TF_DTYPES[base] ?? base.toLowerCase();
}

/** A TensorShapeProto as JSON: unknownRank → null; dims with size (strings in JSON) → numbers, -1 → '?'. */
export function tfShape(s: unknown): Dim[] | null {
  if (!isObject(s) || s.unknownRank) return isObject(s) ? null : [];
  const dims = Array.isArray(s.dim) ? s.dim : [];
  return dims.map((d) => {
    const n = isObject(d) ? Number(d.size ?? 0) : 0;
    return Number.isFinite(n) && n >= 0 ? n : '?';
  });
}

export interface TfjsGraph {
  graph: { inputs: GraphIO[]; outputs: GraphIO[]; ops: Record<string, number> };
  /** Where inputs/outputs came from. */
  ioSource: 'signature' | 'userDefinedMetadata.signature' | 'placeholders';
  nodes: number;
  libraryFunctions: number;
  libraryOps: Record<string, number>;
  versions?: unknown;
}

export function graphModel(json: Obj, topo: Obj): TfjsGraph {
  const nodes = (Array.isArray(topo.node) ? topo.node : []).filter(isObject);
  const ops: Record<string, number> = {};
  for (const n of nodes) {
    const op = typeof n.op === 'string' ? n.op : '?';
    ops[op] = (ops[op] ?? 0) + 1;
  }
  const udm = isObject(json.userDefinedMetadata) ? json.userDefinedMetadata : undefined;
  const sig = isObject(json.signature) ? json.signature : udm && isObject(udm.signature) ? udm.signature : undefined;
  let inputs: GraphIO[];
  let outputs: GraphIO[];
  let ioSource: TfjsGraph['ioSource'];
  if (sig) {
    const entries = (m: unknown): GraphIO[] =>
      isObject(m) ? Object.entries(m).map(([k, v]) => ({ name: k, dtype: isObject(v) ? tfDtype(v.dtype) : null, shape: isObject(v) ? tfShape(v.tensorShape ?? {}) : null })) : [];
    inputs = entries(sig.inputs);
    outputs = entries(sig.outputs);
    ioSource = isObject(json.signature) ? 'signature' : 'userDefinedMetadata.signature';
  } else {
    inputs = nodes
      .filter((n) => n.op === 'Placeholder' && typeof n.name === 'string')
      .map((n) => {
        const attr = isObject(n.attr) ? n.attr : {};
        const dt = isObject(attr.dtype) ? attr.dtype.type : undefined;
        const shp = isObject(attr.shape) ? attr.shape.shape : undefined;
        return { name: n.name as string, dtype: tfDtype(dt), shape: tfShape(shp ?? {}) };
      });
    const consumed = new Set<string>();
    for (const n of nodes) for (const i of Array.isArray(n.input) ? n.input : []) if (typeof i === 'string') consumed.add(i.replace(/^\^/, '').split(':')[0]!);
    outputs = nodes
      .filter((n) => typeof n.name === 'string' && !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp' && n.op !== 'Placeholder')
      .map((n) => ({ name: n.name as string, dtype: null, shape: null }));
    ioSource = 'placeholders';
  }
  const lib = isObject(topo.library) && Array.isArray(topo.library.function) ? topo.library.function.filter(isObject) : [];
  const libraryOps: Record<string, number> = {};
  for (const f of lib) for (const n of Array.isArray(f.nodeDef) ? f.nodeDef : []) if (isObject(n) && typeof n.op === 'string') libraryOps[n.op] = (libraryOps[n.op] ?? 0) + 1;
  return { graph: { inputs, outputs, ops }, ioSource, nodes: nodes.length, libraryFunctions: lib.length, libraryOps, ...(topo.versions !== undefined ? { versions: topo.versions } : {}) };
}

/** Op counts and node names of a binary GraphDef (undefined when it does not parse as one). */
export function graphDefOps(pb: Uint8Array): { ops: Record<string, number>; nodes: number } | undefined {
  const ops: Record<string, number> = {};
  let nodes = 0;
  for (let p = 0; p < pb.length; ) {
    const f = readField(pb, p, pb.length);
    if (!f) return undefined;
    p = f.end;
    if (f.field !== 1 || f.wire !== WIRE.len) continue;
    nodes++;
    for (let q = f.at; q < f.at + f.length; ) {
      const g = readField(pb, q, f.at + f.length);
      if (!g) return undefined;
      q = g.end;
      if (g.field === 2 && g.wire === WIRE.len) {
        const op = fieldString(pb, g, 256) ?? '?';
        ops[op] = (ops[op] ?? 0) + 1;
      }
    }
  }
  return nodes ? { ops, nodes } : undefined;
}
