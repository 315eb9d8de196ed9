/**
 * Counts every byte read from local files during identification, without changing src/: the
 * FileSource prototype's read() is wrapped once. All file sources (the model and any sibling a
 * detector opens through the folder tree) go through it.
 */
import { FileSource } from '../../src/node/file-source.js';

export const readStats = { bytes: 0, reads: 0, largest: 0 };

let installed = false;

export function installReadCounter(): void {
  if (installed) return;
  installed = true;
  const original = FileSource.prototype.read;
  FileSource.prototype.read = async function (this: FileSource, offset: number, length: number): Promise<Uint8Array> {
    const out = await original.call(this, offset, length);
    readStats.bytes += out.length;
    readStats.reads++;
    readStats.largest = Math.max(readStats.largest, out.length);
    return out;
  };
}

export function resetReadStats(): void {
  readStats.bytes = 0;
  readStats.reads = 0;
  readStats.largest = 0;
}
