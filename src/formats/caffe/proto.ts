/**
 * Caffe's NetParameter (https://github.com/BVLC/caffe/blob/master/src/caffe/proto/caffe.proto),
 * checked on a prefix of a `.caffemodel`:
 * NetParameter { name = 1; layers = 2 (V1LayerParameter); input = 3; input_dim = 4; force_backward = 5;
 * state = 6; debug_info = 7; input_shape = 8; layer = 100 (LayerParameter) }.
 * LayerParameter { name = 1; type = 2 (string); bottom = 3; top = 4; … blobs = 7; …_param = 100+ }.
 * V1LayerParameter { layer = 1 (V0); bottom = 2; top = 3; name = 4; type = 5 (enum); blobs = 6; … }.
 */
import { SourceFieldReader, WIRE, fieldString, isPrintable, scanMessage, type ProtoField, type WireType } from '../../codecs/protobuf.js';

const NET_PARAMETER: Record<number, readonly WireType[]> = {
  1: [WIRE.len],
  2: [WIRE.len],
  3: [WIRE.len],
  4: [WIRE.varint, WIRE.len],
  5: [WIRE.varint],
  6: [WIRE.len],
  7: [WIRE.varint],
  8: [WIRE.len],
  100: [WIRE.len],
};

/** V1LayerParameter.LayerType (old caffemodels store the layer type as this enum). */
export const V1_LAYER_TYPES: Record<number, string> = {
  0: 'None', 1: 'Accuracy', 2: 'BNLL', 3: 'Concat', 4: 'Convolution', 5: 'Data', 6: 'Dropout', 7: 'EuclideanLoss',
  8: 'Flatten', 9: 'HDF5Data', 10: 'HDF5Output', 11: 'Im2col', 12: 'ImageData', 13: 'InfogainLoss', 14: 'InnerProduct',
  15: 'LRN', 16: 'MultinomialLogisticLoss', 17: 'Pooling', 18: 'ReLU', 19: 'Sigmoid', 20: 'Softmax', 21: 'SoftmaxWithLoss',
  22: 'Split', 23: 'TanH', 24: 'WindowData', 25: 'Eltwise', 26: 'Power', 27: 'SigmoidCrossEntropyLoss', 28: 'HingeLoss',
  29: 'MemoryData', 30: 'ArgMax', 31: 'Threshold', 32: 'DummyData', 33: 'Slice', 34: 'MVN', 35: 'AbsVal', 36: 'Silence',
  37: 'ContrastiveLoss', 38: 'Exp', 39: 'Deconvolution',
};

/** A Caffe layer type name as written in prototxt ("Convolution", "PReLU", "Python" …). */
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export interface NetHead {
  name?: string;
  /** `layer` (100) or legacy `layers` (2). */
  v1: boolean;
  inputs: string[];
}

export interface LayerInfo {
  name?: string;
  type?: string;
}

/** LayerParameter prefix: name/type printable; known small fields with their wire types. */
function layer(buf: Uint8Array, f: ProtoField): LayerInfo | undefined {
  const s = scanMessage(buf, f.at, Math.min(f.end, buf.length), { declaredEnd: f.end, maxFields: 4096 });
  if (!s.ok) return undefined;
  const out: LayerInfo = {};
  for (const g of s.fields) {
    if (g.field === 10) {
      if (g.wire !== WIRE.varint) return undefined;
    } else if (g.field === 5) {
      if (g.wire !== WIRE.i32 && g.wire !== WIRE.len) return undefined;
    } else if (g.field === 11) {
      if (g.wire !== WIRE.varint && g.wire !== WIRE.len) return undefined;
    } else if (g.wire !== WIRE.len) return undefined;
    if (g.field === 1 || g.field === 2) {
      if (g.truncated) continue;
      const t = fieldString(buf, g, 1024);
      if (t === undefined || !isPrintable(t)) return undefined;
      if (g.field === 1) out.name = t;
      else {
        if (!TYPE_NAME.test(t)) return undefined;
        out.type = t;
      }
    }
  }
  return out.name !== undefined || out.type !== undefined ? out : undefined;
}

/** V1LayerParameter prefix: name = 4 printable, type = 5 a LayerType. */
function layerV1(buf: Uint8Array, f: ProtoField): LayerInfo | undefined {
  const s = scanMessage(buf, f.at, Math.min(f.end, buf.length), { declaredEnd: f.end, maxFields: 4096 });
  if (!s.ok) return undefined;
  const out: LayerInfo = {};
  const floats = new Set([7, 8, 35]);
  for (const g of s.fields) {
    if (g.field === 5 || g.field === 1002) {
      if (g.wire !== WIRE.varint) return undefined;
      if (g.field === 5) {
        const t = g.value !== undefined ? V1_LAYER_TYPES[g.value] : undefined;
        if (!t) return undefined;
        out.type = t;
      }
    } else if (floats.has(g.field)) {
      if (g.wire !== WIRE.i32 && g.wire !== WIRE.len) return undefined;
    } else if (g.wire !== WIRE.len) return undefined;
    if (g.field === 4 && !g.truncated) {
      const t = fieldString(buf, g, 1024);
      if (t === undefined || !isPrintable(t)) return undefined;
      out.name = t;
    }
    if (g.field === 1 && !g.truncated) {
      // V0LayerParameter { name = 1; type = 2 (string) }
      const v0 = layer(buf, g);
      if (v0) {
        out.name ??= v0.name;
        out.type ??= v0.type;
      }
    }
  }
  return out.name !== undefined || out.type !== undefined ? out : undefined;
}

/**
 * Check the head of a file against NetParameter. Returns the first layers seen, or undefined when
 * the bytes are not a Caffe net (no layer, a wrong wire type, a field NetParameter does not have).
 */
export function parseNetHead(head: Uint8Array, size: number): { net: NetHead; layers: LayerInfo[] } | undefined {
  const scan = scanMessage(head, 0, head.length, { declaredEnd: size, maxFields: 100_000 });
  if (!scan.ok || scan.fields.length === 0) return undefined;
  const net: NetHead = { v1: false, inputs: [] };
  const layers: LayerInfo[] = [];
  let kinds = 0;
  for (const f of scan.fields) {
    const wires = NET_PARAMETER[f.field];
    if (!wires || !wires.includes(f.wire)) return undefined;
    if (f.field === 1 || f.field === 3) {
      if (f.truncated) return undefined; // a name or input running past 64 KiB is not a Caffe net
      const t = fieldString(head, f, 4096);
      if (t === undefined || !isPrintable(t)) return undefined;
      if (f.field === 1) {
        if (net.name !== undefined) return undefined;
        net.name = t;
      } else net.inputs.push(t);
    } else if (f.field === 100 || f.field === 2) {
      const info = f.field === 100 ? layer(head, f) : layerV1(head, f);
      if (!info) return undefined;
      layers.push(info);
      if (f.field === 2) net.v1 = true;
      kinds |= f.field === 100 ? 1 : 2;
    }
  }
  if (layers.length === 0 || kinds === 3) return undefined;
  return { net, layers };
}

/**
 * Count the layers of the whole file (one small read per layer; blobs are skipped by length) and
 * read each layer's type. Stops at the read budget; `partial` then says so.
 */
export async function walkLayers(reader: SourceFieldReader, v1: boolean): Promise<{ count: number; types: Map<string, number>; partial: boolean }> {
  const types = new Map<string, number>();
  let count = 0;
  let partial = false;
  const end = reader.source.size;
  let p = 0;
  while (p < end) {
    const f = await reader.field(p, end);
    if (!f) {
      partial = true;
      break;
    }
    p = f.end;
    if (f.field !== (v1 ? 2 : 100) || f.wire !== WIRE.len) continue;
    count++;
    let type: string | undefined;
    for await (const g of reader.fields(f.at, f.end, 16)) {
      if (!v1 && g.field === 2 && g.wire === WIRE.len) type = await reader.string(g, 64);
      if (v1 && g.field === 5 && g.wire === WIRE.varint && g.value !== undefined) type = V1_LAYER_TYPES[g.value];
      if (type !== undefined) break;
    }
    if (type) types.set(type, (types.get(type) ?? 0) + 1);
    if (reader.exhausted) {
      partial = true;
      break;
    }
  }
  return { count, types, partial };
}
