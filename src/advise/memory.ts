/**
 * Memory a model needs to run: weights + KV cache (by the architecture's real attention layout:
 * layers, KV heads, head sizes, sliding-window layers) + compute buffers + runtime overhead.
 * The formulas follow llama.cpp (llama-kv-cache.cpp, llama-graph.cpp) and gguf-parser-go's
 * estimator; the constants are calibrated against node-llama-cpp's own reports in the tests.
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
  /** Which layers use the sliding window: every n-th layer is global (gemma3: 6), or all (true). */
  slidingWindowPattern?: number | boolean[];
  experts?: number;
  expertsUsed?: number;
}

export interface MemoryOptions {
  context: number;
  /** Micro-batch (tokens evaluated at once); llama.cpp's n_ubatch, default 512. */
  batch?: number;
  /** KV cache element type: f16 (default), f32, q8_0 (34/32 bytes), q4_0 (18/32). */
  kvType?: 'f16' | 'f32' | 'bf16' | 'q8_0' | 'q4_0';
  /** Bits per weight for the planned quantization (when weights are not stored yet). */
  bitsPerWeight?: number;
  /** Parallel sequences (slots). */
  sequences?: number;
}

export interface MemoryEstimate {
  weights: number;
  kvCache: number;
  compute: number;
  overhead: number;
  total: number;
  /** Per-layer bytes (weights + KV) for partial offloading. */
  perLayer: number;
  /** How the numbers were made. */
  notes: string[];
}

const KV_BYTES: Record<NonNullable<MemoryOptions['kvType']>, number> = { f32: 4, f16: 2, bf16: 2, q8_0: 34 / 32, q4_0: 18 / 32 };
/** Runtime overhead outside the buffers: context structs, scheduler, thread pools (measured, MiB). */
export const RUNTIME_OVERHEAD = 4 * 1024 * 1024;
/** llama.cpp pads the KV cache length (kv_size) to this many cells. */
export const KV_PAD = 256;

export function shapeFromHyperParameters(hp: HyperParameters | undefined, parameters: number, weightBytes?: number): ModelShape {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
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
    slidingWindow: n(hp?.slidingWindow),
    slidingWindowPattern: n(hp?.slidingWindowPattern) ?? (Array.isArray(hp?.slidingWindowPattern) ? (hp!.slidingWindowPattern as boolean[]) : undefined),
    experts: n(hp?.experts),
    expertsUsed: n(hp?.expertsUsed),
  };
}

function pad(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Is layer `i` a sliding-window layer? */
export function isSwaLayer(shape: ModelShape, i: number): boolean {
  if (!shape.slidingWindow) return false;
  const p = shape.slidingWindowPattern;
  if (Array.isArray(p)) return !!p[i];
  if (typeof p === 'number' && p > 0) return (i + 1) % p !== 0; // every p-th layer is global
  return true;
}

export function estimateMemory(shape: ModelShape, opts: MemoryOptions): MemoryEstimate {
  const notes: string[] = [];
  const ubatch = Math.min(opts.batch ?? 512, opts.context);
  const seqs = opts.sequences ?? 1;
  const weights = shape.weightBytes ?? Math.ceil((shape.parameters * (opts.bitsPerWeight ?? 16)) / 8);
  if (shape.weightBytes === undefined) notes.push(`weights from ${shape.parameters} parameters at ${opts.bitsPerWeight ?? 16} bits/weight`);
  const layers = shape.layers ?? 0;
  const heads = shape.heads ?? 0;
  const kvHeads = shape.kvHeads ?? heads;
  const dk = shape.headDim ?? (shape.embedding && heads ? shape.embedding / heads : 0);
  const dv = shape.valueDim ?? dk;
  const kvb = KV_BYTES[opts.kvType ?? 'f16'];
  const ctx = pad(opts.context * seqs, KV_PAD);
  let kvCache = 0;
  let swaLayers = 0;
  for (let i = 0; i < layers; i++) {
    let cells = ctx;
    if (isSwaLayer(shape, i)) {
      swaLayers++;
      cells = Math.min(ctx, pad(shape.slidingWindow! * seqs + ubatch, KV_PAD));
    }
    kvCache += cells * kvHeads * (dk + dv) * kvb;
  }
  if (layers === 0) notes.push('no layer count: KV cache not estimated');
  else notes.push(`KV cache: ${layers} layers × ${kvHeads} KV heads × (${dk}+${dv}) × ${kvb} B per cell, ${ctx} cells${swaLayers ? ` (${swaLayers} sliding-window layers capped at ${shape.slidingWindow} + batch)` : ''}`);
  // Compute buffer: the largest live intermediates of one micro-batch (llama.cpp's graph allocator
  // reuses memory across layers): attention scores, FFN activations, logits, plus inputs.
  const emb = shape.embedding ?? 0;
  const ff = (shape.feedForward ?? 4 * emb) * (shape.expertsUsed ? Math.max(1, shape.expertsUsed) : 1);
  const vocab = shape.vocab ?? 0;
  const kq = ctx * ubatch * heads * 4;
  const ffn = ff * ubatch * 4 * 2;
  const attn = emb * ubatch * 4 * 4;
  const logits = vocab * ubatch * 4;
  const inputs = emb * ubatch * 4 + ctx * ubatch * 4;
  const compute = Math.max(kq, ffn, attn, logits) + inputs;
  notes.push(`compute buffer for a ${ubatch}-token micro-batch`);
  const overhead = RUNTIME_OVERHEAD;
  const embeddingBytes = (vocab * emb * (opts.bitsPerWeight ?? 16)) / 8; // token_embd + output stay on the host side
  const perLayer = layers > 0 ? (weights - 2 * embeddingBytes) / layers + kvCache / layers : 0;
  return { weights, kvCache, compute, overhead, total: weights + kvCache + compute + overhead, perLayer: Math.max(0, perLayer), notes };
}
