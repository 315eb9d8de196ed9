/**
 * A Keras model config (`model.to_json()`, `config.json` of a `.keras`, the `model_config` root
 * attribute of a legacy `.h5`, the `modelTopology` of a TF.js layers model) read as a graph:
 * ops = layer `class_name` counts (nested models counted once themselves and once per inner
 * layer), inputs = InputLayer batch shapes (None → '?'), outputs = output layer names. A Sequential
 * without an InputLayer gets the implicit input Keras 2 / tfjs-layers build: `<first layer>_input`.
 * A subclassed model (no layer list) has no graph. Sources: keras/src/models/functional.py
 * (get_config / functional_from_config), keras/src/models/sequential.py, tfjs-layers models.ts.
 */
import { isObject } from '../../identify/probe.js';
import type { Dim, GraphIO } from '../../types.js';

type Obj = Record<string, unknown>;

export interface KerasTopology {
  /** The model's class_name (Sequential, Functional, Model, a custom class …). */
  modelClass?: string;
  /** The model's config name. */
  name?: string;
  graph?: { inputs: GraphIO[]; outputs: GraphIO[]; ops: Record<string, number> };
  /** Number of layers at the top level, and in all (nested models included). */
  layers?: number;
  allLayers?: number;
  /** Layer class names that run code from the file when loaded (Lambda) or are custom (not keras.*). */
  lambdaLayers: string[];
  notes: string[];
}

/** Nesting of model configs followed (a model inside a model inside …). */
const MAX_NESTING = 64;
/** Layers counted in one config (guards pathological JSON). */
const MAX_LAYERS = 1_000_000;

const KERAS_DTYPES: Record<string, string> = {
  float32: 'f32', float64: 'f64', float16: 'f16', bfloat16: 'bf16', int32: 'i32', int64: 'i64', int8: 'i8', int16: 'i16',
  uint8: 'u8', uint16: 'u16', uint32: 'u32', uint64: 'u64', bool: 'bool', string: 'string',
};

/** A Keras dtype (a string, or a Keras 3 DTypePolicy dict) as a canonical name; mixed policies kept as written. */
export function kerasDtype(dt: unknown): string | null {
  let s = dt;
  if (isObject(s)) s = isObject(s.config) ? s.config.name : undefined;
  if (typeof s !== 'string' || !s) return null;
  if (s.startsWith('mixed_')) return s;
  return KERAS_DTYPES[s] ?? s;
}

/** The layer list of a config: a list (old Sequential) or `{layers: [...]}`. */
export function layersOf(cfg: unknown): Obj[] {
  const list = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : [];
  return list.filter(isObject);
}

const layerConfig = (l: Obj): Obj => (isObject(l.config) ? l.config : {});
const layerName = (l: Obj): string | undefined => {
  const c = layerConfig(l).name ?? l.name;
  return typeof c === 'string' ? c : undefined;
};

function shapeOf(c: Obj): Dim[] | null {
  const s = c.batch_shape ?? c.batch_input_shape;
  if (!Array.isArray(s)) return null;
  return s.map((x) => (typeof x === 'number' && Number.isFinite(x) ? x : '?'));
}

function count(layers: Obj[], ops: Record<string, number>, t: { all: number; lambda: string[] }, depth: number): void {
  for (const l of layers) {
    if (++t.all > MAX_LAYERS) return;
    const cn = typeof l.class_name === 'string' ? l.class_name : '?';
    ops[cn] = (ops[cn] ?? 0) + 1;
    if (cn === 'Lambda' || cn === 'TFOpLambda') t.lambda.push(layerName(l) ?? cn);
    const sub = l.config;
    if (depth < MAX_NESTING && (cn === 'Sequential' || cn === 'Functional' || cn === 'Model' || (isObject(sub) && Array.isArray(sub.layers)))) {
      count(layersOf(sub), ops, t, depth + 1);
    }
  }
}

/** `[name, node, tensor]` or a list of them (Keras 3 writes a single input unwrapped; dicts keyed by name too). */
function refs(v: unknown): string[] {
  if (Array.isArray(v) && typeof v[0] === 'string') return [v[0]];
  const list = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
  return list.flatMap((x) => (Array.isArray(x) && typeof x[0] === 'string' ? [x[0]] : []));
}

const io = (name: string, dtype: string | null, shape: Dim[] | null): GraphIO => ({ name, dtype, shape });

/** Read a Keras model config (the object with class_name and config). */
export function kerasTopology(mc: unknown): KerasTopology {
  const t: KerasTopology = { lambdaLayers: [], notes: [] };
  if (!isObject(mc) || typeof mc.class_name !== 'string') {
    t.notes.push('no Keras model config: inputs/outputs/ops omitted');
    return t;
  }
  t.modelClass = mc.class_name;
  const cfg = mc.config;
  if (isObject(cfg) && typeof cfg.name === 'string') t.name = cfg.name;
  if (!(Array.isArray(cfg) || (isObject(cfg) && Array.isArray(cfg.layers)))) {
    t.notes.push(`model config of class ${mc.class_name} has no layer list (a subclassed model): inputs/outputs/ops omitted`);
    return t;
  }
  const layers = layersOf(cfg);
  const ops: Record<string, number> = {};
  const tally = { all: 0, lambda: [] as string[] };
  count(layers, ops, tally, 0);
  t.layers = layers.length;
  t.allLayers = Math.min(tally.all, MAX_LAYERS);
  t.lambdaLayers = tally.lambda;
  const inputs: GraphIO[] = [];
  const outputs: GraphIO[] = [];
  if (mc.class_name === 'Sequential') {
    const first = layers[0];
    if (first) {
      const c = layerConfig(first);
      const name = layerName(first) ?? 'input';
      if (first.class_name === 'InputLayer') inputs.push(io(name, kerasDtype(c.dtype), shapeOf(c)));
      else if (shapeOf(c) !== null) {
        inputs.push(io(`${name}_input`, kerasDtype(c.dtype), shapeOf(c)));
        t.notes.push('Sequential without InputLayer: the input is the implicit <first layer>_input');
      }
      const lastName = layerName(layers[layers.length - 1]!);
      if (lastName) outputs.push(io(lastName, null, null));
    }
  } else if (isObject(cfg)) {
    const byName = new Map<string, Obj>();
    for (const l of layers) {
      const n = layerName(l);
      if (n !== undefined && !byName.has(n)) byName.set(n, l);
    }
    for (const n of refs(cfg.input_layers)) {
      const c = layerConfig(byName.get(n) ?? {});
      inputs.push(io(n, kerasDtype(c.dtype), shapeOf(c)));
    }
    for (const n of refs(cfg.output_layers)) outputs.push(io(n, null, null));
  }
  t.graph = { inputs, outputs, ops };
  return t;
}
