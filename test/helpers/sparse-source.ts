/**
 * A ByteSource of any size (e.g. 50 GB) made of a few written regions and zeros elsewhere, with a
 * byte counter — for tests that prove inspection reads a small, size-independent amount.
 */
import type { ByteSource } from '../../src/io/source.js';

export class SparseSource implements ByteSource {
  bytesRead = 0;
  reads = 0;
  private regions: { at: number; bytes: Uint8Array }[] = [];
  constructor(readonly size: number, readonly name = 'sparse') {}

  /** Place bytes at an offset (regions must not overlap). */
  write(at: number, bytes: Uint8Array): this {
    if (at + bytes.length > this.size) throw new Error('region past the end');
    this.regions.push({ at, bytes });
    this.regions.sort((a, b) => a.at - b.at);
    return this;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(offset, this.size);
    const end = Math.min(this.size, start + length);
    const out = new Uint8Array(end - start);
    for (const r of this.regions) {
      const s = Math.max(start, r.at);
      const e = Math.min(end, r.at + r.bytes.length);
      if (s < e) out.set(r.bytes.subarray(s - r.at, e - r.at), s - start);
    }
    this.bytesRead += out.length;
    this.reads++;
    return out;
  }
}
