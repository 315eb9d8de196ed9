/**
 * A tiny random llama-family checkpoint in Hugging Face layout, built in code for the whole-file
 * convert test: config.json, model.safetensors (seeded random bf16 or f32 weights, HF names and
 * [out, in] shapes), tokenizer.model (a SentencePiece ModelProto made from a real vocabulary) and
 * tokenizer_config.json (special tokens, add_bos_token, a chat template).
 *
 * The vocabulary comes from a GGUF vocab file (llama.cpp's ggml-vocab-llama-spm.gguf in
 * ../shared/corpus), read with modelwise's own GGUF reader. Test-only code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGgufHeader } from '../../src/formats/gguf/inspect.js';
import { FileSource } from '../../src/node/file-source.js';
import { safetensorsHeader } from '../../src/convert/writers/safetensors.js';
import { rng } from './random.js';
import type { LlamaConfig } from './llama-forward.js';

export interface SpmPiece {
  piece: string;
  score: number;
  /** SentencePiece type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. */
  type: number;
}

export interface SpmVocab {
  pieces: SpmPiece[];
  bos: number;
  eos: number;
  unk: number;
  addBos: boolean;
}

/** tokens / scores / token_type (and special ids) of a GGUF vocabulary. */
export async function readGgufVocab(path: string): Promise<SpmVocab> {
  const src = await FileSource.open(path);
  try {
    const h = await readGgufHeader(src, { fullArrays: 1_000_000 });
    const md = h.metadata;
    const tokens = md['tokenizer.ggml.tokens'];
    const scores = md['tokenizer.ggml.scores'];
    const types = md['tokenizer.ggml.token_type'];
    if (md['tokenizer.ggml.model'] !== 'llama') throw new Error(`${path}: tokenizer.ggml.model is ${String(md['tokenizer.ggml.model'])}, not llama (SentencePiece)`);
    if (!Array.isArray(tokens) || !Array.isArray(scores) || !Array.isArray(types)) throw new Error(`${path}: vocabulary arrays missing`);
    if (scores.length !== tokens.length || types.length !== tokens.length) throw new Error(`${path}: vocabulary arrays differ in length`);
    const pieces = tokens.map((t, i) => ({ piece: String(t), score: Number(scores[i]), type: Number(types[i]) }));
    const id = (k: string, d: number) => (typeof md[k] === 'number' ? (md[k] as number) : d);
    return {
      pieces,
      bos: id('tokenizer.ggml.bos_token_id', 1),
      eos: id('tokenizer.ggml.eos_token_id', 2),
      unk: id('tokenizer.ggml.unknown_token_id', 0),
      addBos: md['tokenizer.ggml.add_bos_token'] !== false,
    };
  } finally {
    await src.close();
  }
}

/* ---- a minimal protobuf writer ---- */

class Proto {
  private parts: number[] = [];
  private varint(v: bigint) {
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }
  private tag(field: number, wire: number) {
    this.varint(BigInt((field << 3) | wire));
  }
  /** int32 / enum / bool (negative values take ten bytes, as protobuf encodes them). */
  int(field: number, v: number | boolean) {
    this.tag(field, 0);
    this.varint(BigInt(typeof v === 'boolean' ? (v ? 1 : 0) : v));
  }
  float(field: number, v: number) {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
  }
  bytes(field: number, b: Uint8Array) {
    this.tag(field, 2);
    this.varint(BigInt(b.length));
    for (const x of b) this.parts.push(x);
  }
  string(field: number, s: string) {
    this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, m: Proto) {
    this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/**
 * A SentencePiece `ModelProto` (sentencepiece_model.proto): pieces (1) {piece 1, score 2, type 3},
 * trainer_spec (2) as Llama's tokenizer.model has it (BPE, byte fallback, unk/bos/eos/pad ids), and
 * normalizer_spec (3) "identity" with add_dummy_prefix.
 */
export function sentencePieceModel(v: SpmVocab): Uint8Array {
  const m = new Proto();
  for (const p of v.pieces) {
    const sp = new Proto();
    sp.string(1, p.piece);
    sp.float(2, p.score);
    if (p.type !== 1) sp.int(3, p.type); // NORMAL is the default
    m.message(1, sp);
  }
  const trainer = new Proto();
  trainer.int(3, 2); // model_type = BPE
  trainer.int(4, v.pieces.length); // vocab_size
  trainer.int(35, true); // byte_fallback
  trainer.int(40, v.unk); // unk_id
  trainer.int(41, v.bos); // bos_id
  trainer.int(42, v.eos); // eos_id
  trainer.int(43, -1); // pad_id
  m.message(2, trainer);
  const norm = new Proto();
  norm.string(1, 'identity');
  norm.int(3, true); // add_dummy_prefix
  norm.int(4, false); // remove_extra_whitespaces
  norm.int(5, true); // escape_whitespaces
  m.message(3, norm);
  return m.finish();
}

/** The Llama-2 chat template, as meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json has it. */
export const LLAMA2_CHAT_TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}" +
  "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

/* ---- weights ---- */

/** f32 → bf16 bits, round to nearest even (NaN kept quiet), as torch does. */
function bf16Bits(x: number, f: Float32Array, u: Uint32Array): number {
  f[0] = x;
  const b = u[0]!;
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export interface TinyLlama {
  dir: string;
  config: LlamaConfig;
  /** HF name → values (exactly what is stored, after bf16 rounding), row-major [out, in]. */
  weights: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
  vocab: SpmVocab;
  chatTemplate: string;
}

export interface TinyLlamaOptions {
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  intermediate?: number;
  ropeTheta?: number;
  rmsNormEps?: number;
  dtype?: 'bf16' | 'f32';
  seed?: number;
  modelType?: 'llama' | 'mistral';
}

/**
 * Write the checkpoint into `dir`. Weights are seeded uniform noise scaled so activations and
 * logits are O(1) (embeddings of variance 1, projections of variance 1/fan_in, norms 1 ± 0.17): the
 * logits then have a real spread, and a wrong rotary permutation or head layout moves them far
 * beyond any tolerance.
 */
export function writeTinyLlama(dir: string, vocab: SpmVocab, o: TinyLlamaOptions = {}): TinyLlama {
  const config: LlamaConfig = {
    hidden: o.hidden ?? 256,
    layers: o.layers ?? 2,
    heads: o.heads ?? 4,
    kvHeads: o.kvHeads ?? 2,
    intermediate: o.intermediate ?? 384,
    ropeTheta: o.ropeTheta ?? 10000,
    rmsNormEps: o.rmsNormEps ?? 1e-5,
    vocab: vocab.pieces.length,
  };
  const dtype = o.dtype ?? 'bf16';
  const { hidden: H, intermediate: I, heads, kvHeads, layers, vocab: V } = config;
  const hd = H / heads;
  const specs: [string, number[], 'embed' | 'proj' | 'norm'][] = [['model.embed_tokens.weight', [V, H], 'embed']];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    specs.push(
      [`${p}input_layernorm.weight`, [H], 'norm'],
      [`${p}self_attn.q_proj.weight`, [heads * hd, H], 'proj'],
      [`${p}self_attn.k_proj.weight`, [kvHeads * hd, H], 'proj'],
      [`${p}self_attn.v_proj.weight`, [kvHeads * hd, H], 'proj'],
      [`${p}self_attn.o_proj.weight`, [H, heads * hd], 'proj'],
      [`${p}post_attention_layernorm.weight`, [H], 'norm'],
      [`${p}mlp.gate_proj.weight`, [I, H], 'proj'],
      [`${p}mlp.up_proj.weight`, [I, H], 'proj'],
      [`${p}mlp.down_proj.weight`, [H, I], 'proj'],
    );
  }
  specs.push(['model.norm.weight', [H], 'norm'], ['lm_head.weight', [V, H], 'proj']);

  const u01 = rng(o.seed ?? 20240611);
  const g = () => (2 * u01() - 1) * Math.sqrt(3); // mean 0, variance 1
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const weights = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  const blobs: Uint8Array[] = [];
  const entries = specs.map(([name, shape, kind]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const scale = kind === 'embed' ? 1 : kind === 'proj' ? 1 / Math.sqrt(shape[1]!) : 0.1;
    const vals = new Float32Array(n);
    let bytes: Uint8Array;
    if (dtype === 'bf16') {
      const bits = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const x = kind === 'norm' ? 1 + scale * g() : scale * g();
        bits[i] = bf16Bits(x, f, u);
        u[0] = bits[i]! << 16;
        vals[i] = f[0]!;
      }
      bytes = new Uint8Array(bits.buffer);
    } else {
      for (let i = 0; i < n; i++) vals[i] = kind === 'norm' ? 1 + scale * g() : scale * g();
      bytes = new Uint8Array(vals.buffer.slice(0));
    }
    weights.set(name, vals);
    shapes.set(name, shape);
    blobs.push(bytes);
    return { name, dtype, shape, byteLength: bytes.length };
  });

  mkdirSync(dir, { recursive: true });
  const header = safetensorsHeader(entries, { format: 'pt' });
  writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([header, ...blobs]));
  const hfConfig = {
    architectures: ['LlamaForCausalLM'],
    model_type: o.modelType ?? 'llama',
    hidden_size: H,
    intermediate_size: I,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    hidden_act: 'silu',
    max_position_embeddings: 2048,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: null,
    vocab_size: V,
    tie_word_embeddings: false,
    bos_token_id: vocab.bos,
    eos_token_id: vocab.eos,
    torch_dtype: dtype === 'bf16' ? 'bfloat16' : 'float32',
    transformers_version: '4.44.0',
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig, null, 2));
  writeFileSync(join(dir, 'tokenizer.model'), sentencePieceModel(vocab));
  const tok = (i: number) => vocab.pieces[i]!.piece;
  const tokenizerConfig = {
    add_bos_token: vocab.addBos,
    add_eos_token: false,
    bos_token: { __type: 'AddedToken', content: tok(vocab.bos), lstrip: false, normalized: false, rstrip: false, single_word: false },
    eos_token: { __type: 'AddedToken', content: tok(vocab.eos), lstrip: false, normalized: false, rstrip: false, single_word: false },
    unk_token: { __type: 'AddedToken', content: tok(vocab.unk), lstrip: false, normalized: false, rstrip: false, single_word: false },
    pad_token: null,
    clean_up_tokenization_spaces: false,
    legacy: false,
    model_max_length: 2048,
    sp_model_kwargs: {},
    tokenizer_class: 'LlamaTokenizer',
    chat_template: LLAMA2_CHAT_TEMPLATE,
  };
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
  return { dir, config, weights, shapes, vocab, chatTemplate: LLAMA2_CHAT_TEMPLATE };
}
