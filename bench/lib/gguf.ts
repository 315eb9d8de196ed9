/**
 * A GGUF v3 file (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md) whose tensor infos
 * cover `targetSize` bytes: a llama-like set of metadata keys, `tensorCount` F16 tensors, the data
 * section aligned to general.alignment. Only the header is written; the data is a hole.
 */
import { ByteWriter } from './bytes.js';
import type { Piece } from './sparse.js';

const GGUF_TYPE_UINT32 = 4;
const GGUF_TYPE_STRING = 8;
const GGUF_TYPE_ARRAY = 9;
const GGML_TYPE_F16 = 1;

export function ggufLayout(targetSize: number, tensorCount = 300): { size: number; pieces: Piece[] } {
  const w = new ByteWriter();
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    w.u64(b.length).bytes(b);
  };
  const kvs: [string, () => void][] = [
    ['general.architecture', () => (w.u32(GGUF_TYPE_STRING), str('llama'))],
    ['general.name', () => (w.u32(GGUF_TYPE_STRING), str('bench-50gb'))],
    ['general.alignment', () => w.u32(GGUF_TYPE_UINT32).u32(32)],
    ['llama.context_length', () => w.u32(GGUF_TYPE_UINT32).u32(8192)],
    ['llama.embedding_length', () => w.u32(GGUF_TYPE_UINT32).u32(8192)],
    ['llama.block_count', () => w.u32(GGUF_TYPE_UINT32).u32(tensorCount / 3)],
    [
      'tokenizer.ggml.tokens',
      () => {
        w.u32(GGUF_TYPE_ARRAY).u32(GGUF_TYPE_STRING).u64(256);
        for (let i = 0; i < 256; i++) str(`<0x${i.toString(16).padStart(2, '0').toUpperCase()}>`);
      },
    ],
  ];
  w.bytes('GGUF').u32(3).u64(tensorCount).u64(kvs.length);
  for (const [k, v] of kvs) {
    str(k);
    v();
  }
  const cols = 8192;
  const rows = Math.floor(targetSize / tensorCount / 2 / cols);
  const perTensor = cols * rows * 2; // a multiple of 32
  for (let i = 0; i < tensorCount; i++) {
    const kind = ['attn_qkv', 'ffn_up', 'ffn_down'][i % 3]!;
    str(`blk.${Math.floor(i / 3)}.${kind}.weight`);
    w.u32(2).u64(cols).u64(rows).u32(GGML_TYPE_F16).u64(i * perTensor);
  }
  const header = w.build();
  const dataStart = Math.ceil(header.length / 32) * 32;
  return { size: dataStart + tensorCount * perTensor, pieces: [{ offset: 0, bytes: header }] };
}
