/**
 * Hugging Face llama-family checkpoints → GGUF names, hyper-parameters and tensor fixes, as
 * llama.cpp's convert_hf_to_gguf.py does for LlamaModel / MistralModel / Qwen2Model
 * (gguf-py/gguf/tensor_mapping.py, constants.py; conversion/llama.py `permute`).
 */
import { ModelwiseError } from '../../errors.js';
import type { GgufKv } from '../writers/gguf.js';
import type { TensorTransform } from '../convert.js';

export interface HfConfig {
  model_type?: string;
  architectures?: string[];
  hidden_size?: number;
  intermediate_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  head_dim?: number;
  max_position_embeddings?: number;
  rms_norm_eps?: number;
  rope_theta?: number;
  vocab_size?: number;
  sliding_window?: number | null;
  tie_word_embeddings?: boolean;
  rope_scaling?: { type?: string; rope_type?: string; factor?: number; original_max_position_embeddings?: number } | null;
  [k: string]: unknown;
}

/** model_type → GGUF architecture and whether q/k rows need llama's rotary permutation. */
export const SUPPORTED: Record<string, { arch: string; permute: boolean }> = {
  llama: { arch: 'llama', permute: true },
  mistral: { arch: 'llama', permute: true },
  qwen2: { arch: 'qwen2', permute: false },
};

const LAYER_MAP: [RegExp, string][] = [
  [/^self_attn\.q_proj\.(weight|bias)$/, 'attn_q'],
  [/^self_attn\.k_proj\.(weight|bias)$/, 'attn_k'],
  [/^self_attn\.v_proj\.(weight|bias)$/, 'attn_v'],
  [/^self_attn\.o_proj\.(weight|bias)$/, 'attn_output'],
  [/^mlp\.gate_proj\.(weight|bias)$/, 'ffn_gate'],
  [/^mlp\.up_proj\.(weight|bias)$/, 'ffn_up'],
  [/^mlp\.down_proj\.(weight|bias)$/, 'ffn_down'],
  [/^input_layernorm\.(weight)$/, 'attn_norm'],
  [/^post_attention_layernorm\.(weight)$/, 'ffn_norm'],
];

/** HF tensor name → GGUF name; undefined for tensors llama.cpp does not store (rotary caches). */
export function mapName(name: string): string | undefined {
  const n = name.replace(/^model\.model\./, 'model.');
  if (/\.rotary_emb\.inv_freq$/.test(n)) return undefined;
  if (n === 'model.embed_tokens.weight') return 'token_embd.weight';
  if (n === 'model.norm.weight') return 'output_norm.weight';
  if (n === 'lm_head.weight') return 'output.weight';
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(n);
  if (m) {
    for (const [re, target] of LAYER_MAP) {
      const x = re.exec(m[2]!);
      if (x) return `blk.${m[1]}.${target}.${x[1]}`;
    }
  }
  throw new ModelwiseError('UNSUPPORTED', `tensor ${name} has no llama-family GGUF name`, { expected: 'model.embed_tokens / model.layers.N.{self_attn,mlp,…} / model.norm / lm_head' });
}

/** llama.cpp's tensor order: non-layer tensors first (by name), then by layer index, then name. */
export function ggufOrder(a: string, b: string): number {
  const la = /^blk\.(\d+)\./.exec(a);
  const lb = /^blk\.(\d+)\./.exec(b);
  const ia = la ? Number(la[1]) : -1;
  const ib = lb ? Number(lb[1]) : -1;
  if (ia !== ib) return ia - ib;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The hyper-parameter keys llama.cpp reads for the architecture. */
export function hyperParameterKvs(cfg: HfConfig, arch: string): [string, GgufKv][] {
  const need = (k: keyof HfConfig): number => {
    const v = cfg[k];
    if (typeof v !== 'number') throw new ModelwiseError('MALFORMED', `config.json has no ${String(k)}`, { file: 'config.json' });
    return v;
  };
  const heads = need('num_attention_heads');
  const hidden = need('hidden_size');
  const kv: [string, GgufKv][] = [
    [`${arch}.context_length`, { type: 'u32', value: need('max_position_embeddings') }],
    [`${arch}.embedding_length`, { type: 'u32', value: hidden }],
    [`${arch}.block_count`, { type: 'u32', value: need('num_hidden_layers') }],
    [`${arch}.feed_forward_length`, { type: 'u32', value: need('intermediate_size') }],
    [`${arch}.attention.head_count`, { type: 'u32', value: heads }],
    [`${arch}.attention.head_count_kv`, { type: 'u32', value: typeof cfg.num_key_value_heads === 'number' ? cfg.num_key_value_heads : heads }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: typeof cfg.rms_norm_eps === 'number' ? cfg.rms_norm_eps : 1e-6 }],
  ];
  if (typeof cfg.rope_theta === 'number') kv.push([`${arch}.rope.freq_base`, { type: 'f32', value: cfg.rope_theta }]);
  const headDim = typeof cfg.head_dim === 'number' ? cfg.head_dim : hidden / heads;
  if (arch === 'llama') kv.push([`${arch}.rope.dimension_count`, { type: 'u32', value: headDim }]);
  if (typeof cfg.head_dim === 'number' && cfg.head_dim !== hidden / heads) {
    kv.push([`${arch}.attention.key_length`, { type: 'u32', value: cfg.head_dim }], [`${arch}.attention.value_length`, { type: 'u32', value: cfg.head_dim }]);
  }
  if (typeof cfg.vocab_size === 'number') kv.push([`${arch}.vocab_size`, { type: 'u32', value: cfg.vocab_size }]);
  const rs = cfg.rope_scaling;
  if (rs && (rs.rope_type ?? rs.type) === 'linear' && typeof rs.factor === 'number') {
    kv.push([`${arch}.rope.scaling.type`, { type: 'string', value: 'linear' }], [`${arch}.rope.scaling.factor`, { type: 'f32', value: rs.factor }]);
  }
  return kv;
}

/**
 * Undo HF's rotary row order for llama q/k projections (conversion/llama.py `permute`):
 * rows reshaped to (n_head, 2, rows/n_head/2) with the middle axes swapped.
 */
export function permuteTransform(cfg: HfConfig): TensorTransform {
  const heads = cfg.num_attention_heads ?? 1;
  const kvHeads = cfg.num_key_value_heads ?? heads;
  const applies = (name: string) => /self_attn\.[qk]_proj\.(weight|bias)$/.test(name);
  const fn: TensorTransform = (name, values, ne) => {
    const isQ = /self_attn\.q_proj\.(weight|bias)$/.test(name);
    const isK = /self_attn\.k_proj\.(weight|bias)$/.test(name);
    if (!isQ && !isK) return values;
    const nHead = isQ ? heads : kvHeads;
    const cols = ne.length > 1 ? ne[0]! : 1;
    const rows = values.length / cols;
    const half = rows / nHead / 2;
    if (!Number.isInteger(half)) throw new ModelwiseError('MALFORMED', `${name}: ${rows} rows do not split into ${nHead} heads`);
    const out = new Float32Array(values.length);
    // new row index for (h, i, j) [i in 0..1, j in 0..half) is h*rows/nHead + j*2 + i
    for (let h = 0; h < nHead; h++) {
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < half; j++) {
          const src = h * 2 * half + i * half + j;
          const dst = h * 2 * half + j * 2 + i;
          out.set(values.subarray(src * cols, (src + 1) * cols), dst * cols);
        }
      }
    }
    return out;
  };
  fn.applies = applies;
  return fn;
}
