/**
 * llama-quantize's per-tensor type policy (llama.cpp `src/llama-quant.cpp`: tensor_allows_quantization,
 * llama_tensor_get_type / llama_tensor_get_type_impl, tensor_type_fallback) and its output
 * tensor order (`weight_name_comparer`, src/llama-model-loader.h), for the file types modelwise
 * writes. Checked against node-llama-cpp 3.21.1's libllama (llama_quant_compute_types).
 *
 * The choice is stateful: attn_v and ffn_down counters advance in output order, so use
 * planTensorTypes (sorts, then decides) or createPolicyState + chooseTensorType in that order.
 */
import { GGML_BY_NAME } from '../../dtypes.js';

/** llama-quantize file types (llama.h `llama_ftype`) this module handles. */
export const FILE_TYPES = {
  F32: { id: 0, type: 'f32' }, F16: { id: 1, type: 'f16' }, BF16: { id: 32, type: 'bf16' },
  Q4_0: { id: 2, type: 'q4_0' }, Q4_1: { id: 3, type: 'q4_1' }, Q8_0: { id: 7, type: 'q8_0' },
  Q5_0: { id: 8, type: 'q5_0' }, Q5_1: { id: 9, type: 'q5_1' }, Q2_K: { id: 10, type: 'q2_k' },
  Q3_K_S: { id: 11, type: 'q3_k' }, Q3_K_M: { id: 12, type: 'q3_k' }, Q3_K_L: { id: 13, type: 'q3_k' },
  Q4_K_S: { id: 14, type: 'q4_k' }, Q4_K_M: { id: 15, type: 'q4_k' }, Q5_K_S: { id: 16, type: 'q5_k' },
  Q5_K_M: { id: 17, type: 'q5_k' }, Q6_K: { id: 18, type: 'q6_k' },
} as const;
export type FileType = keyof typeof FILE_TYPES;

/** A tensor as the policy sees it. */
export interface PolicyTensor {
  name: string;
  /** ggml `ne` order: shape[0] is the row length (the reverse of the PyTorch/safetensors order). */
  shape: readonly number[];
  /** Its current ggml type (what a non-quantized tensor keeps); default 'f32'. */
  type?: string;
}

/** Model hyper-parameters the policy reads (GGUF `<arch>.*` keys). */
export interface ModelFacts {
  /** general.architecture (`llama`, `qwen2`, `falcon`, …). */
  arch: string;
  /** <arch>.block_count. */
  nLayer: number;
  /** <arch>.attention.head_count / head_count_kv (layer 0); n_gqa = nHead / nHeadKv. */
  nHead?: number;
  nHeadKv?: number;
  /** <arch>.expert_count (0 or absent for dense models). */
  nExpert?: number;
  /**
   * llama.cpp's model type when it matters: '70B' bumps attn_v. Default: inferred as llama.cpp
   * does for arch `llama` (80 layers with grouped-query attention).
   */
  modelType?: string;
}

export interface PolicyOptions {
  /** --pure: every quantizable tensor gets the file type's default type. */
  pure?: boolean;
  /** --leave-output-tensor is quantizeOutputTensor: false. Default true. */
  quantizeOutputTensor?: boolean;
  /** --output-tensor-type / --token-embedding-type. */
  outputTensorType?: string;
  tokenEmbeddingType?: string;
  /** --tensor-type REGEX=TYPE, first match wins (regex search on the name). */
  tensorTypes?: readonly { pattern: RegExp; type: string }[];
}

type Category = 'token_embd' | 'attn_q' | 'attn_v' | 'attn_k' | 'attn_qkv' | 'attn_kv_b' | 'attn_output' | 'ffn_up' | 'ffn_gate' | 'ffn_down' | 'output' | 'other';

function category(name: string): Category {
  if (name === 'output.weight') return 'output';
  if (name === 'token_embd.weight' || name === 'per_layer_token_embd.weight') return 'token_embd';
  if (name.includes('attn_qkv.weight')) return 'attn_qkv';
  if (name.includes('attn_kv_b.weight')) return 'attn_kv_b';
  if (name.includes('attn_v.weight')) return 'attn_v';
  if (name.includes('attn_k.weight')) return 'attn_k';
  if (name.includes('attn_q.weight')) return 'attn_q';
  if (name.includes('attn_output.weight')) return 'attn_output';
  if (name.includes('ffn_up')) return 'ffn_up';
  if (name.includes('ffn_gate')) return 'ffn_gate';
  if (name.includes('ffn_down')) return 'ffn_down';
  return 'other';
}

const isAttnV = (c: Category) => c === 'attn_v' || c === 'attn_qkv' || c === 'attn_kv_b';

/** ggml_n_dims: dimensions up to the last one larger than 1 (at least 1). */
export function ggmlNDims(shape: readonly number[]): number {
  for (let i = shape.length - 1; i >= 1; i--) if (shape[i] > 1) return i + 1;
  return 1;
}

const NEVER_QUANTIZED = [
  '_norm.weight', 'ffn_gate_inp.weight', 'ffn_gate_tid2eid.weight', 'altup', 'laurel', 'per_layer_model_proj',
  'ssm_conv1d', 'shortconv.conv.weight', 'indexer.k_proj.weight', 'indexer.q_proj.weight',
  ...['first', 'w0', 'w1', 'w2', 'v0', 'v1', 'v2', 'a0', 'a1', 'a2', 'g1', 'g2', 'decay_w1', 'decay_w2', 'lerp_fused'].map((s) => `time_mix_${s}.weight`),
  'attn_rel_b.weight', '.position_embd', 'sam.pos_embd', 'sam.neck.', 'sam.net_', '.rel_pos', '.patch_embd', '.patch_merger',
  'a.rvq.codebook', 'mm.a.code_embd',
];

/** tensor_allows_quantization: ≥ 2-D weights except norms, gates, position tables and the like. */
export function tensorAllowsQuantization(tensor: PolicyTensor, options: PolicyOptions = {}): boolean {
  if (ggmlNDims(tensor.shape) < 2) return false;
  const name = tensor.name;
  // C: name.rfind("weight") == name.size() - 6, with size_t arithmetic (a 5-character name without
  // "weight" compares npos == npos)
  const at = name.lastIndexOf('weight');
  let quantize = name.length >= 6 ? at === name.length - 6 : name.length === 5 && at === -1;
  if (options.quantizeOutputTensor === false && name === 'output.weight') quantize = false;
  if (name === 'position_embd.weight' || name === 'token_types.weight') quantize = false;
  for (const s of NEVER_QUANTIZED) if (name.includes(s)) quantize = false;
  return quantize;
}

/** Counters and facts shared by the choices of one file (quantize_state_impl). */
export interface PolicyState {
  fileType: FileType;
  model: ModelFacts;
  options: PolicyOptions;
  nAttentionWv: number;
  iAttentionWv: number;
  iFfnDown: number;
  iFfnGate: number;
  iFfnUp: number;
  hasTiedEmbeddings: boolean;
  /** Tensors that needed a fallback type (llama-quantize warns about each). */
  fallbacks: string[];
}

export function createPolicyState(fileType: FileType, tensorNames: Iterable<string>, model: ModelFacts, options: PolicyOptions = {}): PolicyState {
  if (!(fileType in FILE_TYPES)) throw new Error(`unsupported file type ${fileType} (supported: ${Object.keys(FILE_TYPES).join(', ')})`);
  let nAttentionWv = 0;
  let tied = true;
  for (const n of tensorNames) {
    const c = category(n);
    if (isAttnV(c)) nAttentionWv++;
    if (c === 'output') tied = false;
  }
  return { fileType, model, options, nAttentionWv, iAttentionWv: 0, iFfnDown: 0, iFfnGate: 0, iFfnUp: 0, hasTiedEmbeddings: tied, fallbacks: [] };
}

const useMoreBits = (i: number, n: number) => i < Math.trunc(n / 8) || i >= Math.trunc((7 * n) / 8) || (i - Math.trunc(n / 8)) % 3 === 2;

function blockSize(type: string): number {
  const t = GGML_BY_NAME.get(type);
  if (!t) throw new Error(`unknown ggml type ${type}`);
  return t.blockSize;
}

/** The layer a tensor belongs to, from its `blk.N.` prefix (sscanf "blk.%d."), or -1. */
export function layerOf(name: string): number {
  const m = /^blk\.[ \t\n\v\f\r]*([+-]?\d+)/.exec(name);
  if (!m) return -1;
  // %d reads a long and stores it into an int (glibc: saturate to long, then truncate)
  let v = BigInt(m[1]);
  const LONG = 2n ** 63n;
  if (v >= LONG) v = LONG - 1n;
  if (v < -LONG) v = -LONG;
  return Number(BigInt.asIntN(32, v));
}

function layerInfo(s: PolicyState, counter: number, name: string): [number, number] {
  const nLayer = s.model.nLayer;
  if (Math.max(1, s.model.nExpert ?? 0) > 1) {
    const l = /^blk\.[ \t\n\v\f\r]*[+-]?\d/.test(name) ? layerOf(name) : NaN;
    if (Number.isNaN(l)) throw new Error(`Failed to determine layer for tensor ${name}`);
    if (l < 0 || l >= nLayer) throw new Error(`Bad layer ${l} for tensor ${name}. Must be in [0, ${nLayer})`);
    return [l, nLayer];
  }
  return [counter, nLayer];
}

/** llama_tensor_get_type_impl for the supported file types (no imatrix). */
function mixType(s: PolicyState, t: PolicyTensor, cat: Category, type: string): string {
  const ft = s.fileType;
  const m = s.model;
  const falcon = m.arch === 'falcon';
  const nExpert = m.nExpert ?? 0;
  const nHead = m.nHead ?? 0;
  const nHeadKv = m.nHeadKv ?? nHead; // llama.cpp: head_count_kv defaults to head_count
  const nGqa = nHeadKv ? Math.trunc(nHead / nHeadKv) : 0;
  const is70B = (m.modelType ?? (m.arch === 'llama' && m.nLayer === 80 && nHead !== nHeadKv ? '70B' : '')) === '70B';
  if (cat === 'output' || (s.hasTiedEmbeddings && cat === 'token_embd')) {
    if (s.options.outputTensorType) return s.options.outputTensorType;
    if (falcon || t.shape[0] % blockSize(type) !== 0) return 'q8_0';
    return type !== 'q8_0' ? 'q6_k' : type;
  }
  if (cat === 'token_embd') return s.options.tokenEmbeddingType ?? type;
  if (isAttnV(cat)) {
    if (ft === 'Q2_K') type = nGqa >= 4 ? 'q4_k' : 'q3_k';
    else if (ft === 'Q3_K_M') type = s.iAttentionWv < 2 ? 'q5_k' : 'q4_k';
    else if (ft === 'Q3_K_L') type = 'q5_k';
    else if ((ft === 'Q4_K_M' || ft === 'Q5_K_M') && useMoreBits(s.iAttentionWv, s.nAttentionWv)) type = 'q6_k';
    else if (ft === 'Q4_K_S' && s.iAttentionWv < 4) type = 'q5_k';
    if (is70B && (type === 'q3_k' || type === 'q4_k')) type = 'q5_k';
    if (nExpert === 8) type = 'q8_0';
    s.iAttentionWv++;
  } else if (cat === 'attn_k') {
    if (nExpert === 8) type = 'q8_0';
  } else if (cat === 'ffn_down') {
    const [i, n] = layerInfo(s, s.iFfnDown, t.name);
    const n8 = Math.trunc(n / 8);
    const n16 = Math.trunc(n / 16);
    if (ft === 'Q2_K') type = 'q3_k';
    else if (ft === 'Q3_K_M') type = i < n16 ? 'q5_k' : !falcon || useMoreBits(i, n) ? 'q4_k' : 'q3_k';
    else if (ft === 'Q3_K_L') type = falcon ? 'q4_k' : 'q5_k';
    else if (ft === 'Q4_K_M') {
      if (falcon) type = i < n16 ? 'q6_k' : useMoreBits(i, n) ? 'q5_k' : 'q4_k';
      else if (useMoreBits(i, n)) type = 'q6_k';
    } else if (ft === 'Q5_K_M' && useMoreBits(i, n)) type = 'q6_k';
    else if (ft === 'Q4_K_S' && !falcon && i < n8) type = 'q5_k';
    s.iFfnDown++;
  } else if (cat === 'attn_output') {
    if (!falcon) {
      if (nExpert === 8) {
        if (['Q2_K', 'Q3_K_S', 'Q3_K_M', 'Q4_K_S', 'Q4_K_M'].includes(ft)) type = 'q5_k';
      } else if (ft === 'Q2_K') type = 'q3_k';
      else if (ft === 'Q3_K_M') type = 'q4_k';
      else if (ft === 'Q3_K_L') type = 'q5_k';
    } else if (ft === 'Q3_K_L') type = 'q4_k';
  } else if (cat === 'ffn_gate') {
    layerInfo(s, s.iFfnGate, t.name);
    s.iFfnGate++;
  } else if (cat === 'ffn_up') {
    layerInfo(s, s.iFfnUp, t.name);
    s.iFfnUp++;
  }
  return type;
}

const FALLBACK: Record<string, string> = {
  iq1_s: 'iq4_nl', iq1_m: 'iq4_nl', iq2_xxs: 'iq4_nl', iq2_xs: 'iq4_nl', iq2_s: 'iq4_nl', iq3_xxs: 'iq4_nl', iq3_s: 'iq4_nl', iq4_xs: 'iq4_nl',
  q2_0: 'q4_0', q2_k: 'q4_0', q3_k: 'q4_0', tq1_0: 'q4_0', tq2_0: 'q4_0', q4_k: 'q5_0', q5_k: 'q5_1', q6_k: 'q8_0',
};

/** tensor_type_fallback: a type whose block size divides the row length. Throws when none is defined. */
function fallback(s: PolicyState, t: PolicyTensor, type: string): string {
  const cols = t.shape[0];
  if (cols % blockSize(type) === 0) return type;
  const f = FALLBACK[type];
  if (!f) throw new Error(`no tensor type fallback is defined for type ${type} (tensor ${t.name}, ${cols} columns)`);
  const r = cols % blockSize(f) === 0 ? f : 'f16';
  s.fallbacks.push(t.name);
  return r;
}

/**
 * llama_tensor_get_type: the ggml type (lowercase name) this tensor gets in a `fileType` file.
 * Call in output order (compareTensorNames); it advances the state's counters.
 */
export function chooseTensorType(state: PolicyState, tensor: PolicyTensor): string {
  const o = state.options;
  if (!tensorAllowsQuantization(tensor, o)) return tensor.type ?? 'f32';
  const cat = category(tensor.name);
  if (o.tokenEmbeddingType && cat === 'token_embd') return o.tokenEmbeddingType;
  if (o.outputTensorType && cat === 'output') return o.outputTensorType;
  let type: string = FILE_TYPES[state.fileType].type;
  if (!GGML_BY_NAME.get(type)!.quantized) return type;
  const manual = o.tensorTypes?.find((p) => p.pattern.test(tensor.name));
  if (manual) type = manual.type;
  else if (!o.pure) type = mixType(state, tensor, cat, type);
  return fallback(state, tensor, type);
}

/** UTF-8 byte order (std::string operator<), −1/0/1. */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order equals UTF-8 byte order except around surrogates; compare code points
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** weight_name_comparer: by `blk.N.` layer (others are −1, first), then by name bytes. */
export function compareTensorNames(a: string, b: string): number {
  const la = layerOf(a);
  const lb = layerOf(b);
  if (la !== lb) return la < lb ? -1 : 1;
  return compareBytes(a, b);
}

/** One planned output tensor. */
export interface PlannedTensor {
  name: string;
  /** Source type (what the tensor had). */
  from: string;
  /** Output type. */
  type: string;
  /** True when the data must be (re)quantized (from ≠ type). */
  convert: boolean;
}

/**
 * The whole llama-quantize plan for a tensor list: tensors in output order, each with its type.
 * Throws like llama-quantize (unknown layer in an MoE, no fallback for a shape).
 */
export function planTensorTypes(fileType: FileType, tensors: readonly PolicyTensor[], model: ModelFacts, options: PolicyOptions = {}): PlannedTensor[] {
  const sorted = [...tensors].sort((a, b) => compareTensorNames(a.name, b.name));
  const state = createPolicyState(fileType, sorted.map((t) => t.name), model, options);
  return sorted.map((t) => {
    const from = t.type ?? 'f32';
    const type = chooseTensorType(state, t);
    return { name: t.name, from, type, convert: from !== type };
  });
}
