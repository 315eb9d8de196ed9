/**
 * The Hugging Face `config.json` next to a safetensors checkpoint (transformers
 * `PretrainedConfig`): architecture and hyper-parameters, which the weights file does not state.
 * Read only when present and small; never required.
 */
import { isObject, type Probe } from '../../identify/probe.js';
import { readExact } from '../../io/source.js';
import type { HyperParameters } from '../../types.js';

const MAX_CONFIG = 4 * 1024 * 1024;

export interface HfConfigFacts {
  architecture?: string;
  modelType?: string;
  torchDtype?: string;
  hyperParameters: HyperParameters;
  quantization?: { summary: string; [k: string]: unknown };
}

/** First number among `keys` in `o`. */
function pick(o: Record<string, unknown>, keys: string[]): number | undefined {
  for (const k of keys) if (typeof o[k] === 'number' && Number.isFinite(o[k])) return o[k] as number;
  return undefined;
}

/** Parse `config.json` beside the probe's file; undefined when absent, too big or not a config. */
export async function readHfConfig(probe: Probe): Promise<HfConfigFacts | undefined> {
  const src = await probe.sibling('config.json');
  if (!src || src.size > MAX_CONFIG || src.size < 2) return undefined;
  let cfg: unknown;
  try {
    cfg = JSON.parse(new TextDecoder().decode(await readExact(src, 0, src.size, 'config.json')));
  } catch {
    return undefined;
  }
  if (!isObject(cfg) || (!Array.isArray(cfg.architectures) && typeof cfg.model_type !== 'string')) return undefined;
  // Multimodal configs keep the language model's numbers in text_config.
  const top = cfg;
  const tc = isObject(cfg.text_config) ? cfg.text_config : undefined;
  const from = (keys: string[]) => pick(top, keys) ?? (tc ? pick(tc, keys) : undefined);
  const hp: HyperParameters = {};
  const set = (k: string, v: number | undefined) => {
    if (v !== undefined) hp[k] = v;
  };
  set('contextLength', from(['max_position_embeddings', 'n_positions', 'n_ctx', 'seq_length', 'max_sequence_length']));
  set('embeddingLength', from(['hidden_size', 'n_embd', 'd_model', 'dim']));
  set('layers', from(['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers']));
  set('heads', from(['num_attention_heads', 'n_head', 'num_heads', 'n_heads']));
  set('kvHeads', from(['num_key_value_heads', 'n_kv_heads', 'num_kv_heads']));
  set('headDim', from(['head_dim']));
  set('feedForwardLength', from(['intermediate_size', 'n_inner', 'ffn_dim', 'd_ff']));
  set('vocabSize', from(['vocab_size', 'n_vocab']));
  set('experts', from(['num_local_experts', 'num_experts', 'n_routed_experts']));
  set('expertsUsed', from(['num_experts_per_tok', 'moe_top_k']));
  set('slidingWindow', from(['sliding_window']));
  set('ropeFreqBase', from(['rope_theta']));
  const arch = Array.isArray(cfg.architectures) && typeof cfg.architectures[0] === 'string' ? cfg.architectures[0] : undefined;
  const out: HfConfigFacts = { hyperParameters: hp };
  if (arch) out.architecture = arch;
  else if (typeof cfg.model_type === 'string') out.architecture = cfg.model_type;
  if (typeof cfg.model_type === 'string') out.modelType = cfg.model_type;
  const dt = cfg.torch_dtype ?? cfg.dtype;
  if (typeof dt === 'string') out.torchDtype = dt;
  const q = cfg.quantization_config;
  if (isObject(q)) {
    const method = typeof q.quant_method === 'string' ? q.quant_method : 'quantized';
    const bits = typeof q.bits === 'number' ? q.bits : q.load_in_4bit === true ? 4 : q.load_in_8bit === true ? 8 : undefined;
    const group = typeof q.group_size === 'number' ? q.group_size : undefined;
    out.quantization = {
      summary: `${method}${bits !== undefined ? `, ${bits}-bit` : ''}${group !== undefined && group > 0 ? `, group size ${group}` : ''} (config.json quantization_config)`,
      scheme: method,
      ...(bits !== undefined ? { bits } : {}),
      ...(group !== undefined ? { groupSize: group } : {}),
    };
  }
  return out;
}
