/**
 * The parts of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) that detection
 * needs: the ModelProto top level from the probe head, and a bounded walk of GraphProto over the
 * file that finds initializers stored as external data without reading any tensor payload.
 */
import {
  SourceFieldReader,
  WIRE,
  fieldString,
  isPrintable,
  scanMessage,
  schemaFit,
  type FieldSchema,
  type ProtoField,
} from '../../codecs/protobuf.js';

/** ModelProto field numbers → wire types. */
export const MODEL_PROTO: FieldSchema = {
  1: WIRE.varint, // ir_version
  2: WIRE.len, // producer_name
  3: WIRE.len, // producer_version
  4: WIRE.len, // domain
  5: WIRE.varint, // model_version
  6: WIRE.len, // doc_string
  7: WIRE.len, // graph
  8: WIRE.len, // opset_import
  14: WIRE.len, // metadata_props
  20: WIRE.len, // training_info
  25: WIRE.len, // functions
  26: WIRE.len, // configuration
};

/** GraphProto: every field is a message or a string. */
export const GRAPH_PROTO: FieldSchema = {
  1: WIRE.len, // node
  2: WIRE.len, // name
  5: WIRE.len, // initializer
  10: WIRE.len, // doc_string
  11: WIRE.len, // input
  12: WIRE.len, // output
  13: WIRE.len, // value_info
  14: WIRE.len, // quantization_annotation
  15: WIRE.len, // sparse_initializer
  16: WIRE.len, // metadata_props
};

/** Highest IR version accepted (IR 11 is current in 2025; leave room for a few more). */
export const MAX_IR_VERSION = 15;

export interface OpsetId {
  domain: string;
  version: number;
}

/** What the probe head says about a ModelProto. */
export interface ModelHead {
  irVersion: number;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  /** Absolute position of the graph payload, when its tag is in the head. */
  graph?: { at: number; end: number };
  /** GraphProto fields seen at the start of the graph (within the head). */
  graphFieldsSeen: number;
  opsets: OpsetId[];
  metadataKeys: string[];
  /** Offset where the top-level walk stopped because the head ended (undefined when complete). */
  resumeAt?: number;
  /** A field 20/25 (training_info, functions) was seen. */
  training: boolean;
  functions: number;
}

/** One OperatorSetIdProto { domain = 1; version = 2 }. */
export function parseOpset(buf: Uint8Array, at = 0, end = buf.length): OpsetId | undefined {
  if (end > buf.length || end - at > 4096) return undefined;
  const s = scanMessage(buf, at, end);
  if (!s.ok || !s.complete) return undefined;
  let domain = '';
  let version: number | undefined;
  for (const g of s.fields) {
    if (g.field === 1 && g.wire === WIRE.len) domain = fieldString(buf, g, 256) ?? '';
    else if (g.field === 2 && g.wire === WIRE.varint) version = g.value;
    else return undefined;
  }
  return version === undefined ? undefined : { domain, version };
}

/** StringStringEntryProto { key = 1; value = 2 } → [key, value]. */
export function parseEntry(buf: Uint8Array, at = 0, end = buf.length, maxValue = 4096): [string, string] | undefined {
  if (end > buf.length || end - at > maxValue + 512) return undefined;
  const s = scanMessage(buf, at, end);
  if (!s.ok || !s.complete) return undefined;
  let key: string | undefined;
  let value = '';
  for (const g of s.fields) {
    if (g.field === 1 && g.wire === WIRE.len) key = fieldString(buf, g, 512);
    else if (g.field === 2 && g.wire === WIRE.len) value = fieldString(buf, g, maxValue) ?? '';
    else return undefined;
  }
  return key === undefined ? undefined : [key, value];
}

/**
 * Check the head of a file against ModelProto: ir_version present and plausible, every field a
 * ModelProto field with its wire type, strings printable, and a graph (or a head cut before it).
 * Undefined when the bytes are not an ONNX model.
 */
export function parseModelHead(head: Uint8Array, size: number): ModelHead | undefined {
  const scan = scanMessage(head, 0, head.length, { declaredEnd: size });
  if (!scan.ok || scan.fields.length === 0) return undefined;
  const fit = schemaFit(scan.fields, MODEL_PROTO);
  if (fit.wrong > 0 || fit.unknown > 0) return undefined;
  const out: ModelHead = { irVersion: 0, graphFieldsSeen: 0, opsets: [], metadataKeys: [], training: false, functions: 0 };
  let sawIr = false;
  const seen = new Set<number>();
  for (const f of scan.fields) {
    // Scalars and strings appear once (protobuf allows repeats, writers never emit them).
    if (seen.has(f.field) && [1, 2, 3, 4, 5, 6, 7].includes(f.field)) return undefined;
    seen.add(f.field);
    switch (f.field) {
      case 1:
        if (f.value === undefined || f.value < 1 || f.value > MAX_IR_VERSION) return undefined;
        out.irVersion = f.value;
        sawIr = true;
        break;
      case 2:
      case 3:
      case 4: {
        const s = fieldString(head, f, 1024);
        if (s === undefined || !isPrintable(s)) return undefined;
        if (f.field === 2) out.producerName = s;
        else if (f.field === 3) out.producerVersion = s;
        else out.domain = s;
        break;
      }
      case 5:
        out.modelVersion = f.value;
        break;
      case 7: {
        out.graph = { at: f.at, end: f.end };
        const g = scanMessage(head, f.at, Math.min(f.end, head.length), { declaredEnd: f.end, maxFields: 64 });
        if (!g.ok) return undefined;
        const gf = schemaFit(g.fields, GRAPH_PROTO);
        if (gf.wrong > 0 || gf.unknown > 0) return undefined;
        out.graphFieldsSeen = g.fields.length;
        break;
      }
      case 8: {
        const o = f.truncated ? undefined : parseOpset(head, f.at, f.end);
        if (o) out.opsets.push(o);
        else if (!f.truncated) return undefined;
        break;
      }
      case 14: {
        const e = f.truncated ? undefined : parseEntry(head, f.at, f.end);
        if (e) out.metadataKeys.push(e[0]);
        break;
      }
      case 20:
        out.training = true;
        break;
      case 25:
        out.functions++;
        break;
    }
  }
  if (!sawIr) return undefined;
  if (!scan.complete) {
    const last = scan.fields[scan.fields.length - 1]!;
    out.resumeAt = last.end; // the next top-level field starts here (past a field cut by the head)
  }
  // A model without a graph is only plausible when the head was cut before it.
  if (!out.graph && scan.complete && out.functions === 0) return undefined;
  return out;
}

/** Read the top-level fields after the head (opset_import, metadata_props after a big graph). */
export async function readTrailingFields(reader: SourceFieldReader, from: number, out: ModelHead): Promise<void> {
  const end = reader.source.size;
  for (let p = from, n = 0; p < end && n < 256; n++) {
    const f = await reader.field(p, end);
    if (!f) return;
    p = f.end;
    const w = MODEL_PROTO[f.field];
    if (w === undefined || w !== f.wire) return;
    if (f.field === 7 && !out.graph) out.graph = { at: f.at, end: f.end };
    if (f.field === 8 || f.field === 14) {
      const b = await reader.bytes(f, 8192);
      if (!b) continue;
      if (f.field === 8) {
        const o = parseOpset(b);
        if (o) out.opsets.push(o);
      } else {
        const e = parseEntry(b);
        if (e) out.metadataKeys.push(e[0]);
      }
    }
    if (f.field === 25) out.functions++;
    if (f.field === 20) out.training = true;
  }
}

/** An initializer whose data lives in another file. */
export interface ExternalTensor {
  name: string;
  location: string;
  offset?: number;
  length?: number;
}

export interface GraphSummary {
  nodes: number;
  initializers: number;
  sparseInitializers: number;
  external: ExternalTensor[];
  /** Initializers with data_location = EXTERNAL but no usable `location` entry. */
  externalWithoutLocation: number;
  /** The walk stopped early (read budget or a bad field); counts are lower bounds. */
  partial: boolean;
}

/**
 * Walk GraphProto fields over the file: count nodes, and look into every initializer (and sparse
 * initializer) for external_data / data_location. Tensor payloads (raw_data …) are skipped by length.
 */
export async function walkGraph(reader: SourceFieldReader, at: number, end: number): Promise<GraphSummary> {
  const out: GraphSummary = { nodes: 0, initializers: 0, sparseInitializers: 0, external: [], externalWithoutLocation: 0, partial: false };
  for (let p = at; ; ) {
    if (p >= end) {
      if (p !== end) out.partial = true;
      break;
    }
    // fieldNow: no promise for fields already in the window (graphs of 100k+ nodes)
    const f = reader.fieldNow(p, end) ?? (await reader.field(p, end));
    if (!f) {
      out.partial = true;
      break;
    }
    p = f.end;
    if (GRAPH_PROTO[f.field] !== f.wire) {
      out.partial = true;
      break;
    }
    if (f.field === 1) out.nodes++;
    else if (f.field === 5) {
      out.initializers++;
      if (!(await tensor(reader, f, out))) out.partial = true;
    } else if (f.field === 15) {
      out.sparseInitializers++;
      // SparseTensorProto { values = 1; indices = 2 } are TensorProtos.
      for await (const g of reader.fields(f.at, f.end, 64)) {
        if ((g.field === 1 || g.field === 2) && g.wire === WIRE.len && !(await tensor(reader, g, out))) out.partial = true;
      }
    }
    if (reader.exhausted) {
      out.partial = true;
      break;
    }
  }
  return out;
}

/** Look into one TensorProto: name = 8, external_data = 13, data_location = 14. */
async function tensor(reader: SourceFieldReader, f: ProtoField, out: GraphSummary): Promise<boolean> {
  let name = '';
  let external = false;
  const entries: Record<string, string> = {};
  const it = reader.fields(f.at, f.end, 4096);
  for (;;) {
    const r = await it.next();
    if (r.done) {
      if (!r.value.complete) return false;
      break;
    }
    const g = r.value;
    if (g.field === 8 && g.wire === WIRE.len) name = (await reader.string(g, 4096)) ?? '';
    else if (g.field === 14 && g.wire === WIRE.varint) external = g.value === 1;
    else if (g.field === 13 && g.wire === WIRE.len) {
      const b = await reader.bytes(g, 8192);
      if (!b) continue;
      const s = scanMessage(b);
      if (!s.ok) continue;
      let key: string | undefined;
      let value: string | undefined;
      for (const h of s.fields) {
        if (h.field === 1 && h.wire === WIRE.len) key = fieldString(b, h, 512);
        else if (h.field === 2 && h.wire === WIRE.len) value = fieldString(b, h, 4096);
      }
      if (key !== undefined && value !== undefined) entries[key] = value;
    }
  }
  if (!external && entries.location === undefined) return true;
  if (entries.location === undefined) {
    out.externalWithoutLocation++;
    return true;
  }
  const num = (s: string | undefined): number | undefined => (s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : undefined);
  out.external.push({ name, location: entries.location, offset: num(entries.offset), length: num(entries.length) });
  return true;
}
