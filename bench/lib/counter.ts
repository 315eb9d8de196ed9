/**
 * Counts every byte read from local files during identification, without changing src/: the
 * FileSource prototype's read() is wrapped once. All file sources (the model and any sibling a
 * detector opens through the folder tree) go through it. With `trackRanges`, every read is also
 * recorded as (file, offset, length), so a benchmark can tell which regions were touched.
 */
import { FileSource } from '../../src/node/file-source.js';

export interface ReadRange {
  file: string;
  offset: number;
  length: number;
}

export const readStats = { bytes: 0, reads: 0, largest: 0, trackRanges: false, ranges: [] as ReadRange[] };

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
    if (readStats.trackRanges) readStats.ranges.push({ file: this.name, offset, length: out.length });
    return out;
  };
}

export function resetReadStats(): void {
  readStats.bytes = 0;
  readStats.reads = 0;
  readStats.largest = 0;
  readStats.ranges = [];
}

/** Bytes of `ranges` that fall inside any of `regions` ([start, end) offsets of one file). */
export function bytesInside(ranges: ReadRange[], regions: [number, number][]): number {
  const sorted = [...regions].sort((a, b) => a[0] - b[0]);
  let total = 0;
  for (const r of ranges) {
    const s = r.offset;
    const e = r.offset + r.length;
    // binary search the first region ending after s
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]![1] <= s) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < sorted.length && sorted[i]![0] < e; i++) total += Math.min(e, sorted[i]![1]) - Math.max(s, sorted[i]![0]);
  }
  return total;
}

/** Reads that start inside one of `regions` (they target that data, not a header next to it). */
export function readsStartingInside(ranges: ReadRange[], regions: [number, number][]): ReadRange[] {
  const sorted = [...regions].sort((a, b) => a[0] - b[0]);
  return ranges.filter((r) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]![1] <= r.offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length && sorted[lo]![0] <= r.offset && r.length > 0;
  });
}
