/**
 * An MXNet symbol JSON (nnvm/src/pass/saveload_json.cc; the pre-NNVM layout of MXNet 0.x with
 * `param`/`attr` keys and 2-element heads too) as a graph: ops = node op counts without variables
 * (`null`), outputs = the nodes named by `heads`, inputs = variables that are not stored in the
 * params file (arrays are named `arg:<name>` / `aux:<name>`). Without a params file, data variables
 * cannot be told from weights by structure: the inputs are then guessed by name and marked so.
 */
import { isObject } from '../../identify/probe.js';
import type { Dim, GraphIO } from '../../types.js';
import { MX_TYPES } from './params.js';

type Obj = Record<string, unknown>;

export interface MxSymbol {
  graph: { inputs: GraphIO[]; outputs: GraphIO[]; ops: Record<string, number> };
  nodes: number;
  argNodes: number;
  heads: number;
  /** attrs.mxnet_version as a number (10300) and a name (1.3.0). */
  version?: { code: number; name: string };
  preNnvm: boolean;
  /** Set when inputs were guessed by variable names (no params file). */
  inputsGuessed: boolean;
  /** Variables the params file does not hold and that look like weights (missing parameters?). */
  unboundWeights: string[];
}

/** Variable names MXNet layers give their parameters (gluon and symbol API). */
const WEIGHT_NAME = /(_weight|_bias|_gamma|_beta|_moving_mean|_moving_var|_running_mean|_running_var|_alpha|_parameters|_state|_state_cell)$/;

/** "(1, 3, 224, 224)" → [1, 3, 224, 224] (0 / -1 / None → '?'). */
export function parseShapeAttr(s: unknown): Dim[] | null {
  if (typeof s !== 'string') return null;
  const m = /^\s*[([]\s*(.*?)\s*,?\s*[)\]]\s*$/.exec(s);
  if (!m) return null;
  if (!m[1]) return [];
  return m[1].split(',').map((x) => {
    const n = Number(x.trim().replace(/L$/, ''));
    return Number.isSafeInteger(n) && n > 0 ? n : '?';
  });
}

/** `__dtype__` attr: an mshadow type flag as a string ("0" → f32). */
function dtypeAttr(s: unknown): string | null {
  if (typeof s !== 'string' || !/^\d+$/.test(s)) return null;
  return MX_TYPES[Number(s)]?.[0] ?? null;
}

export const versionName = (v: number): string => `${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${v % 100}`;

/** Read a symbol JSON; `params` = stored array names with arg:/aux: stripped (undefined: no params file). */
export function readSymbol(json: unknown, params: Set<string> | undefined): MxSymbol | undefined {
  if (!isObject(json) || !Array.isArray(json.nodes)) return undefined;
  const nodes = json.nodes.filter(isObject);
  const ops: Record<string, number> = {};
  let preNnvm = false;
  for (const n of nodes) {
    if ('param' in n || 'backward_source_id' in n) preNnvm = true;
    const op = typeof n.op === 'string' ? n.op : '?';
    if (op !== 'null') ops[op] = (ops[op] ?? 0) + 1;
  }
  const heads = Array.isArray(json.heads) ? json.heads : [];
  const outputs: GraphIO[] = heads.flatMap((h) => {
    const n = Array.isArray(h) && typeof h[0] === 'number' ? nodes[h[0]] : undefined;
    return n && typeof n.name === 'string' ? [{ name: n.name, dtype: null, shape: null }] : [];
  });
  const inputs: GraphIO[] = [];
  const unboundWeights: string[] = [];
  for (const n of nodes) {
    if (n.op !== 'null' || typeof n.name !== 'string') continue;
    const looksWeight = WEIGHT_NAME.test(n.name);
    if (params ? params.has(n.name) : looksWeight) continue;
    if (params && looksWeight) unboundWeights.push(n.name);
    const a: Obj = (isObject(n.attrs) ? n.attrs : isObject(n.attr) ? n.attr : isObject(n.param) ? n.param : {}) as Obj;
    inputs.push({ name: n.name, dtype: dtypeAttr(a.__dtype__), shape: parseShapeAttr(a.__shape__) });
  }
  const attrs = isObject(json.attrs) ? json.attrs : {};
  const mv = attrs.mxnet_version;
  const code = Array.isArray(mv) ? Number(mv[1]) : NaN;
  return {
    graph: { inputs, outputs, ops },
    nodes: nodes.length,
    argNodes: Array.isArray(json.arg_nodes) ? json.arg_nodes.length : 0,
    heads: heads.length,
    ...(Number.isSafeInteger(code) && code > 0 ? { version: { code, name: versionName(code) } } : {}),
    preNnvm,
    inputsGuessed: !params,
    unboundWeights,
  };
}
