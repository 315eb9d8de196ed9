/**
 * A GGUF v3 header shaped like a real Qwen2.5-1.5B F16 conversion (llama.cpp convert_hf_to_gguf.py):
 * general.* and qwen2.* keys, a byte-level BPE tokenizer of 151 936 tokens with `scores` (f32) and
 * `token_type` (i32) arrays and 151 387 merges, a 2 KB chat template, and the 338 tensor infos of
 * the model (F16 matrices, F32 norms and biases) whose data section is a hole. The header alone is
 * ~6 MB: the cost of parsing it is the cost of walking ~300 000 strings.
 *
 * Token and merge strings are made by a seeded generator with byte-level-BPE-like lengths
 * (1–16 characters, "Ġ" word prefixes, some multi-byte UTF-8), so both parsers decode the same
 * realistic mix of bytes.
 */
import { ByteWriter } from './bytes.js';
import type { Piece } from './sparse.js';

const T = { U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10 } as const;
const GGML_F32 = 0;
const GGML_F16 = 1;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'etaoinshrdlucmfwypvbgkjqxz';
const EXTRA = ['é', 'ü', 'ñ', 'ا', 'ي', '的', '是', 'の', 'ć', 'ł'];

function token(r: () => number): string {
  const n = 1 + Math.floor(r() * r() * 16);
  let s = r() < 0.55 ? 'Ġ' : '';
  for (let i = 0; i < n; i++) s += r() < 0.04 ? EXTRA[Math.floor(r() * EXTRA.length)] : LETTERS[Math.floor(r() * r() * LETTERS.length)];
  return s;
}

export interface VocabGguf {
  size: number;
  pieces: Piece[];
  headerBytes: number;
  vocab: number;
  merges: number;
  tensors: number;
}

export function qwenVocabGguf(vocab = 151_936, merges = 151_387): VocabGguf {
  const w = new ByteWriter();
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    w.u64(b.length).bytes(b);
  };
  const r = rng(151_936);
  const kvs: [string, () => void][] = [];
  const kvStr = (k: string, v: string) => kvs.push([k, () => (w.u32(T.STRING), str(v))]);
  const kvU32 = (k: string, v: number) => kvs.push([k, () => w.u32(T.U32).u32(v)]);
  const kvF32 = (k: string, v: number) => kvs.push([k, () => (w.u32(T.F32), w.bytes(new Uint8Array(new Float32Array([v]).buffer)))]);
  const kvBool = (k: string, v: boolean) => kvs.push([k, () => w.u32(T.BOOL).u8(v ? 1 : 0)]);
  const kvStrs = (k: string, vs: string[]) =>
    kvs.push([
      k,
      () => {
        w.u32(T.ARRAY).u32(T.STRING).u64(vs.length);
        for (const v of vs) str(v);
      },
    ]);
  kvStr('general.architecture', 'qwen2');
  kvStr('general.type', 'model');
  kvStr('general.name', 'Qwen2.5 1.5B Instruct');
  kvStr('general.finetune', 'Instruct');
  kvStr('general.basename', 'Qwen2.5');
  kvStr('general.size_label', '1.5B');
  kvStr('general.license', 'apache-2.0');
  kvStr('general.license.link', 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/LICENSE');
  kvU32('general.base_model.count', 1);
  kvStr('general.base_model.0.name', 'Qwen2.5 1.5B');
  kvStr('general.base_model.0.organization', 'Qwen');
  kvStr('general.base_model.0.repo_url', 'https://huggingface.co/Qwen/Qwen2.5-1.5B');
  kvStrs('general.tags', ['chat', 'text-generation']);
  kvStrs('general.languages', ['en']);
  kvU32('qwen2.block_count', 28);
  kvU32('qwen2.context_length', 32_768);
  kvU32('qwen2.embedding_length', 1536);
  kvU32('qwen2.feed_forward_length', 8960);
  kvU32('qwen2.attention.head_count', 12);
  kvU32('qwen2.attention.head_count_kv', 2);
  kvF32('qwen2.rope.freq_base', 1_000_000);
  kvF32('qwen2.attention.layer_norm_rms_epsilon', 1e-6);
  kvU32('general.file_type', 1);
  kvStr('tokenizer.ggml.model', 'gpt2');
  kvStr('tokenizer.ggml.pre', 'qwen2');
  const tokens = Array.from({ length: vocab }, () => token(r));
  kvStrs('tokenizer.ggml.tokens', tokens);
  kvs.push([
    'tokenizer.ggml.scores',
    () => {
      w.u32(T.ARRAY).u32(T.F32).u64(vocab);
      const f = new Float32Array(vocab);
      for (let i = 0; i < vocab; i++) f[i] = -i;
      w.bytes(new Uint8Array(f.buffer));
    },
  ]);
  kvs.push([
    'tokenizer.ggml.token_type',
    () => {
      w.u32(T.ARRAY).u32(T.I32).u64(vocab);
      const t = new Int32Array(vocab).fill(1);
      t.fill(3, 151_643);
      w.bytes(new Uint8Array(t.buffer));
    },
  ]);
  kvStrs('tokenizer.ggml.merges', Array.from({ length: merges }, () => `${token(r)} ${token(r).replace(/^Ġ/, '')}`));
  kvU32('tokenizer.ggml.eos_token_id', 151_645);
  kvU32('tokenizer.ggml.padding_token_id', 151_643);
  kvU32('tokenizer.ggml.bos_token_id', 151_643);
  kvBool('tokenizer.ggml.add_bos_token', false);
  kvStr(
    'tokenizer.chat_template',
    "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- messages[0]['content'] }}\n    {%- else %}\n        {{- 'You are a helpful assistant.' }}\n    {%- endif %}\n{%- endif %}\n".repeat(8) +
      "{%- for message in messages %}\n    {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n",
  );
  kvU32('general.quantization_version', 2);

  // Tensor infos (ggml ne order: innermost first), F16 matrices, F32 vectors.
  const hidden = 1536;
  const kv = 256;
  const ffn = 8960;
  const infos: { name: string; ne: number[]; type: number }[] = [{ name: 'token_embd.weight', ne: [hidden, vocab], type: GGML_F16 }];
  for (let b = 0; b < 28; b++) {
    const p = `blk.${b}.`;
    infos.push(
      { name: `${p}attn_norm.weight`, ne: [hidden], type: GGML_F32 },
      { name: `${p}attn_q.weight`, ne: [hidden, hidden], type: GGML_F16 },
      { name: `${p}attn_q.bias`, ne: [hidden], type: GGML_F32 },
      { name: `${p}attn_k.weight`, ne: [hidden, kv], type: GGML_F16 },
      { name: `${p}attn_k.bias`, ne: [kv], type: GGML_F32 },
      { name: `${p}attn_v.weight`, ne: [hidden, kv], type: GGML_F16 },
      { name: `${p}attn_v.bias`, ne: [kv], type: GGML_F32 },
      { name: `${p}attn_output.weight`, ne: [hidden, hidden], type: GGML_F16 },
      { name: `${p}ffn_gate.weight`, ne: [hidden, ffn], type: GGML_F16 },
      { name: `${p}ffn_up.weight`, ne: [hidden, ffn], type: GGML_F16 },
      { name: `${p}ffn_down.weight`, ne: [ffn, hidden], type: GGML_F16 },
      { name: `${p}ffn_norm.weight`, ne: [hidden], type: GGML_F32 },
    );
  }
  infos.push({ name: 'output_norm.weight', ne: [hidden], type: GGML_F32 });

  w.bytes('GGUF').u32(3).u64(infos.length).u64(kvs.length);
  for (const [k, v] of kvs) {
    str(k);
    v();
  }
  let offset = 0;
  for (const t of infos) {
    str(t.name);
    w.u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(t.type).u64(offset);
    const bytes = t.ne.reduce((a, b) => a * b, 1) * (t.type === GGML_F16 ? 2 : 4);
    offset += Math.ceil(bytes / 32) * 32;
  }
  const header = w.build();
  const dataStart = Math.ceil(header.length / 32) * 32;
  return { size: dataStart + offset, pieces: [{ offset: 0, bytes: header }], headerBytes: header.length, vocab, merges, tensors: infos.length };
}
