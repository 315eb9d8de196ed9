/**
 * A legacy ggml file as whisper.cpp reads it (`whisper_model_load`, src/whisper.cpp): the u32 magic
 * 0x67676d6c ("lmgg" on disk), 11 i32 hyper-parameters, the mel filter bank (n_mel, n_fft, f32
 * values), the vocabulary (i32 count, then u32 length + bytes per token), then tensor records until
 * the end of the file: i32 n_dims, i32 name length, i32 ggml type, i32 ne[n_dims] (innermost
 * first), the name, and the data right after it (no alignment). The records are interleaved with
 * the data, so every record is a piece written at its own offset and the data between them is a
 * hole: an inspector has to seek from record to record.
 */
import { ByteWriter } from './bytes.js';
import type { Piece } from './sparse.js';

const GGML_TYPE_F16 = 1;

export function ggmlWhisperLayout(targetSize: number, tensorCount = 300): { size: number; pieces: Piece[] } {
  const nMels = 128;
  const nFft = 201;
  const nVocab = 51866;
  const w = new ByteWriter().u32(0x67676d6c);
  // n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype
  for (const v of [nVocab, 1500, 1280, 20, 32, 448, 1280, 20, 32, nMels, 1]) w.i32(v);
  w.i32(nMels).i32(nFft);
  const filters = new Uint8Array(nMels * nFft * 4);
  const fv = new DataView(filters.buffer);
  for (let i = 0; i < nMels * nFft; i++) fv.setFloat32(i * 4, ((i * 37) % 101) / 1000, true);
  w.bytes(filters);
  // whisper's multilingual vocabulary: 50257 byte-level BPE tokens (the rest are added in code).
  const words = 50257;
  w.i32(words);
  for (let i = 0; i < words; i++) {
    const t = i < 256 ? String.fromCharCode(33 + (i % 90)) : `tok${i.toString(36)}`;
    const b = new TextEncoder().encode(t);
    w.u32(b.length).bytes(b);
  }
  const header = w.build();
  const pieces: Piece[] = [{ offset: 0, bytes: header }];
  const cols = 8192;
  const rows = Math.max(1, Math.floor((targetSize - header.length) / tensorCount / 2 / cols));
  let pos = header.length;
  for (let i = 0; i < tensorCount; i++) {
    const part = ['attn.query', 'mlp.0', 'mlp.2'][i % 3]!;
    const name = new TextEncoder().encode(`${i < tensorCount / 2 ? 'encoder' : 'decoder'}.blocks.${Math.floor(i / 3)}.${part}.weight`);
    const rec = new ByteWriter().i32(2).i32(name.length).i32(GGML_TYPE_F16).i32(cols).i32(rows).bytes(name).build();
    pieces.push({ offset: pos, bytes: rec });
    pos += rec.length + cols * rows * 2;
  }
  return { size: pos, pieces };
}
