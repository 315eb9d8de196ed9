import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesSource } from '../../io/source.js';
import { Probe } from '../../identify/probe.js';
import { ggml } from './index.js';

/** Little byte builder: int32 LE values, ASCII, raw bytes. */
function bytes(...parts: (string | number[] | Uint8Array | { f32: number[] })[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    if (typeof p === 'string') chunks.push(new TextEncoder().encode(p));
    else if (p instanceof Uint8Array) chunks.push(p);
    else if (Array.isArray(p)) {
      const b = new Uint8Array(p.length * 4);
      const dv = new DataView(b.buffer);
      p.forEach((v, i) => dv.setInt32(i * 4, v, true));
      chunks.push(b);
    } else {
      const b = new Uint8Array(p.f32.length * 4);
      const dv = new DataView(b.buffer);
      p.f32.forEach((v, i) => dv.setFloat32(i * 4, v, true));
      chunks.push(b);
    }
  }
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

const detect = (b: Uint8Array, name = 'model.bin') => ggml.detect!(new Probe(new BytesSource(b, name), name));
const LLAMA_7B = [32000, 4096, 256, 32, 32, 128, 2];
const vocabEntry = (tok: string, score = true) => bytes([tok.length], tok, ...(score ? [{ f32: [0] }] : []));

describe('ggml detect', () => {
  it('ggjt v3 llama', async () => {
    const d = await detect(bytes('tjgg', [3], LLAMA_7B, vocabEntry('<unk>')));
    assert.equal(d?.format.id, 'ggml');
    assert.equal(d?.format.variant, 'ggjt-v3');
    assert.equal(d?.format.version, '3');
    assert.equal(d?.confidence, 'high');
    assert.match(d!.evidence[0]!, /ggjt magic, version 3; llama hparams n_vocab 32000, n_embd 4096/);
    assert.match(d!.evidence[0]!, /ftype 2 \(Q4_0\)/);
    assert.equal(d?.details?.n_layer, 32);
  });

  it('ggjt v1 and v2', async () => {
    assert.equal((await detect(bytes('tjgg', [1], LLAMA_7B, vocabEntry('a'))))?.format.variant, 'ggjt-v1');
    assert.equal((await detect(bytes('tjgg', [2], LLAMA_7B, vocabEntry('a'))))?.format.variant, 'ggjt-v2');
  });

  it('ggmf v1 llama', async () => {
    const d = await detect(bytes('fmgg', [1], [32000, 5120, 256, 40, 40, 128, 1], vocabEntry('<s>')));
    assert.equal(d?.format.variant, 'ggmf');
    assert.equal(d?.format.version, '1');
    assert.equal(d?.details?.n_embd, 5120);
  });

  it('rwkv.cpp ggmf v101', async () => {
    const d = await detect(bytes('fmgg', [101], [50277, 768, 12, 1]));
    assert.equal(d?.format.variant, 'ggmf');
    assert.equal(d?.details?.model, 'rwkv');
  });

  it('unversioned ggml llama', async () => {
    const d = await detect(bytes('lmgg', LLAMA_7B, vocabEntry('<unk>', false)));
    assert.equal(d?.format.variant, 'ggml');
    assert.equal(d?.format.version, null);
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.details?.model, 'llama');
  });

  it('ggml example model (gpt-2 hparams, vocab size repeated)', async () => {
    const d = await detect(bytes('lmgg', [50257, 1024, 768, 12, 12, 1, 50257], vocabEntry('!', false)));
    assert.equal(d?.format.variant, 'ggml');
    assert.match(d!.evidence[0]!, /n_ctx 1024, n_embd 768/);
  });

  it('whisper.cpp model with mel filters', async () => {
    const hp = [51865, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1];
    const d = await detect(bytes('lmgg', hp, [80, 201], { f32: new Array(64).fill(0.01) }));
    assert.equal(d?.format.variant, 'ggml-whisper');
    assert.equal(d?.confidence, 'high');
    assert.match(d!.evidence[0]!, /n_audio_ctx 1500/);
    assert.match(d!.evidence[0]!, /n_mels 80/);
    assert.match(d!.evidence[0]!, /mel filters 80x201/);
    assert.equal(d?.details?.n_text_layer, 4);
  });

  it('whisper.cpp large-v3 (128 mels) quantized ftype', async () => {
    const hp = [51866, 1500, 1280, 20, 32, 448, 1280, 20, 32, 128, 2008];
    const d = await detect(bytes('lmgg', hp, [128, 201]));
    assert.equal(d?.format.variant, 'ggml-whisper');
    assert.match(d!.evidence[0]!, /2008 \(Q5_0, quantization version 2\)/);
  });

  it('whisper.cpp minimal test model (all hparams 1)', async () => {
    const d = await detect(bytes('lmgg', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1], { f32: [0] }, [1, 1], 'x'));
    assert.equal(d?.format.variant, 'ggml-whisper');
  });

  it('whisper.cpp VAD model (silero)', async () => {
    const head = bytes(
      'lmgg',
      [10],
      'silero-16k',
      [5, 1, 2, 512, 64, 4],
      [129, 128, 3, 128, 64, 3, 64, 64, 3, 64, 128, 3],
      [128, 128, 128, 1],
      [3, 30, 1, 3, 128, 129],
    );
    const d = await detect(head, 'ggml-silero-v5.1.2.bin');
    assert.equal(d?.format.variant, 'ggml-whisper-vad');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.details?.modelVersion, '5.1.2');
    assert.equal(d?.details?.lstm_hidden_size, 128);
    assert.match(d!.evidence[0]!, /VAD model: type "silero-16k", version 5\.1\.2, window 512, context 64, 4 encoder layers/);
  });

  it('ggla LoRA adapter', async () => {
    const d = await detect(bytes('algg', [1, 8, 16]));
    assert.equal(d?.format.variant, 'ggla');
    assert.equal(d?.details?.r, 8);
  });

  it('magic written as plain bytes', async () => {
    const d = await detect(bytes('ggjt', [3], LLAMA_7B, vocabEntry('<unk>')));
    assert.equal(d?.format.variant, 'ggjt-v3');
    assert.match(d!.evidence[0]!, /plain bytes "ggjt"/);
  });

  it('known magic with unrecognised hparams is low confidence', async () => {
    const d = await detect(bytes('lmgg', [-5, -7, 0, 0, 0, 0, 0, 0]));
    assert.equal(d?.confidence, 'low');
    const v = await detect(bytes('tjgg', [7], LLAMA_7B));
    assert.equal(v?.confidence, 'low');
    assert.match(v!.evidence[0]!, /version 7 \(unknown\)/);
  });

  describe('near misses', () => {
    it('text that starts with the word ggml', async () => {
      assert.equal(await detect(new TextEncoder().encode('ggml is a tensor library for machine learning\n')), undefined);
      assert.equal(await detect(new TextEncoder().encode('ggjt files were the llama.cpp format in 2023\n')), undefined);
    });
    it('random bytes, GGUF and short files', async () => {
      const r = new Uint8Array(4096);
      let x = 12345;
      for (let i = 0; i < r.length; i++) r[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      assert.equal(await detect(r), undefined);
      assert.equal(await detect(bytes('GGUF', [3, 0, 0, 0, 0, 0])), undefined);
      assert.equal(await detect(bytes('lmgg')), undefined);
    });
  });
});
