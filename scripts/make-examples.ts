/**
 * Writes the sample models shipped in examples/ (run: `node --import tsx scripts/make-examples.ts`).
 * Deterministic: a second run gives byte-identical files.
 *
 * - examples/tiny-llama.gguf: a GGUF v3 file with a llama-style header (2 layers, 64 embedding,
 *   4 heads / 2 KV heads, a 32-token vocabulary, a chat template) and f32/f16 tensors of seeded values.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const out = join(import.meta.dirname, '..', 'examples');
mkdirSync(out, { recursive: true });

class W {
  private chunks: Buffer[] = [];
  size = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

type Kv = [string, 'u32' | 'f32' | 'str' | 'strs' | 'f32s' | 'i32s', unknown];

function tinyLlama(): Buffer {
  const nEmbd = 64;
  const nHead = 4;
  const nHeadKv = 2;
  const nFf = 128;
  const nLayer = 2;
  const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: 29 }, (_, i) => `▁tok${i}`)];
  const kvs: Kv[] = [
    ['general.architecture', 'str', 'llama'],
    ['general.name', 'str', 'modelwise tiny llama example'],
    ['general.license', 'str', 'MIT'],
    ['general.file_type', 'u32', 1],
    ['llama.context_length', 'u32', 2048],
    ['llama.embedding_length', 'u32', nEmbd],
    ['llama.block_count', 'u32', nLayer],
    ['llama.feed_forward_length', 'u32', nFf],
    ['llama.attention.head_count', 'u32', nHead],
    ['llama.attention.head_count_kv', 'u32', nHeadKv],
    ['llama.rope.dimension_count', 'u32', nEmbd / nHead],
    ['llama.attention.layer_norm_rms_epsilon', 'f32', 1e-5],
    ['tokenizer.ggml.model', 'str', 'llama'],
    ['tokenizer.ggml.tokens', 'strs', tokens],
    ['tokenizer.ggml.scores', 'f32s', tokens.map((_, i) => -i)],
    ['tokenizer.ggml.token_type', 'i32s', tokens.map((_, i) => (i < 3 ? 3 : 1))],
    ['tokenizer.ggml.bos_token_id', 'u32', 1],
    ['tokenizer.ggml.eos_token_id', 'u32', 2],
    ['tokenizer.chat_template', 'str', "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"],
  ];
  // [name, ne (ggml order), type 0=f32 1=f16]
  const tensors: [string, number[], number][] = [['token_embd.weight', [nEmbd, tokens.length], 1]];
  for (let l = 0; l < nLayer; l++) {
    tensors.push(
      [`blk.${l}.attn_norm.weight`, [nEmbd], 0],
      [`blk.${l}.attn_q.weight`, [nEmbd, nEmbd], 1],
      [`blk.${l}.attn_k.weight`, [nEmbd, (nEmbd / nHead) * nHeadKv], 1],
      [`blk.${l}.attn_v.weight`, [nEmbd, (nEmbd / nHead) * nHeadKv], 1],
      [`blk.${l}.attn_output.weight`, [nEmbd, nEmbd], 1],
      [`blk.${l}.ffn_norm.weight`, [nEmbd], 0],
      [`blk.${l}.ffn_gate.weight`, [nEmbd, nFf], 1],
      [`blk.${l}.ffn_up.weight`, [nEmbd, nFf], 1],
      [`blk.${l}.ffn_down.weight`, [nFf, nEmbd], 1],
    );
  }
  tensors.push(['output_norm.weight', [nEmbd], 0], ['output.weight', [nEmbd, tokens.length], 1]);

  const w = new W();
  w.push(Buffer.from('GGUF'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(kvs.length);
  for (const [k, t, v] of kvs) {
    w.str(k);
    if (t === 'u32') (w.u32(4), w.u32(v as number));
    else if (t === 'f32') (w.u32(6), w.f32(v as number));
    else if (t === 'str') (w.u32(8), w.str(v as string));
    else {
      const arr = v as (string | number)[];
      w.u32(9);
      w.u32(t === 'strs' ? 8 : t === 'f32s' ? 6 : 5);
      w.u64(arr.length);
      for (const x of arr) {
        if (t === 'strs') w.str(x as string);
        else if (t === 'f32s') w.f32(x as number);
        else w.u32((x as number) >>> 0);
      }
    }
  }
  const align = 32;
  let offset = 0;
  const sizes: number[] = [];
  for (const [name, ne, type] of tensors) {
    w.str(name);
    w.u32(ne.length);
    for (const d of ne) w.u64(d);
    w.u32(type);
    w.u64(offset);
    const n = ne.reduce((a, b) => a * b, 1) * (type === 0 ? 4 : 2);
    sizes.push(n);
    offset += Math.ceil(n / align) * align;
  }
  w.push(Buffer.alloc((align - (w.size % align)) % align));
  // Seeded values (xorshift32) so the file is deterministic.
  let s = 0x9e3779b9;
  const rnd = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000 - 0.5;
  };
  tensors.forEach(([name, ne, type], i) => {
    const n = ne.reduce((a, b) => a * b, 1);
    const b = Buffer.alloc(sizes[i]!);
    for (let j = 0; j < n; j++) {
      const v = name.includes('norm') ? 1 : rnd() * 0.1;
      if (type === 0) b.writeFloatLE(v, j * 4);
      else b.writeUInt16LE(toHalf(v), j * 2);
    }
    w.push(b);
    w.push(Buffer.alloc((align - (sizes[i]! % align)) % align));
  });
  return w.bytes();
}

function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign; // tiny values flush to zero (fine for an example)
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | Math.round(mant / 0x2000);
}

writeFileSync(join(out, 'tiny-llama.gguf'), tinyLlama());
console.log('wrote examples/tiny-llama.gguf');
