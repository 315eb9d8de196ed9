/**
 * Tiny GGUF language models written in the test (no corpus file): the architecture's hyper-parameters,
 * an SPM byte-fallback vocabulary llama.cpp accepts, and every tensor its loader requires, filled
 * with small random values. Test-only (node:* allowed). Built with modelwise's own GGUF writer
 * (`ggufHeader` from src/convert/writers/gguf.ts).
 */
import { ggufHeader, type GgufKv, type GgufTensorEntry } from '../../src/convert/writers/gguf.js';
import { rng } from '../helpers/random.js';

export interface TinyModelSpec {
  arch: 'llama' | 'gemma3' | 'qwen2';
  layers: number;
  embedding: number;
  heads: number;
  kvHeads: number;
  /** Key/value head size (default embedding / heads). */
  headDim?: number;
  feedForward: number;
  contextLength: number;
  /** gemma3: the sliding window (every 6th layer is global, llama.cpp's set_swa_pattern(6)). */
  slidingWindow?: number;
  /** Weight storage type of the 2-D matrices (norms stay f32). */
  dtype?: 'f32' | 'f16';
  /** Extra word-piece tokens after the 259 special + byte tokens. */
  extraTokens?: number;
  /** Store a separate output.weight (otherwise tied to token_embd). */
  outputWeight?: boolean;
}

export interface TinyModel {
  bytes: Uint8Array;
  vocab: number;
  /** Bytes of tensor data (what llama.cpp maps as the model buffer), with alignment padding. */
  tensorBytes: number;
}

/** Tokens: <unk>, <s>, </s>, the 256 <0xNN> byte tokens, then word pieces "▁a", "▁b", … (unique). */
function vocabulary(extra: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3]; // UNKNOWN, CONTROL, CONTROL
  for (let i = 0; i < 256; i++) {
    tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6); // BYTE
  }
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < extra; i++) {
    let s = '';
    let n = i;
    do {
      s = letters[n % 26] + s;
      n = Math.floor(n / 26) - 1;
    } while (n >= 0);
    tokens.push(`\u2581${s}`);
    types.push(1); // NORMAL
  }
  return { tokens, scores: tokens.map((_, i) => -i), types };
}


function f32ToF16(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign; // tiny values flush to zero (fine for random test weights)
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | (mant >>> 13);
}

export function tinyModel(spec: TinyModelSpec): TinyModel {
  const { arch, layers: L, embedding: E, heads: H, kvHeads: KV, feedForward: F } = spec;
  const hd = spec.headDim ?? E / H;
  const dtype = spec.dtype ?? 'f32';
  const voc = vocabulary(spec.extraTokens ?? 32);
  const V = voc.tokens.length;
  const kv: [string, GgufKv][] = [
    ['general.architecture', { type: 'string', value: arch }],
    ['general.name', { type: 'string', value: `tiny-${arch}` }],
    ['general.file_type', { type: 'u32', value: dtype === 'f32' ? 0 : 1 }],
    [`${arch}.context_length`, { type: 'u32', value: spec.contextLength }],
    [`${arch}.embedding_length`, { type: 'u32', value: E }],
    [`${arch}.block_count`, { type: 'u32', value: L }],
    [`${arch}.feed_forward_length`, { type: 'u32', value: F }],
    [`${arch}.attention.head_count`, { type: 'u32', value: H }],
    [`${arch}.attention.head_count_kv`, { type: 'u32', value: KV }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: 1e-6 }],
    [`${arch}.rope.freq_base`, { type: 'f32', value: 10000 }],
  ];
  if (arch === 'llama') {
    kv.push([`${arch}.rope.dimension_count`, { type: 'u32', value: hd }]);
    kv.push([`${arch}.vocab_size`, { type: 'u32', value: V }]);
  }
  if (spec.headDim !== undefined || arch === 'gemma3') {
    kv.push([`${arch}.attention.key_length`, { type: 'u32', value: hd }]);
    kv.push([`${arch}.attention.value_length`, { type: 'u32', value: hd }]);
  }
  if (spec.slidingWindow !== undefined) kv.push([`${arch}.attention.sliding_window`, { type: 'u32', value: spec.slidingWindow }]);
  kv.push(
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'default' }],
    ['tokenizer.ggml.tokens', { type: 'array', elementType: 'string', value: voc.tokens }],
    ['tokenizer.ggml.scores', { type: 'array', elementType: 'f32', value: voc.scores }],
    ['tokenizer.ggml.token_type', { type: 'array', elementType: 'i32', value: voc.types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
  );

  const tensors: { name: string; ne: number[]; norm: boolean }[] = [];
  const mat = (name: string, ne: number[]) => tensors.push({ name, ne, norm: false });
  const vec = (name: string, n: number) => tensors.push({ name, ne: [n], norm: true });
  mat('token_embd.weight', [E, V]);
  vec('output_norm.weight', E);
  if (spec.outputWeight) mat('output.weight', [E, V]);
  for (let i = 0; i < L; i++) {
    const b = `blk.${i}`;
    vec(`${b}.attn_norm.weight`, E);
    mat(`${b}.attn_q.weight`, [E, H * hd]);
    mat(`${b}.attn_k.weight`, [E, KV * hd]);
    mat(`${b}.attn_v.weight`, [E, KV * hd]);
    if (arch === 'qwen2') {
      vec(`${b}.attn_q.bias`, H * hd);
      vec(`${b}.attn_k.bias`, KV * hd);
      vec(`${b}.attn_v.bias`, KV * hd);
    }
    mat(`${b}.attn_output.weight`, [H * hd, E]);
    if (arch === 'gemma3') {
      vec(`${b}.attn_q_norm.weight`, hd);
      vec(`${b}.attn_k_norm.weight`, hd);
      vec(`${b}.post_attention_norm.weight`, E);
    }
    vec(`${b}.ffn_norm.weight`, E);
    mat(`${b}.ffn_gate.weight`, [E, F]);
    mat(`${b}.ffn_up.weight`, [E, F]);
    mat(`${b}.ffn_down.weight`, [F, E]);
    if (arch === 'gemma3') vec(`${b}.post_ffw_norm.weight`, E);
  }
  const entries: GgufTensorEntry[] = tensors.map((t) => {
    const n = t.ne.reduce((a, b) => a * b, 1);
    const dt = t.norm ? 'f32' : dtype;
    return { name: t.name, dtype: dt, ne: t.ne, byteLength: n * (dt === 'f32' ? 4 : 2) };
  });
  const { header, padding } = ggufHeader(kv, entries);
  const tensorBytes = entries.reduce((a, e, i) => a + e.byteLength + padding[i]!, 0);
  const out = new Uint8Array(header.length + tensorBytes);
  out.set(header, 0);
  const rand = rng(1234);
  let p = header.length;
  entries.forEach((e, i) => {
    const n = e.byteLength / (e.dtype === 'f32' ? 4 : 2);
    const dv = new DataView(out.buffer, p, e.byteLength);
    const isNorm = tensors[i]!.norm;
    for (let j = 0; j < n; j++) {
      const v = isNorm ? (arch === 'gemma3' ? 0 : 1) : (rand() - 0.5) * 0.1;
      if (e.dtype === 'f32') dv.setFloat32(j * 4, v, true);
      else dv.setUint16(j * 2, f32ToF16(v), true);
    }
    p += e.byteLength + padding[i]!;
  });
  return { bytes: out, vocab: V, tensorBytes };
}
