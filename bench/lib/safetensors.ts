/**
 * A safetensors file (https://huggingface.co/docs/safetensors): u64 header length, a JSON header
 * whose data_offsets cover `targetSize` bytes, then the data (a hole).
 */
import { ByteWriter } from './bytes.js';
import type { Piece } from './sparse.js';

export function safetensorsLayout(targetSize: number, tensorCount = 300): { size: number; pieces: Piece[] } {
  const cols = 8192;
  const rows = Math.floor(targetSize / tensorCount / 2 / cols);
  const per = cols * rows * 2;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', producer: 'modelwise bench' } };
  for (let i = 0; i < tensorCount; i++) {
    const kind = ['self_attn.qkv_proj', 'mlp.up_proj', 'mlp.down_proj'][i % 3]!;
    header[`model.layers.${Math.floor(i / 3)}.${kind}.weight`] = { dtype: 'BF16', shape: [rows, cols], data_offsets: [i * per, (i + 1) * per] };
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the writer pads to 8 bytes with spaces
  const w = new ByteWriter().u64(json.length).bytes(json);
  const head = w.build();
  return { size: head.length + tensorCount * per, pieces: [{ offset: 0, bytes: head }] };
}
