import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectSource } from '../../inspect/inspect.js';
import { BytesSource } from '../../io/source.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';

/** Little-endian byte builder for legacy ggml files. */
class B {
  private out: number[] = [];
  get length(): number {
    return this.out.length;
  }
  magic(m: string): this {
    for (const c of m.split('').reverse()) this.out.push(c.charCodeAt(0)); // u32 LE: "ggjt" is stored "tjgg"
    return this;
  }
  i32(...vs: number[]): this {
    for (const v of vs) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      this.out.push(...b);
    }
    return this;
  }
  raw(b: Uint8Array | number[]): this {
    this.out.push(...b);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.out.push(0);
    return this;
  }
  token(s: string, score?: number): this {
    const b = Buffer.from(s, 'utf8');
    this.i32(b.length).raw(b);
    if (score !== undefined) {
      const f = Buffer.alloc(4);
      f.writeFloatLE(score);
      this.raw(f);
    }
    return this;
  }
  /** A tensor record; `dataBytes` of zeros unless `skipData` (for sparse sources). */
  tensor(name: string, type: number, ne: number[], dataBytes: number, align = 0, skipData = false): this {
    const n = Buffer.from(name, 'utf8');
    this.i32(ne.length, n.length, type, ...ne).raw(n);
    if (align) this.zeros((align - (this.out.length % align)) % align);
    if (!skipData) this.zeros(dataBytes);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

const WHISPER_HP = [51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1];

function whisper(): B {
  const b = new B().magic('ggml').i32(...WHISPER_HP).i32(80, 4).zeros(80 * 4 * 4).i32(3).token('!').token('"').token('#');
  b.tensor('encoder.positional_embedding', 0, [384, 1500], 384 * 1500 * 4);
  b.tensor('encoder.conv1.weight', 1, [3, 80, 384], 3 * 80 * 384 * 2);
  return b;
}

function llamaGgjt(version: number, q4Bytes: number): B {
  const b = new B().magic('ggjt').i32(version).i32(4, 64, 16, 4, 1, 16, 2);
  for (const t of ['a', 'b', 'c', 'd']) b.token(t, -1);
  b.tensor('tok_embeddings.weight', 0, [64, 4], 64 * 4 * 4, 32);
  b.tensor('layers.0.attention.wq.weight', 2, [64, 64], (64 * 64 / 32) * q4Bytes, 32);
  b.tensor('norm.weight', 0, [64], 256, 32);
  return b;
}

describe('ggml inspect', () => {
  it('reads a whisper.cpp model: hparams, vocabulary, tensor records', async () => {
    const r = await inspectSource(new BytesSource(whisper().bytes(), 'ggml-tiny.bin'));
    assert.equal(r.format.id, 'ggml');
    assert.equal(r.format.variant, 'ggml-whisper');
    assert.equal(r.architecture, 'whisper');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [
      ['encoder.positional_embedding', 'f32', [384, 1500]],
      ['encoder.conv1.weight', 'f16', [3, 80, 384]],
    ]);
    assert.equal(r.hyperParameters?.vocabSize, 51864);
    assert.equal(r.hyperParameters?.layers, 4);
    assert.equal(r.hyperParameters?.audioLayers, 4);
    assert.equal(r.tokenizer?.vocabSize, 3);
    assert.equal(r.parameters.total, 384 * 1500 + 3 * 80 * 384);
    assert.deepEqual(r.diagnostics, []);
    const first = r.tensors.items[0]!;
    assert.equal(first.byteLength, 384 * 1500 * 4);
  });

  it('reads a whisper test fixture without tensors', async () => {
    const b = new B().magic('ggml').i32(...WHISPER_HP).i32(80, 4).zeros(80 * 4 * 4).i32(2).token('a').token('b');
    const r = await inspectSource(new BytesSource(b.bytes(), 'for-tests-ggml-tiny.bin'));
    assert.equal(r.tensors.count, 0);
    assert.deepEqual(r.diagnostics.map((d) => d.code), ['GGML_NO_TENSORS']);
  });

  it('reads a whisper.cpp VAD model', async () => {
    const type = Buffer.from('silero-16k');
    const b = new B().magic('ggml').i32(type.length).raw(type).i32(5, 1, 2, 512, 64, 2).i32(129, 128, 3, 128, 64, 3).i32(64, 64, 64, 1);
    b.tensor('_model.stft.forward_basis_buffer', 0, [256, 1, 258], 256 * 258 * 4);
    b.tensor('_model.decoder.rnn.weight_ih', 1, [64, 256], 64 * 256 * 2);
    const r = await inspectSource(new BytesSource(b.bytes(), 'silero.bin'));
    assert.equal(r.format.variant, 'ggml-whisper-vad');
    assert.equal(r.architecture, 'silero-vad');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [
      ['_model.stft.forward_basis_buffer', 'f32', [256, 1, 258]],
      ['_model.decoder.rnn.weight_ih', 'f16', [64, 256]],
    ]);
    assert.equal((r.details?.hparams as Record<string, unknown>).model_type, 'silero-16k');
  });

  it('reads ggjt v3 (32-byte aligned data, today\'s q4_0 blocks)', async () => {
    const r = await inspectSource(new BytesSource(llamaGgjt(3, 18).bytes(), 'llama-q4_0.bin'));
    assert.equal(r.format.variant, 'ggjt-v3');
    assert.equal(r.architecture, 'llama');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [
      ['tok_embeddings.weight', 'f32', [64, 4]],
      ['layers.0.attention.wq.weight', 'q4_0', [64, 64]],
      ['norm.weight', 'f32', [64]],
    ]);
    for (const t of r.tensors.items) assert.equal((t.offset as number) % 32, 0, `${t.name} aligned`);
    assert.equal(r.tensors.items[1]!.byteLength, 128 * 18);
    assert.equal(r.hyperParameters?.embeddingLength, 64);
    assert.equal(r.hyperParameters?.feedForwardLength, 176);
    assert.equal(r.tokenizer?.vocabSize, 4);
    assert.equal(r.quantization?.fileType, 'Q4_0');
    assert.deepEqual(r.diagnostics, []);
  });

  it('sizes pre-May-2023 q4_0 blocks (ggjt v1) and says the layout is obsolete', async () => {
    const r = await inspectSource(new BytesSource(llamaGgjt(1, 20).bytes(), 'llama-v1.bin'));
    assert.equal(r.format.variant, 'ggjt-v1');
    assert.equal(r.tensors.count, 3);
    assert.equal(r.tensors.items[1]!.byteLength, 128 * 20);
    assert.ok(r.diagnostics.some((d) => d.code === 'GGML_OBSOLETE_QUANT_LAYOUT'));
    assert.equal(r.quantization?.bitsPerWeight, Math.round(((64 * 4 * 4 + 128 * 20 + 256) * 8 / (256 + 4096 + 64)) * 100) / 100);
  });

  it('recovers when the era guess is wrong (v2 header, v3-sized blocks)', async () => {
    const r = await inspectSource(new BytesSource(llamaGgjt(2, 18).bytes(), 'mislabelled.bin'));
    assert.equal(r.tensors.count, 3);
    assert.ok(r.diagnostics.some((d) => d.code === 'GGML_LAYOUT_GUESS'));
  });

  it('reads unversioned llama ggml (no scores) and ggmf (scores) vocabularies', async () => {
    const g = new B().magic('ggml').i32(4, 64, 16, 4, 1, 16, 1);
    for (const t of ['a', 'b', 'c', 'd']) g.token(t);
    g.tensor('norm.weight', 0, [64], 256);
    const r1 = await inspectSource(new BytesSource(g.bytes(), 'ggml-model-f16.bin'));
    assert.equal(r1.format.variant, 'ggml');
    assert.deepEqual(r1.tensors.items.map((t) => t.name), ['norm.weight']);
    const f = new B().magic('ggmf').i32(1).i32(4, 64, 16, 4, 1, 16, 1);
    for (const t of ['a', 'b', 'c', 'd']) f.token(t, 0.5);
    f.tensor('norm.weight', 1, [64], 128);
    const r2 = await inspectSource(new BytesSource(f.bytes(), 'ggmf.bin'));
    assert.equal(r2.format.variant, 'ggmf');
    assert.deepEqual(r2.tensors.items.map((t) => [t.name, t.dtype]), [['norm.weight', 'f16']]);
    assert.equal(r2.tokenizer?.scores, true);
  });

  it('reads a ggml example (gpt-2) model', async () => {
    const b = new B().magic('ggml').i32(3, 1024, 64, 4, 1, 1).i32(3).token('x').token('y').token('z');
    b.tensor('model/wte', 1, [64, 3], 64 * 3 * 2);
    b.tensor('model/h0/attn/c_attn/w', 8, [64, 192], (64 * 192 / 32) * 34);
    const r = await inspectSource(new BytesSource(b.bytes(), 'ggml-model.bin'));
    assert.equal(r.architecture, 'gpt-2');
    assert.equal(r.hyperParameters?.contextLength, 1024);
    assert.deepEqual(r.tensors.items.map((t) => t.dtype), ['f16', 'q8_0']);
  });

  it('reads rwkv.cpp (own type numbering) and LoRA adapters (aligned records)', async () => {
    const rw = new B().magic('ggmf').i32(101).i32(50277, 64, 1, 9);
    rw.tensor('emb.weight', 1, [64, 50277], 64 * 50277 * 2);
    rw.tensor('blocks.0.att.key.weight', 9, [64, 64], (64 * 64 / 32) * 34); // rwkv 9 = Q8_0
    const r = await inspectSource(new BytesSource(rw.bytes(), 'rwkv.bin'));
    assert.equal(r.architecture, 'rwkv');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype]), [['emb.weight', 'f16'], ['blocks.0.att.key.weight', 'q8_0']]);
    const la = new B().magic('ggla').i32(1).i32(8, 16);
    la.tensor('layers.0.attention.wq.weight.loraA', 0, [64, 8], 64 * 8 * 4, 32);
    la.tensor('layers.0.attention.wq.weight.loraB', 0, [8, 64], 64 * 8 * 4, 32);
    const l = await inspectSource(new BytesSource(la.bytes(), 'ggml-adapter-model.bin'));
    assert.equal(l.architecture, 'lora-adapter');
    assert.equal(l.tensors.count, 2);
    assert.deepEqual(l.diagnostics, []);
  });

  it('gives a partial report for a ggml file of an unknown model', async () => {
    const b = new B().magic('ggml').i32(-5, -5, -5, -5, -5, -5, -5, -5).zeros(64);
    const r = await inspectSource(new BytesSource(b.bytes(), 'odd.bin'));
    assert.equal(r.format.id, 'ggml');
    assert.equal(r.tensors.count, 0);
    assert.deepEqual(r.diagnostics.map((d) => d.code), ['GGML_UNKNOWN_LAYOUT']);
  });

  it('stops with a diagnostic on a truncated file, keeping what was read', async () => {
    const full = whisper().bytes();
    const r = await inspectSource(new BytesSource(full.subarray(0, full.length - 1000), 'cut.bin'));
    assert.equal(r.tensors.count, 2);
    assert.ok(r.diagnostics.some((d) => d.code === 'TENSOR_OUT_OF_BOUNDS'));
  });

  it('stops on lying records (dimension count, name length, unknown type)', async () => {
    for (const rec of [[9, 4, 0], [1, 0x7fffffff, 0], [1, 1, 77]]) {
      const b = whisper().i32(...rec).i32(4).raw(Buffer.from('x')).zeros(64);
      const r = await inspectSource(new BytesSource(b.bytes(), 'bad.bin'));
      assert.equal(r.tensors.count, 2);
      assert.ok(r.diagnostics.some((d) => ['MALFORMED', 'GGML_UNKNOWN_TYPE', 'UNEXPECTED_EOF'].includes(d.code)), JSON.stringify(r.diagnostics));
    }
  });

  it('rejects a vocabulary count that cannot fit', async () => {
    const b = new B().magic('ggml').i32(...WHISPER_HP).i32(80, 4).zeros(80 * 16).i32(1_000_000_000);
    await assert.rejects(inspectSource(new BytesSource(b.bytes(), 'lie.bin')), (e: { code?: string }) => e.code === 'MALFORMED');
  });

  it('reads a 50 GB ggjt file touching only its headers', async () => {
    const GB = 1024 ** 3;
    const head = new B().magic('ggjt').i32(3).i32(4, 4096, 256, 32, 2, 128, 7);
    for (const t of ['a', 'b', 'c', 'd']) head.token(t, 0);
    const n = 50;
    const ne = [4096, Math.floor((50 * GB) / n / 34 / 4096) * 32]; // q8_0: 34 bytes per 32 weights
    const bytes = ((ne[0]! * ne[1]!) / 32) * 34;
    const regions: [number, Uint8Array][] = [[0, head.bytes()]];
    let pos = head.length;
    for (let i = 0; i < n; i++) {
      const rec = new B().tensor(`layers.${i}.w`, 8, ne, 0, 0, true).bytes();
      regions.push([pos, rec]);
      pos += rec.length;
      pos += (32 - (pos % 32)) % 32;
      pos += bytes;
    }
    const src = new SparseSource(pos, 'huge.bin');
    for (const [at, b] of regions) src.write(at, b);
    const r = await inspectSource(src, { path: 'huge.bin' });
    assert.equal(r.tensors.count, n);
    assert.deepEqual(r.diagnostics, []);
    assert.ok(src.size > 45 * GB);
    assert.equal(r.size.tensorBytes, n * bytes);
    assert.ok(src.bytesRead < 2 * 1024 * 1024, `read ${src.bytesRead} bytes`);
  });
});
