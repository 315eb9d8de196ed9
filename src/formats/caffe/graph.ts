/**
 * A Caffe network as a graph, from a `.prototxt` (text NetParameter) or from the layers of a binary
 * caffemodel, with the reference reader's definitions: ops = layer type counts; inputs = the net's
 * `input` names with `input_shape[i].dim`, else `input_dim[4i..4i+4]` (f32; null shape when
 * neither); outputs = tops that no layer consumes as a bottom (names, file order). `Input` layers
 * are reported separately (the reference lists only `input` fields as inputs).
 */
import type { GraphIO } from '../../types.js';
import { V1_LAYER_TYPES } from './proto.js';
import { last, messages, numbers, strings, type TextMessage } from './prototxt.js';

export interface GraphLayer {
  name: string;
  type: string;
  bottoms: string[];
  tops: string[];
  /** Input layer shapes (input_param { shape { dim } }). */
  shapes?: number[][];
}

export interface CaffeGraph {
  name?: string;
  inputs: GraphIO[];
  outputs: GraphIO[];
  ops: Record<string, number>;
  /** Tops of `Input` layers with their declared shapes. */
  inputLayers: GraphIO[];
  layerCount: number;
  /** Uses V1 `layers` (enum types). */
  v1: boolean;
}

/** V1LayerParameter.LayerType enum names (caffe.proto) → the type names Caffe upgrades them to. */
const V1_ENUM = ['NONE', 'ACCURACY', 'BNLL', 'CONCAT', 'CONVOLUTION', 'DATA', 'DROPOUT', 'EUCLIDEAN_LOSS', 'FLATTEN', 'HDF5_DATA', 'HDF5_OUTPUT', 'IM2COL', 'IMAGE_DATA', 'INFOGAIN_LOSS', 'INNER_PRODUCT', 'LRN', 'MULTINOMIAL_LOGISTIC_LOSS', 'POOLING', 'RELU', 'SIGMOID', 'SOFTMAX', 'SOFTMAX_LOSS', 'SPLIT', 'TANH', 'WINDOW_DATA', 'ELTWISE', 'POWER', 'SIGMOID_CROSS_ENTROPY_LOSS', 'HINGE_LOSS', 'MEMORY_DATA', 'ARGMAX', 'THRESHOLD', 'DUMMY_DATA', 'SLICE', 'MVN', 'ABSVAL', 'SILENCE', 'CONTRASTIVE_LOSS', 'EXP', 'DECONVOLUTION'];

export function v1TypeName(t: string | number | undefined): string {
  if (typeof t === 'number') return V1_LAYER_TYPES[t] ?? `V1Type${t}`;
  if (t === undefined) return '';
  const i = V1_ENUM.indexOf(t);
  return i >= 0 ? V1_LAYER_TYPES[i]! : t;
}

/** Build the graph from layers and the net's input fields. */
export function buildGraph(layers: GraphLayer[], net: { name?: string; inputs: string[]; inputDims: number[]; inputShapes: number[][] }, v1: boolean): CaffeGraph {
  const ops: Record<string, number> = {};
  const bottoms = new Set<string>();
  for (const l of layers) {
    ops[l.type] = (ops[l.type] ?? 0) + 1;
    for (const b of l.bottoms) bottoms.add(b);
  }
  const inputs: GraphIO[] = net.inputs.map((name, i) => {
    const dims = net.inputShapes.length > i ? net.inputShapes[i]! : net.inputDims.slice(4 * i, 4 * i + 4);
    return { name, dtype: 'f32', shape: net.inputShapes.length > i || dims.length > 0 ? dims : null };
  });
  const outputs: GraphIO[] = [];
  for (const l of layers) for (const t of l.tops) if (!bottoms.has(t)) outputs.push({ name: t, dtype: 'f32', shape: null });
  const inputLayers: GraphIO[] = [];
  for (const l of layers) {
    if (l.type !== 'Input') continue;
    l.tops.forEach((t, i) => inputLayers.push({ name: t, dtype: 'f32', shape: l.shapes?.[i] ?? l.shapes?.[0] ?? null }));
  }
  return { ...(net.name ? { name: net.name } : {}), inputs, outputs, ops, inputLayers, layerCount: layers.length, v1 };
}

/** The graph of a text NetParameter (`layer` blocks; V1 `layers` when there are none). */
export function graphFromText(m: TextMessage): CaffeGraph {
  const modern = messages(m, 'layer');
  const v1 = modern.length === 0 && messages(m, 'layers').length > 0;
  const layers: GraphLayer[] = (v1 ? messages(m, 'layers') : modern).map((l) => {
    const type = last(l, 'type');
    const shapes = messages(l, 'input_param').flatMap((p) => messages(p, 'shape').map((s) => numbers(s, 'dim')));
    return {
      name: String(last(l, 'name') ?? ''),
      type: v1 ? v1TypeName(typeof type === 'object' ? undefined : type) : typeof type === 'object' || type === undefined ? '' : String(type),
      bottoms: strings(l, 'bottom'),
      tops: strings(l, 'top'),
      ...(shapes.length ? { shapes } : {}),
    };
  });
  const name = last(m, 'name');
  return buildGraph(layers, {
    ...(typeof name === 'string' ? { name } : {}),
    inputs: strings(m, 'input'),
    inputDims: numbers(m, 'input_dim'),
    inputShapes: messages(m, 'input_shape').map((s) => numbers(s, 'dim')),
  }, v1);
}
