/**
 * Sparse files: a few written pieces at given offsets, holes everywhere else. A 50 GB model made
 * this way takes a few kilobytes of disk, yet every offset in it is readable (holes read as zeros).
 */
import { open, truncate } from 'node:fs/promises';

export interface Piece {
  offset: number;
  bytes: Uint8Array;
}

export async function writeSparse(path: string, size: number, pieces: Piece[]): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (const p of pieces) {
      if (p.offset < 0 || p.offset + p.bytes.length > size) throw new Error(`piece at ${p.offset} (+${p.bytes.length}) outside ${size} bytes`);
      let done = 0;
      while (done < p.bytes.length) {
        const { bytesWritten } = await fh.write(p.bytes, done, p.bytes.length - done, p.offset + done);
        done += bytesWritten;
      }
    }
  } finally {
    await fh.close();
  }
  await truncate(path, size);
}
