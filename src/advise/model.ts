/**
 * The model facts advise needs, from an inspect report (GGUF hyper-parameters, or a Hugging Face
 * config.json next to safetensors / PyTorch weights), or from `--params 8B --arch llama` alone.
 */
import { ModelwiseError } from '../errors.js';
import type { ModelReport } from '../types.js';
import { shapeFromHyperParameters, NON_CAUSAL_ARCHS, SWA_PATTERN_BY_ARCH, type ModelShape } from './memory.js';
import type { AdviseModel } from './advise.js';

/** Hyper-parameters from a Hugging Face config.json (transformers naming). */
export function shapeFromHfConfig(cfg: Record<string, unknown>, parameters: number): ModelShape {
  const n = (k: string) => (typeof cfg[k] === 'number' && Number.isFinite(cfg[k]) && (cfg[k] as number) > 0 ? (cfg[k] as number) : undefined);
  const text = typeof cfg.text_config === 'object' && cfg.text_config ? (cfg.text_config as Record<string, unknown>) : undefined;
  if (text && n('hidden_size') === undefined) return shapeFromHfConfig(text, parameters);
  const heads = n('num_attention_heads') ?? n('n_head');
  const emb = n('hidden_size') ?? n('n_embd') ?? n('d_model');
  const modelType = typeof cfg.model_type === 'string' ? cfg.model_type.replace(/_text$/, '').replace(/_/g, '-') : '';
  // Sliding windows: `layer_types` (transformers ≥ 4.53), `sliding_window_pattern`, or the
  // architecture's fixed pattern. Qwen2 and Mistral configs carry `sliding_window` without using it
  // (`use_sliding_window: false`, or an architecture llama.cpp runs with full attention).
  const layerTypes = Array.isArray(cfg.layer_types) ? (cfg.layer_types as unknown[]).map((t) => t === 'sliding_attention') : undefined;
  const pattern: ModelShape['slidingWindowPattern'] = layerTypes?.some(Boolean) ? layerTypes : n('sliding_window_pattern') ?? SWA_PATTERN_BY_ARCH[modelType];
  const window = cfg.use_sliding_window === false || pattern === undefined ? undefined : n('sliding_window');
  return {
    parameters,
    layers: n('num_hidden_layers') ?? n('n_layer') ?? n('num_layers'),
    embedding: emb,
    heads,
    kvHeads: n('num_key_value_heads') ?? heads,
    headDim: n('head_dim') ?? (emb && heads ? emb / heads : undefined),
    feedForward: n('moe_intermediate_size') ?? n('intermediate_size') ?? n('n_inner') ?? n('ffn_dim'),
    vocab: n('vocab_size'),
    contextLength: n('max_position_embeddings') ?? n('n_positions') ?? n('seq_length'),
    slidingWindow: window,
    slidingWindowPattern: window ? pattern : undefined,
    experts: n('num_local_experts') ?? n('num_experts'),
    expertsUsed: n('num_experts_per_tok'),
    ...(NON_CAUSAL_ARCHS.has(modelType) ? { causal: false } : {}),
  };
}

/** Architecture presets for planning before a download (public configs of each family). */
const PRESETS: Record<string, { params: number; shape: Omit<ModelShape, 'parameters'> }[]> = {
  llama: [
    { params: 1.24e9, shape: { layers: 16, embedding: 2048, heads: 32, kvHeads: 8, headDim: 64, feedForward: 8192, vocab: 128256, contextLength: 131072 } },
    { params: 3.21e9, shape: { layers: 28, embedding: 3072, heads: 24, kvHeads: 8, headDim: 128, feedForward: 8192, vocab: 128256, contextLength: 131072 } },
    { params: 8.03e9, shape: { layers: 32, embedding: 4096, heads: 32, kvHeads: 8, headDim: 128, feedForward: 14336, vocab: 128256, contextLength: 131072 } },
    { params: 70.6e9, shape: { layers: 80, embedding: 8192, heads: 64, kvHeads: 8, headDim: 128, feedForward: 28672, vocab: 128256, contextLength: 131072 } },
  ],
  qwen2: [
    { params: 0.49e9, shape: { layers: 24, embedding: 896, heads: 14, kvHeads: 2, headDim: 64, feedForward: 4864, vocab: 151936, contextLength: 32768 } },
    { params: 1.54e9, shape: { layers: 28, embedding: 1536, heads: 12, kvHeads: 2, headDim: 128, feedForward: 8960, vocab: 151936, contextLength: 32768 } },
    { params: 7.62e9, shape: { layers: 28, embedding: 3584, heads: 28, kvHeads: 4, headDim: 128, feedForward: 18944, vocab: 152064, contextLength: 32768 } },
  ],
  mistral: [{ params: 7.24e9, shape: { layers: 32, embedding: 4096, heads: 32, kvHeads: 8, headDim: 128, feedForward: 14336, vocab: 32768, contextLength: 32768 } }],
  gemma3: [
    { params: 1.0e9, shape: { layers: 26, embedding: 1152, heads: 4, kvHeads: 1, headDim: 256, feedForward: 6912, vocab: 262144, contextLength: 32768, slidingWindow: 512, slidingWindowPattern: 6 } },
    { params: 4.3e9, shape: { layers: 34, embedding: 2560, heads: 8, kvHeads: 4, headDim: 256, feedForward: 10240, vocab: 262208, contextLength: 131072, slidingWindow: 1024, slidingWindowPattern: 6 } },
  ],
};

/** "8B", "500M", "1.5e9" → parameters. */
export function parseParams(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:e(\d+))?\s*([kmbt])?$/i.exec(s.trim());
  if (!m) throw new ModelwiseError('USAGE', `invalid parameter count ${s}`, { expected: 'e.g. 8B, 500M, 1.5e9' });
  const mult = { k: 1e3, m: 1e6, b: 1e9, t: 1e12 }[(m[3] ?? '').toLowerCase() as 'k'] ?? 1;
  return Number(m[1]) * (m[2] ? 10 ** Number(m[2]) : 1) * mult;
}

export function plannedModel(params: number, arch?: string): AdviseModel {
  const family = arch ? PRESETS[arch.toLowerCase()] : undefined;
  if (arch && !family) throw new ModelwiseError('USAGE', `no preset for architecture ${arch}`, { expected: Object.keys(PRESETS).join(', ') });
  const list = family ?? PRESETS.llama!;
  const closest = list.reduce((a, b) => (Math.abs(Math.log(b.params / params)) < Math.abs(Math.log(a.params / params)) ? b : a));
  const scale = params / closest.params;
  const shape: ModelShape = { ...closest.shape, parameters: params };
  if (Math.abs(Math.log(scale)) > 0.3) shape.layers = Math.max(1, Math.round((closest.shape.layers ?? 1) * Math.sqrt(scale)));
  const a = arch?.toLowerCase() ?? 'llama';
  return { path: `${formatCount(params)} ${arch ?? 'llama-like'} model (planned)`, format: null, architecture: arch ?? null, modelType: a, shape, llm: true, pickle: false, planned: true };
}

function formatCount(n: number): string {
  return n >= 1e9 ? `${+(n / 1e9).toFixed(2)}B` : `${+(n / 1e6).toFixed(0)}M`;
}

/** Advise facts from an inspected model (+ its config.json when it has one). */
export function modelFromReport(r: ModelReport, hfConfig?: Record<string, unknown>, pickle = false): AdviseModel {
  const params = Number(r.parameters.total);
  const tensorBytes = Number(r.size.tensorBytes ?? 0) || undefined;
  const shape = hfConfig ? { ...shapeFromHfConfig(hfConfig, params), weightBytes: tensorBytes } : shapeFromHyperParameters(r.hyperParameters, params, tensorBytes, r.architecture);
  // GGUF files rarely store `{arch}.vocab_size`: the tokenizer's token count is the vocabulary.
  if (shape.vocab === undefined && typeof r.tokenizer?.vocabSize === 'number' && r.tokenizer.vocabSize > 0) shape.vocab = r.tokenizer.vocabSize;
  const llm = !!(shape.layers && shape.heads && (shape.vocab || r.tokenizer));
  const architecture = r.architecture ?? (hfConfig ? String((hfConfig.architectures as string[] | undefined)?.[0] ?? hfConfig.model_type ?? '') || null : null);
  const modelType = hfConfig ? (typeof hfConfig.model_type === 'string' ? hfConfig.model_type : null) : r.format.id === 'gguf' ? r.architecture : null;
  const quantization = typeof r.quantization?.fileType === 'string' ? r.quantization.fileType.replace(/ \(guessed\)$/, '') : undefined;
  return { path: r.path, format: r.format.id, variant: r.format.variant, architecture, modelType, ...(quantization ? { quantization } : {}), shape, llm, pickle };
}
