/**
 * The TensorFlow protobuf messages detection needs, checked field by field on a prefix of a file:
 * - SavedModel  (tensorflow/core/protobuf/saved_model.proto): saved_model_schema_version = 1, meta_graphs = 2;
 * - MetaGraphDef (tensorflow/core/protobuf/meta_graph.proto): meta_info_def = 1, graph_def = 2,
 *   saver_def = 3, collection_def = 4, signature_def = 5, asset_file_def = 6, object_graph_def = 7;
 * - MetaInfoDef: meta_graph_version = 1, stripped_op_list = 2, any_info = 3, tags = 4,
 *   tensorflow_version = 5, tensorflow_git_version = 6, stripped_default_attrs = 7, function_aliases = 8;
 * - GraphDef (tensorflow/core/framework/graph.proto): node = 1, library = 2, version = 3, versions = 4;
 * - NodeDef (node_def.proto): name = 1, op = 2, input = 3, device = 4, attr = 5, …;
 * - FingerprintDef (fingerprint.proto): five uint64 hashes = 1..5, version = 6.
 */
import { WIRE, fieldString, isPrintable, scanMessage, type ProtoField } from '../../codecs/protobuf.js';

export interface MetaGraphInfo {
  tags: string[];
  tensorflowVersion?: string;
  tensorflowGitVersion?: string;
  hasGraphDef: boolean;
  /** TF2: object_graph_def present. */
  hasObjectGraph: boolean;
  signatures: string[];
  collections: string[];
  /** Fields seen (numbers). */
  fields: Set<number>;
}

/** A message's fields in [f.at, f.end) of `buf`, prefix only when it runs past the buffer. */
function scanPart(buf: Uint8Array, f: ProtoField, maxFields = 4096) {
  return scanMessage(buf, f.at, Math.min(f.end, buf.length), { declaredEnd: f.end, maxFields });
}

/**
 * Check a MetaGraphDef in [start, min(end, buf.length)) whose real end is `declaredEnd`.
 * Undefined when it is not one.
 */
export function parseMetaGraph(buf: Uint8Array, start: number, end: number, declaredEnd: number): MetaGraphInfo | undefined {
  const s = scanMessage(buf, start, Math.min(end, buf.length), { declaredEnd, maxFields: 100_000 });
  if (!s.ok || s.fields.length === 0) return undefined;
  const out: MetaGraphInfo = { tags: [], hasGraphDef: false, hasObjectGraph: false, signatures: [], collections: [], fields: new Set() };
  for (const f of s.fields) {
    if (f.field < 1 || f.field > 7 || f.wire !== WIRE.len) return undefined;
    if ([1, 2, 3, 7].includes(f.field) && out.fields.has(f.field)) return undefined; // singular messages
    out.fields.add(f.field);
    switch (f.field) {
      case 1:
        if (!metaInfo(buf, f, out)) return undefined;
        break;
      case 2:
        out.hasGraphDef = true;
        if (f.length > 0 && !graphDefPrefix(buf, f)) return undefined;
        break;
      case 4:
      case 5: {
        const key = mapKey(buf, f);
        if (key === null) return undefined;
        if (key !== undefined) (f.field === 4 ? out.collections : out.signatures).push(key);
        break;
      }
      case 7:
        out.hasObjectGraph = true;
        break;
    }
  }
  return out;
}

/** MetaInfoDef: every field with its wire type; tags and versions printable. */
function metaInfo(buf: Uint8Array, f: ProtoField, out: MetaGraphInfo): boolean {
  const s = scanPart(buf, f, 1024);
  if (!s.ok) return false;
  for (const g of s.fields) {
    if (g.field === 7) {
      if (g.wire !== WIRE.varint) return false;
      continue;
    }
    if (g.field < 1 || g.field > 8 || g.wire !== WIRE.len) return false;
    if (g.field === 2 && !g.truncated) {
      // OpList { repeated OpDef op = 1 }
      const ops = scanMessage(buf, g.at, g.end, { maxFields: 10_000 });
      if (!ops.ok || ops.fields.some((o) => o.field !== 1 || o.wire !== WIRE.len)) return false;
    }
    if (g.field === 1 || g.field === 4 || g.field === 5 || g.field === 6) {
      if (g.truncated) continue;
      const t = fieldString(buf, g, 1024);
      if (t === undefined || !isPrintable(t)) return false;
      if (g.field === 4) out.tags.push(t);
      else if (g.field === 5) out.tensorflowVersion = t;
      else if (g.field === 6) out.tensorflowGitVersion = t;
    }
  }
  return true;
}

/** The key of a map<string, …> entry; undefined when cut by the buffer, null when malformed. */
function mapKey(buf: Uint8Array, f: ProtoField): string | undefined | null {
  const s = scanPart(buf, f, 4);
  if (!s.ok) return null;
  const k = s.fields[0];
  if (!k) return f.length === 0 ? '' : undefined;
  if (k.field !== 1 || k.wire !== WIRE.len) return null;
  if (k.truncated) return undefined;
  const t = fieldString(buf, k, 1024);
  return t === undefined || !isPrintable(t) ? null : t;
}

/** The first nodes of a GraphDef look like NodeDefs (or the prefix is empty / cut early). */
function graphDefPrefix(buf: Uint8Array, f: ProtoField): boolean {
  const g = parseGraphDef(buf, f.at, Math.min(f.end, buf.length), f.end);
  return g !== undefined;
}

export interface GraphDefInfo {
  nodes: number;
  ops: string[];
  producer?: number;
  hasLibrary: boolean;
  /** Nodes checked field by field. */
  checked: number;
}

/** A TF op name: CamelCase, or an internal `_Name`. */
const OP_NAME = /^_?[A-Z][A-Za-z0-9_]{0,127}$/;

/**
 * Check a GraphDef in [start, end) of `buf` (real end `declaredEnd`): node = 1 (NodeDef), library = 2,
 * version = 3 (varint), versions = 4 (VersionDef). Undefined when it is not one.
 */
export function parseGraphDef(buf: Uint8Array, start: number, end: number, declaredEnd: number): GraphDefInfo | undefined {
  const s = scanMessage(buf, start, end, { declaredEnd, maxFields: 200_000 });
  if (!s.ok) return undefined;
  const out: GraphDefInfo = { nodes: 0, ops: [], hasLibrary: false, checked: 0 };
  for (const f of s.fields) {
    if (f.field === 1 && f.wire === WIRE.len) {
      out.nodes++;
      if (out.checked < 32 && !f.truncated) {
        const op = nodeDef(buf, f);
        if (op === undefined) return undefined;
        out.checked++;
        if (!out.ops.includes(op) && out.ops.length < 16) out.ops.push(op);
      }
    } else if (f.field === 2 && f.wire === WIRE.len) out.hasLibrary = true;
    else if (f.field === 3 && f.wire === WIRE.varint) continue;
    else if (f.field === 4 && f.wire === WIRE.len) {
      if (f.truncated) continue;
      const v = scanMessage(buf, f.at, f.end, { maxFields: 64 });
      if (!v.ok) return undefined;
      for (const g of v.fields) {
        if (g.field === 1 && g.wire === WIRE.varint) out.producer = g.value;
        else if (!((g.field === 2 && g.wire === WIRE.varint) || (g.field === 3 && (g.wire === WIRE.varint || g.wire === WIRE.len)))) return undefined;
      }
    } else return undefined;
  }
  return out;
}

/** NodeDef: name = 1 and op = 2 printable, the rest LEN fields 3..7. Returns the op. */
function nodeDef(buf: Uint8Array, f: ProtoField): string | undefined {
  const s = scanMessage(buf, f.at, f.end, { maxFields: 4096 });
  if (!s.ok) return undefined;
  let name: string | undefined;
  let op: string | undefined;
  for (const g of s.fields) {
    if (g.wire !== WIRE.len || g.field < 1 || g.field > 7) return undefined;
    if (g.field === 1) name = fieldString(buf, g, 4096);
    else if (g.field === 2) op = fieldString(buf, g, 256);
  }
  if (name === undefined || !isPrintable(name) || op === undefined || !OP_NAME.test(op)) return undefined;
  return op;
}

export interface SavedModelInfo {
  schemaVersion?: number;
  metaGraphs: MetaGraphInfo[];
  /** Meta graphs counted (all of them when the file is complete within the head). */
  metaGraphCount: number;
  complete: boolean;
}

/** SavedModel { int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2; } */
export function parseSavedModel(head: Uint8Array, size: number): SavedModelInfo | undefined {
  const s = scanMessage(head, 0, head.length, { declaredEnd: size, maxFields: 1024 });
  if (!s.ok || s.fields.length === 0) return undefined;
  const out: SavedModelInfo = { metaGraphs: [], metaGraphCount: 0, complete: s.complete };
  for (const f of s.fields) {
    if (f.field === 1 && f.wire === WIRE.varint) {
      if (out.schemaVersion !== undefined || f.value === undefined || f.value > 8) return undefined;
      out.schemaVersion = f.value;
    } else if (f.field === 2 && f.wire === WIRE.len) {
      out.metaGraphCount++;
      if (out.metaGraphs.length < 8) {
        const m = parseMetaGraph(head, f.at, f.end, f.end);
        if (!m) return undefined;
        out.metaGraphs.push(m);
      }
    } else return undefined;
  }
  if (out.metaGraphCount === 0) return undefined;
  const first = out.metaGraphs[0]!;
  // The first meta graph must say something a MetaGraphDef says (its prefix may be short).
  if (first.fields.size === 0) return undefined;
  return out;
}

/** FingerprintDef: hashes 1..5 (varint) and version 6 (VersionDef). */
export function isFingerprint(head: Uint8Array, size: number): boolean {
  if (size > 4096 || head.length !== size) return false;
  const s = scanMessage(head);
  if (!s.ok || !s.complete || s.fields.length < 2) return false;
  return s.fields.every((f) => (f.field >= 1 && f.field <= 5 && f.wire === WIRE.varint) || (f.field === 6 && f.wire === WIRE.len));
}
