/**
 * A NumPy .npy file (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * magic "\x93NUMPY", version 1.0, a u16 header length, the header dict padded with spaces to a
 * multiple of 64 bytes and ended by "\n", then the array data (a hole). One float16 matrix of
 * `targetSize` bytes, as `np.save(np.empty((rows, cols), np.float16))` writes it.
 */
import { ByteWriter } from './bytes.js';
import type { Piece } from './sparse.js';

export function npyLayout(targetSize: number): { size: number; pieces: Piece[]; shape: [number, number] } {
  const cols = 8192;
  const rows = Math.floor(targetSize / 2 / cols);
  let dict = `{'descr': '<f2', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = new ByteWriter().u8(0x93).bytes('NUMPY').u8(1).u8(0).u16(dict.length).bytes(dict).build();
  return { size: head.length + rows * cols * 2, pieces: [{ offset: 0, bytes: head }], shape: [rows, cols] };
}
