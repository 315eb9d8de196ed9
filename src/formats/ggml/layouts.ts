/**
 * ggml tensor type layouts for legacy files. Type ids are ggml's (ggml.h); sizes of today's types
 * come from src/dtypes.ts. Files written before ggml's quantization-format change of May 2023
 * (llama.cpp PR #1508, "use F16 instead of F32 in Q4_0, Q4_1, Q8_0"; GGML_QNT_VERSION 2) store
 * q4_0 / q4_1 / q8_0 / q8_1 blocks with f32 scales, and may use q4_2 / q4_3 (removed in April/May
 * 2023). Those blocks are sized here (block_q4_0 {f32 d; u8 qs[16]} = 20 bytes per 32 weights …).
 * Such files: 'ggml' / 'ggmf' (llama.cpp, March 2023), 'ggjt' v1 and v2, rwkv.cpp version 100, and
 * ggml-example / whisper.cpp files whose ftype carries a quantization version below 2.
 */
import { GGML_BY_ID } from '../../dtypes.js';

export interface Layout {
  name: string;
  blockSize: number;
  typeSize: number;
  /** A pre-2023-05 block layout that current ggml cannot load. */
  legacy?: boolean;
}

/** Layouts that differ before GGML_QNT_VERSION 2 (f32 scales; q4_2/q4_3 only existed then). */
const LEGACY: Record<number, Layout> = {
  2: { name: 'q4_0', blockSize: 32, typeSize: 20, legacy: true },
  3: { name: 'q4_1', blockSize: 32, typeSize: 24, legacy: true },
  4: { name: 'q4_2', blockSize: 16, typeSize: 10, legacy: true },
  5: { name: 'q4_3', blockSize: 16, typeSize: 12, legacy: true },
  8: { name: 'q8_0', blockSize: 32, typeSize: 36, legacy: true },
  9: { name: 'q8_1', blockSize: 32, typeSize: 40, legacy: true },
};

/** Layout of ggml type `id` in a file of the given era; undefined when unknown there. */
export function layoutOf(id: number, legacy: boolean): Layout | undefined {
  if (legacy && LEGACY[id]) return LEGACY[id];
  const t = GGML_BY_ID.get(id);
  return t ? { name: t.name, blockSize: t.blockSize, typeSize: t.typeSize } : undefined;
}

/** The other era's layout of `id` when its size differs (used to recover from a wrong guess). */
export function alternateLayout(id: number, legacy: boolean): Layout | undefined {
  const a = layoutOf(id, legacy);
  const b = layoutOf(id, !legacy);
  return a && b && (a.typeSize !== b.typeSize || a.blockSize !== b.blockSize) ? b : undefined;
}

/** rwkv.cpp `rwkv_type` → ggml type id (4 = Q4_1_O has no ggml equivalent). */
export const RWKV_TYPES: (number | undefined)[] = [0, 1, 2, 3, undefined, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/** Bytes of `elements` elements, or undefined when not a whole number of blocks. */
export function layoutBytes(l: Layout, elements: number): number | undefined {
  return elements % l.blockSize === 0 ? (elements / l.blockSize) * l.typeSize : undefined;
}
