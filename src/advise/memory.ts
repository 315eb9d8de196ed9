/**
 * Memory a model needs to run in llama.cpp: weights + KV cache (by the architecture's real attention
 * layout: layers, KV heads, head sizes, sliding-window layers) + compute buffer + runtime overhead.
 *
 * Every term mirrors a llama.cpp allocation, and the constants are checked against what llama.cpp
 * itself logs ("CPU_Mapped model buffer size", "CPU KV buffer size", "CPU compute buffer size") for
 * generated models loaded through node-llama-cpp 3.21.1 (test/advise/estimator.test.ts), plus
 * published logs of real models (Llama-3-8B: 258.50 MiB compute at n_ubatch 512; Qwen2.5-7B: 304.00 MiB).
 *
 * Sources (ggml-org/llama.cpp):
 * - src/llama-context.cpp, `llama_context::llama_context`: `n_ctx = GGML_PAD(n_ctx, 256)`; without a
 *   unified KV cache each of the `n_seq_max` streams gets `n_ctx_seq = GGML_PAD(n_ctx / n_seq_max, 256)`
 *   cells; `n_ubatch = min(n_batch, n_ubatch)`, n_batch ≤ n_ctx; the output buffer holds
 *   `n_vocab` f32 logits for each of the `n_seq_max` outputs reserved at start (`output_reserve`).
 * - src/llama-kv-cache.cpp, `llama_kv_cache::llama_kv_cache`: for each layer one K tensor
 *   `[n_embd_k_gqa, kv_size, n_stream]` and one V tensor `[n_embd_v_gqa, kv_size, n_stream]` of the
 *   cache type (f16 by default), so bytes = Σ_layers kv_size · n_stream · (row_size(k) + row_size(v)).
 * - src/llama-kv-cache-iswa.cpp: sliding-window layers get their own cache of
 *   `GGML_PAD(min(size_base, n_swa · (unified ? n_seq_max : 1) + n_ubatch), 256)` cells (all cells with
 *   `swa_full`); src/llama-hparams.cpp `set_swa_pattern(n)`: layer il uses the window iff
 *   `il % n < n - 1` (every n-th layer is global; gemma2 n=2, gemma3 n=6, cohere2 n=4 …).
 * - src/llama-graph.cpp + ggml-alloc.c: the compute buffer is the peak of the worst-case graph (one
 *   micro-batch of n_ubatch tokens, every token an output, the whole KV cache visible) after ggml's
 *   allocator reuses freed tensors. Three phases compete for the peak:
 *     attention: the KQ mask `[n_kv, n_ubatch]` (f16 with flash attention, f32 without; one per cache)
 *       stays live across the layers; without flash attention `kq = mul_mat(k, q)` materialises
 *       `[n_kv, n_ubatch, n_head]` f32 scores (the term that explodes at long context), plus Q/K/V and
 *       their RoPE'd copies, the attention output and the residual;
 *     feed-forward: gate, up and the SwiGLU product `[n_ff, n_ubatch]` f32 plus a few `[n_embd]`
 *       residual / norm tensors (n_ff × experts used for MoE, `ggml_mul_mat_id`);
 *     output: logits `[n_vocab, n_ubatch]` f32 plus the final norm `[n_embd, n_ubatch]`, after the
 *       layers' tensors (and the mask) are freed.
 */
import type { HyperParameters } from '../types.js';

export interface ModelShape {
  /** Parameter count (elements of every weight). */
  parameters: number;
  /** Bytes of weights as stored (when known: an inspected file). */
  weightBytes?: number;
  layers?: number;
  embedding?: number;
  heads?: number;
  kvHeads?: number;
  /** Key / value head sizes (default embedding / heads). */
  headDim?: number;
  valueDim?: number;
  feedForward?: number;
  vocab?: number;
  contextLength?: number;
  slidingWindow?: number;
  /** Which layers use the sliding window: every n-th layer is global (gemma3: 6), or one flag per layer. */
  slidingWindowPattern?: number | boolean[];
  experts?: number;
  expertsUsed?: number;
  /** false for encoders (BERT-style embedding models): no KV cache, no logits. */
  causal?: boolean;
}

export type KvType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q5_1' | 'q5_0' | 'q4_1' | 'q4_0' | 'iq4_nl';

export interface MemoryOptions {
  /** Context length per sequence (llama.cpp's n_ctx for one sequence). */
  context: number;
  /** Micro-batch (tokens evaluated at once); llama.cpp's n_ubatch, default 512. */
  batch?: number;
  /** KV cache element type: f16 (default), f32, q8_0 (34/32 bytes) … */
  kvType?: KvType;
  /** Bits per weight for the planned quantization (when weights are not stored yet). */
  bitsPerWeight?: number;
  /** Parallel sequences (slots), each with its own KV stream (llama.cpp's non-unified cache). */
  sequences?: number;
  /** Flash attention (llama.cpp's default "auto" enables it on CPU, CUDA, Metal and Vulkan). Default true. */
  flashAttention?: boolean;
  /** Sliding-window layers keep the full context (llama.cpp --swa-full). */
  swaFull?: boolean;
  /** Runtime footprint outside llama.cpp's buffers, in bytes (default PLATFORM_FOOTPRINT.ram). */
  footprint?: number;
}

export interface MemoryEstimate {
  weights: number;
  kvCache: number;
  compute: number;
  overhead: number;
  total: number;
  /** Per-layer bytes (weights + KV) for partial offloading. */
  perLayer: number;
  /** The numbers behind the estimate (cells, micro-batch, which phase sets the compute peak). */
  details: {
    ubatch: number;
    cells: number;
    swaCells: number;
    swaLayers: number;
    flashAttention: boolean;
    computePhase: 'attention' | 'feed-forward' | 'output' | 'none';
    outputBuffer: number;
  };
  /** How the numbers were made. */
  notes: string[];
}

/** Bytes per element of each KV cache type: ggml_type_size / ggml_blck_size. */
export const KV_BYTES: Record<KvType, number> = { f32: 4, f16: 2, bf16: 2, q8_0: 34 / 32, q5_1: 24 / 32, q5_0: 22 / 32, q4_1: 20 / 32, q4_0: 18 / 32, iq4_nl: 18 / 32 };

/**
 * Memory the runtime uses outside llama.cpp's buffers (process, libraries, tokenizer tables, thread
 * pools; on a GPU the driver context). gguf-parser-go's `--platform-footprint` default is 150 MiB RAM,
 * 250 MiB VRAM (https://github.com/gpustack/gguf-parser-go, cmd/gguf-parser/README.md). Measured here:
 * llama.cpp inside node-llama-cpp grows the RSS by about 25 MiB for a tiny model, so 150 MiB is a
 * safe allowance for a server process.
 */
export const PLATFORM_FOOTPRINT = { ram: 150 * 1024 * 1024, vram: 250 * 1024 * 1024 };
/** Kept for callers of the previous API: the RAM footprint. */
export const RUNTIME_OVERHEAD = PLATFORM_FOOTPRINT.ram;
/** llama.cpp pads the context (and the sliding-window cache) to this many cells. */
export const KV_PAD = 256;
/** llama.cpp's default micro-batch (n_ubatch). */
export const DEFAULT_UBATCH = 512;

/**
 * Sliding-window layout llama.cpp hard-codes per architecture when the GGUF has no
 * `{arch}.attention.sliding_window_pattern` (src/llama-model.cpp `load_hparams`, `set_swa_pattern(n)`).
 */
export const SWA_PATTERN_BY_ARCH: Record<string, number> = {
  gemma2: 2,
  gemma3: 6,
  gemma3n: 5,
  cohere2: 4,
  'gpt-oss': 2,
  llama4: 4,
  exaone4: 4,
};

/** Encoder architectures (non-causal): no KV cache and no logits. */
export const NON_CAUSAL_ARCHS = new Set(['bert', 'nomic-bert', 'nomic-bert-moe', 'jina-bert-v2', 'jina-bert-v3', 'neo-bert', 'modern-bert', 't5encoder']);

export function shapeFromHyperParameters(hp: HyperParameters | undefined, parameters: number, weightBytes?: number, arch?: string | null): ModelShape {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
  const rawPattern = hp?.slidingWindowPattern;
  let pattern: ModelShape['slidingWindowPattern'] = n(rawPattern) ?? (Array.isArray(rawPattern) ? rawPattern.map((x) => !!x) : undefined);
  const a = (arch ?? '').toLowerCase();
  if (pattern === undefined && a in SWA_PATTERN_BY_ARCH) pattern = SWA_PATTERN_BY_ARCH[a];
  // llama.cpp only uses a window for architectures that implement one (a pattern given or known).
  const slidingWindow = pattern !== undefined ? n(hp?.slidingWindow) : undefined;
  return {
    parameters,
    weightBytes,
    layers: n(hp?.layers),
    embedding: n(hp?.embeddingLength),
    heads: n(hp?.heads),
    kvHeads: n(hp?.kvHeads),
    headDim: n(hp?.headDim),
    valueDim: n(hp?.valueDim),
    feedForward: n(hp?.feedForwardLength),
    vocab: n(hp?.vocabSize),
    contextLength: n(hp?.contextLength),
    slidingWindow,
    slidingWindowPattern: slidingWindow ? pattern : undefined,
    experts: n(hp?.experts),
    expertsUsed: n(hp?.expertsUsed),
    ...(NON_CAUSAL_ARCHS.has(a) ? { causal: false } : {}),
  };
}

function pad(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Is layer `i` a sliding-window layer? (llama_hparams::set_swa_pattern) */
export function isSwaLayer(shape: ModelShape, i: number): boolean {
  if (!shape.slidingWindow) return false;
  const p = shape.slidingWindowPattern;
  if (Array.isArray(p)) return !!p[i];
  if (typeof p === 'number' && p > 0) return i % p < p - 1;
  return true; // n_pattern 0: every layer
}

export function estimateMemory(shape: ModelShape, opts: MemoryOptions): MemoryEstimate {
  const notes: string[] = [];
  const seqs = Math.max(1, Math.floor(opts.sequences ?? 1));
  const causal = shape.causal !== false;
  const fa = opts.flashAttention ?? true;
  // llama_context: n_ctx padded to 256, split into per-sequence streams (each padded to 256).
  const cells = pad(Math.max(1, opts.context), KV_PAD);
  // n_batch ≤ n_ctx for causal models; n_ubatch ≤ n_batch.
  const ubatch = Math.max(1, Math.min(opts.batch ?? DEFAULT_UBATCH, causal ? cells * seqs : Infinity));
  const weights = shape.weightBytes ?? Math.ceil((shape.parameters * (opts.bitsPerWeight ?? 16)) / 8);
  if (shape.weightBytes === undefined) notes.push(`weights from ${shape.parameters} parameters at ${opts.bitsPerWeight ?? 16} bits/weight`);

  const layers = shape.layers ?? 0;
  const heads = shape.heads ?? 0;
  const kvHeads = shape.kvHeads ?? heads;
  const emb = shape.embedding ?? 0;
  const dk = shape.headDim ?? (emb && heads ? emb / heads : 0);
  const dv = shape.valueDim ?? dk;
  const kvb = KV_BYTES[opts.kvType ?? 'f16'];
  // llama_kv_cache_iswa: the window cache holds n_swa + n_ubatch cells per stream (padded), at most the base size.
  const swaCells = shape.slidingWindow ? (opts.swaFull ? cells : pad(Math.min(cells, shape.slidingWindow + ubatch), KV_PAD)) : 0;

  let kvCache = 0;
  let swaLayers = 0;
  if (causal) {
    for (let i = 0; i < layers; i++) {
      const swa = isSwaLayer(shape, i);
      if (swa) swaLayers++;
      kvCache += (swa ? swaCells : cells) * seqs * kvHeads * (dk + dv) * kvb;
    }
  }
  const globalLayers = layers - swaLayers;
  if (!causal) notes.push('encoder (non-causal) model: no KV cache, no logits');
  else if (layers === 0) notes.push('no layer count: KV cache not estimated');
  else {
    const streams = seqs > 1 ? ` × ${seqs} sequences` : '';
    notes.push(
      `KV cache: ${kvHeads} KV heads × (${dk}+${dv}) × ${kvb} B per cell and layer; ` +
        (swaLayers
          ? `${globalLayers} global layers × ${cells} cells + ${swaLayers} sliding-window layers × ${swaCells} cells (window ${shape.slidingWindow} + micro-batch ${ubatch}, padded to ${KV_PAD})${streams}`
          : `${layers} layer${layers === 1 ? '' : 's'} × ${cells} cells${streams}`),
    );
  }

  // Compute buffer: the peak of three phases of the worst-case micro-batch graph (see the header).
  let compute = 0;
  let computePhase: MemoryEstimate['details']['computePhase'] = 'none';
  if (layers > 0 && emb > 0) {
    const T = ubatch;
    const f32 = 4;
    const qDim = heads * dk; // n_embd_head_k · n_head
    const kvDim = kvHeads * Math.max(dk, dv); // n_embd_k_gqa
    // Keys visible to one micro-batch: the whole stream for global layers, the window cache otherwise.
    const nKv = causal ? (globalLayers > 0 ? cells : swaCells) : T;
    const maskBytes = fa ? 2 : 4;
    const mask = T * (causal ? (globalLayers > 0 ? cells : 0) + (swaLayers > 0 ? swaCells : 0) : T) * maskBytes;
    // Flash attention fuses softmax(QKᵀ)V: live tensors are Q, RoPE(Q), the output and a copy
    // (4 × n_head·d_k), the residual (n_embd) and the new K/V rows (n_embd_k_gqa).
    // Without it, KQ scores [n_kv, T, n_head] f32 plus 3 × n_embd + 2 × Q + 2 × K/V rows.
    const attention = fa
      ? mask + T * f32 * (4 * qDim + emb + kvDim)
      : mask + nKv * T * heads * f32 + T * f32 * (3 * emb + 2 * qDim + 2 * kvDim);
    // SwiGLU feed-forward: gate, up and their product (3 × n_ff) with 4 (5 without FA) n_embd tensors.
    const ff = (shape.feedForward ?? 4 * emb) * (shape.expertsUsed ? Math.max(1, shape.expertsUsed) : 1);
    const router = shape.experts ? shape.experts * T * f32 : 0;
    const feedForward = mask + T * f32 * (3 * ff + (fa ? 4 : 5) * emb) + router;
    // Output head: logits for every token of the micro-batch + the final norm.
    const output = causal && shape.vocab ? T * f32 * (shape.vocab + emb) : 0;
    compute = Math.max(attention, feedForward, output);
    computePhase = compute === output ? 'output' : compute === feedForward ? 'feed-forward' : 'attention';
    notes.push(
      `compute buffer for a ${T}-token micro-batch, flash attention ${fa ? 'on' : 'off'}: peak in the ${computePhase} phase` +
        (computePhase === 'output' ? ` (${shape.vocab} logits per token)` : computePhase === 'attention' && !fa ? ` (${nKv}×${T}×${heads} attention scores)` : ''),
    );
  } else if (layers > 0) notes.push('no embedding size: compute buffer not estimated');

  // llama_context::output_reserve: n_vocab f32 logits for each sequence, kept on the host.
  const outputBuffer = causal && shape.vocab ? shape.vocab * 4 * seqs : 0;
  const overhead = (opts.footprint ?? PLATFORM_FOOTPRINT.ram) + outputBuffer;
  const embeddingBytes = ((shape.vocab ?? 0) * emb * (opts.bitsPerWeight ?? 16)) / 8; // token_embd + output stay on the host side
  const perLayer = layers > 0 ? (weights - 2 * embeddingBytes) / layers + kvCache / layers : 0;
  return {
    weights,
    kvCache,
    compute,
    overhead,
    total: weights + kvCache + compute + overhead,
    perLayer: Math.max(0, perLayer),
    details: { ubatch, cells: cells * seqs, swaCells: swaCells * seqs, swaLayers, flashAttention: fa, computePhase, outputBuffer },
    notes,
  };
}
