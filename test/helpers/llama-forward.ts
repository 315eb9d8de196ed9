/**
 * A reference forward pass of a Hugging Face llama-family causal LM (transformers'
 * LlamaForCausalLM, eager attention), on the HF weights as stored in the checkpoint — the q/k
 * rows in HF's order, rotary embeddings in HF's `rotate_half` convention (the two halves of each
 * head are rotated together, not adjacent pairs). Everything is computed in float64.
 *
 *   embedding → per layer: x += o_proj(attn(rope(q), rope(k), v)) on RMSNorm(x);
 *                          x += down(silu(gate(h)) · up(h)) on RMSNorm(x)
 *   → final RMSNorm → lm_head
 *
 * Attention is grouped-query (head h reads KV head ⌊h / (heads / kvHeads)⌋) with a causal mask and
 * 1/√head_dim scaling. Test-only code.
 */

export interface LlamaConfig {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  ropeTheta: number;
  rmsNormEps: number;
  vocab: number;
  /** Default hidden / heads. */
  headDim?: number;
}

/** HF tensor name → row-major values ([out, in] for linear layers). */
export type HfWeights = Map<string, Float32Array>;

function get(w: HfWeights, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`missing weight ${name}`);
  return t;
}

/** y = W x for W [out, in] row-major. */
function linear(W: Float32Array, x: Float64Array, out: number): Float64Array {
  const inn = x.length;
  if (W.length !== out * inn) throw new Error(`linear: weight of ${W.length} values is not ${out}×${inn}`);
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    const base = o * inn;
    for (let i = 0; i < inn; i++) s += W[base + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = w[i]! * (x[i]! * r);
  return y;
}

/** HF apply_rotary_pos_emb on one head vector (length d) at position `pos`, in place. */
function ropeHalf(v: Float64Array, off: number, d: number, pos: number, theta: number): void {
  const half = d / 2;
  for (let i = 0; i < half; i++) {
    const invFreq = 1 / theta ** ((2 * i) / d);
    const a = pos * invFreq;
    const c = Math.cos(a);
    const s = Math.sin(a);
    const x1 = v[off + i]!;
    const x2 = v[off + i + half]!;
    // q·cos + rotate_half(q)·sin, rotate_half(x) = cat(−x2, x1); cos/sin = cat(freqs, freqs)
    v[off + i] = x1 * c - x2 * s;
    v[off + i + half] = x2 * c + x1 * s;
  }
}

const silu = (x: number) => x / (1 + Math.exp(-x));

/** Logits (float64) for every position of `tokens`. */
export function llamaForward(cfg: LlamaConfig, w: HfWeights, tokens: number[]): Float64Array[] {
  const { hidden: H, heads, kvHeads, intermediate: I, vocab: V } = cfg;
  const d = cfg.headDim ?? H / heads;
  const group = heads / kvHeads;
  if (!Number.isInteger(group)) throw new Error('heads must be a multiple of kvHeads');
  const T = tokens.length;
  const embed = get(w, 'model.embed_tokens.weight');
  let xs: Float64Array[] = tokens.map((t) => {
    if (t < 0 || t >= V) throw new Error(`token ${t} out of range`);
    return Float64Array.from(embed.subarray(t * H, (t + 1) * H));
  });
  const scale = 1 / Math.sqrt(d);
  for (let l = 0; l < cfg.layers; l++) {
    const p = `model.layers.${l}.`;
    const hs = xs.map((x) => rmsNorm(x, get(w, `${p}input_layernorm.weight`), cfg.rmsNormEps));
    const q = hs.map((h) => linear(get(w, `${p}self_attn.q_proj.weight`), h, heads * d));
    const k = hs.map((h) => linear(get(w, `${p}self_attn.k_proj.weight`), h, kvHeads * d));
    const v = hs.map((h) => linear(get(w, `${p}self_attn.v_proj.weight`), h, kvHeads * d));
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < heads; h++) ropeHalf(q[t]!, h * d, d, t, cfg.ropeTheta);
      for (let h = 0; h < kvHeads; h++) ropeHalf(k[t]!, h * d, d, t, cfg.ropeTheta);
    }
    const attn = xs.map(() => new Float64Array(heads * d));
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < heads; h++) {
        const kh = Math.floor(h / group);
        const scores = new Float64Array(t + 1);
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let i = 0; i < d; i++) dot += q[t]![h * d + i]! * k[s]![kh * d + i]!;
          scores[s] = dot * scale;
          if (scores[s]! > max) max = scores[s]!;
        }
        let sum = 0;
        for (let s = 0; s <= t; s++) sum += scores[s] = Math.exp(scores[s]! - max);
        for (let s = 0; s <= t; s++) {
          const pr = scores[s]! / sum;
          for (let i = 0; i < d; i++) attn[t]![h * d + i]! += pr * v[s]![kh * d + i]!;
        }
      }
    }
    xs = xs.map((x, t) => {
      const o = linear(get(w, `${p}self_attn.o_proj.weight`), attn[t]!, H);
      const y = new Float64Array(H);
      for (let i = 0; i < H; i++) y[i] = x[i]! + o[i]!;
      return y;
    });
    xs = xs.map((x) => {
      const h = rmsNorm(x, get(w, `${p}post_attention_layernorm.weight`), cfg.rmsNormEps);
      const gate = linear(get(w, `${p}mlp.gate_proj.weight`), h, I);
      const up = linear(get(w, `${p}mlp.up_proj.weight`), h, I);
      const act = new Float64Array(I);
      for (let i = 0; i < I; i++) act[i] = silu(gate[i]!) * up[i]!;
      const down = linear(get(w, `${p}mlp.down_proj.weight`), act, H);
      const y = new Float64Array(H);
      for (let i = 0; i < H; i++) y[i] = x[i]! + down[i]!;
      return y;
    });
  }
  const lmHead = w.get('lm_head.weight') ?? embed; // tied embeddings when lm_head is absent
  return xs.map((x) => linear(lmHead, rmsNorm(x, get(w, 'model.norm.weight'), cfg.rmsNormEps), V));
}
