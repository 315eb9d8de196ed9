/**
 * Expected quality cost of each quantization, from published measurements:
 * llama.cpp's llama-quantize (tools/quantize/quantize.cpp QUANT_OPTIONS: file size and perplexity
 * increase on Llama-3-8B, F16/BF16 on Mistral-7B). Sizes are for an 8.03 B model, so bits/weight
 * = size × 8 / 8.03e9 (GGUF files also hold a few f32 norms).
 */
export interface QuantQuality {
  /** llama-quantize name. */
  name: string;
  /** Effective bits per weight of the whole file. */
  bitsPerWeight: number;
  /** Perplexity increase on the reference model. */
  pplIncrease: number;
  reference: string;
  /** Words for it. */
  level: 'near-lossless' | 'small' | 'noticeable' | 'large';
}

export const QUALITY_SOURCE = 'llama.cpp tools/quantize/quantize.cpp (QUANT_OPTIONS), https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/quantize.cpp';

const q = (name: string, gb: number, ppl: number, ref = 'Llama-3-8B'): QuantQuality => {
  const params = ref === 'Mistral-7B' ? 7.24e9 : 8.03e9;
  const bpw = Math.round(((gb * 1e9 * 8) / params) * 100) / 100;
  const level = ppl <= 0.03 ? 'near-lossless' : ppl <= 0.2 ? 'small' : ppl <= 0.7 ? 'noticeable' : 'large';
  return { name, bitsPerWeight: bpw, pplIncrease: ppl, reference: ref, level };
};

export const QUANT_QUALITY: QuantQuality[] = [
  q('F16', 14.0, 0.002, 'Mistral-7B'),
  q('BF16', 14.0, -0.005, 'Mistral-7B'),
  q('Q8_0', 7.96, 0.0026),
  q('Q6_K', 6.14, 0.0217),
  q('Q5_K_M', 5.33, 0.0569),
  q('Q5_K_S', 5.21, 0.1049),
  q('Q4_K_M', 4.58, 0.1754),
  q('Q4_K_S', 4.37, 0.2689),
  q('Q3_K_L', 4.03, 0.5562),
  q('Q3_K_M', 3.74, 0.6569),
  q('Q3_K_S', 3.41, 1.6321),
  q('Q2_K', 2.96, 3.5199),
];

export function qualityOf(name: string): QuantQuality | undefined {
  return QUANT_QUALITY.find((x) => x.name === name.toUpperCase());
}

/** Generic costs for non-GGUF schemes (documented by their toolkits). */
export const OTHER_QUALITY: Record<string, { level: QuantQuality['level']; note: string; source: string }> = {
  f32: { level: 'near-lossless', note: 'full precision', source: 'IEEE 754' },
  f16: { level: 'near-lossless', note: 'half precision: negligible loss for inference', source: 'https://www.tensorflow.org/lite/performance/post_training_float16_quant' },
  bf16: { level: 'near-lossless', note: 'bfloat16: the training precision of most current LLMs', source: 'https://huggingface.co/docs/transformers/main/en/perf_infer_gpu_one' },
  int8: { level: 'small', note: 'post-training int8: usually < 1% accuracy loss on CNNs; calibrate', source: 'https://www.tensorflow.org/lite/performance/post_training_quantization' },
  int4: { level: 'small', note: 'weight-only int4 with group-wise scales (AWQ/GPTQ/MatMulNBits): Llama-2-7B WikiText-2 perplexity 5.47 → 5.60 (AWQ, group 128)', source: 'https://arxiv.org/abs/2306.00978 (AWQ, Table 4)' },
  palettized4: { level: 'small', note: '4-bit palettization (Core ML) of LLM weights', source: 'https://apple.github.io/coremltools/docs-guides/source/opt-palettization-overview.html' },
};
