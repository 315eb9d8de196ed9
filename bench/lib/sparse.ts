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

/** A file of a synthetic model: whole bytes, or a sparse layout. */
export type TreeFile = Uint8Array | { size: number; pieces: Piece[] };

/** Write a model folder: every file (sub-folders created), sparse where the layout says so. */
export async function writeTree(dir: string, files: Record<string, TreeFile>): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  for (const [rel, f] of Object.entries(files)) {
    const path = join(dir, ...rel.split('/'));
    await mkdir(dirname(path), { recursive: true });
    if (f instanceof Uint8Array) await writeFile(path, f);
    else await writeSparse(path, f.size, f.pieces);
  }
}

/** Bytes a layout really stores (the rest are holes). */
export function storedBytes(f: TreeFile): number {
  return f instanceof Uint8Array ? f.length : f.pieces.reduce((s, p) => s + p.bytes.length, 0);
}
