/**
 * NodeProto / AttributeProto decoded from bytes in memory (onnx.proto: NodeProto { input = 1;
 * output = 2; name = 3; op_type = 4; attribute = 5; domain = 7 }, AttributeProto { name = 1; i = 3;
 * g = 6; graphs = 11 }): what the op histogram and the quantization summary need. Subgraphs are
 * returned as file ranges for the walker to descend into.
 */
import { WIRE, int64, readVarint, scanMessage, type ProtoField } from '../../codecs/protobuf.js';
import { decodeUtf8 } from '../../io/bytes.js';

/** op_types whose inputs are kept to describe quantization. */
export const QUANT_OP = /^(QuantizeLinear|DequantizeLinear|DynamicQuantizeLinear|QLinear\w+|QGemm|QAttention|QOrderedMatMul|MatMulInteger|ConvInteger|MatMulIntegerToFloat|DynamicQuantizeMatMul|DynamicQuantizeLSTM|MatMulNBits|MatMulBnb4|MatMulFpQ4|GatherBlockQuantized|QMoE|\w*Quant\w*)$/;

/** Nodes up to this size are decoded from the window in one go. */
export const NODE_INLINE = 256 * 1024;

export interface DecodedNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  ints: Record<string, number>;
  /** Subgraph attributes (absolute offsets of the GraphProto payloads). */
  graphs: { attr: string; at: number; end: number }[];
  ok: boolean;
}

/** UTF-8 text of b[at, end), with a fast path for short ASCII (names and op types). */
export function text(b: Uint8Array, at: number, end: number): string {
  if (end - at <= 64) {
    let s = '';
    for (let i = at; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return decodeUtf8(b.subarray(at, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decodeUtf8(b.subarray(at, end));
}

/** Decode a NodeProto held in memory; `base` is the file offset of b[0]. */
export function decodeNode(b: Uint8Array, base: number): DecodedNode {
  const n: DecodedNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], ints: {}, graphs: [], ok: true };
  const s = scanMessage(b);
  n.ok = s.ok;
  for (const f of s.fields) {
    if (f.wire !== WIRE.len) continue;
    if (f.field === 1) n.inputs.push(text(b, f.at, f.end));
    else if (f.field === 2) n.outputs.push(text(b, f.at, f.end));
    else if (f.field === 3) n.name = text(b, f.at, f.end);
    else if (f.field === 4) n.opType = text(b, f.at, f.end);
    else if (f.field === 7) n.domain = text(b, f.at, f.end);
    else if (f.field === 5) decodeAttribute(b, f, base, n);
  }
  return n;
}

function decodeAttribute(b: Uint8Array, f: ProtoField, base: number, n: DecodedNode): void {
  const a = scanMessage(b, f.at, f.end);
  if (!a.ok) n.ok = false;
  let name = '';
  let i: number | undefined;
  let graphs: ProtoField[] | undefined;
  for (const g of a.fields) {
    if (g.field === 1 && g.wire === WIRE.len) name = text(b, g.at, g.end);
    else if (g.field === 3 && g.wire === WIRE.varint) i = int64(g.lo!, g.hi!);
    else if ((g.field === 6 || g.field === 11) && g.wire === WIRE.len) (graphs ??= []).push(g);
  }
  if (i !== undefined && name) n.ints[name] = i;
  if (graphs) for (const g of graphs) n.graphs.push({ attr: name, at: base + g.at, end: base + g.end });
}

export function scanPacked(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 0; p < b.length && out.length < 4096; ) {
    const v = readVarint(b, p);
    if (!v) break;
    out.push(int64(v.lo, v.hi));
    p += v.size;
  }
  return out;
}

