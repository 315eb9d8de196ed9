/**
 * Random-access byte sources: the one way every format reads a model. Stateless (no cursor), so a
 * source can be shared by several readers at once. Implementations here are universal (bytes, Blob,
 * slices, caches, counters); files live in src/node, HTTP in ./http.ts.
 */
import { ModelwiseError } from '../errors.js';

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** A name for messages (file path, URL or member path). */
  readonly name: string;
  /** Read `length` bytes at `offset`. Returns fewer bytes only at the end of the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

function clamp(source: { size: number; name: string }, offset: number, length: number): [number, number] {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new ModelwiseError('MALFORMED', `invalid read of ${length} bytes`, { file: source.name, offset });
  }
  const start = Math.min(offset, source.size);
  const end = Math.min(source.size, start + length);
  return [start, end];
}

/** A source over bytes already in memory. */
export class BytesSource implements ByteSource {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array, readonly name = '<bytes>') {
    this.size = bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const [s, e] = clamp(this, offset, length);
    return this.bytes.subarray(s, e);
  }
}

/** A source over a Blob or File (browser drop, fetch response blob, Node Blob). */
export class BlobSource implements ByteSource {
  readonly size: number;
  readonly name: string;
  constructor(private readonly blob: Blob, name?: string) {
    this.size = blob.size;
    this.name = name ?? (blob as { name?: string }).name ?? '<blob>';
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const [s, e] = clamp(this, offset, length);
    return new Uint8Array(await this.blob.slice(s, e).arrayBuffer());
  }
}

/** A window of another source, e.g. a stored zip member or a tensor's bytes. */
export class SliceSource implements ByteSource {
  constructor(
    private readonly parent: ByteSource,
    private readonly start: number,
    readonly size: number,
    readonly name: string = parent.name,
  ) {
    if (start < 0 || size < 0 || start + size > parent.size) {
      throw new ModelwiseError('MALFORMED', `slice of ${size} bytes runs past the end (${parent.size} bytes)`, {
        file: parent.name,
        offset: start,
      });
    }
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const [s, e] = clamp(this, offset, length);
    return this.parent.read(this.start + s, e - s);
  }
}

/** Counts the bytes read and the number of reads; used by tests and benchmarks to prove laziness. */
export class CountingSource implements ByteSource {
  bytesRead = 0;
  reads = 0;
  constructor(private readonly inner: ByteSource) {}
  get size(): number {
    return this.inner.size;
  }
  get name(): string {
    return this.inner.name;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = await this.inner.read(offset, length);
    this.bytesRead += out.length;
    this.reads++;
    return out;
  }
}

/**
 * Block cache in front of a slow source (HTTP): reads are rounded to blocks, and recent blocks are
 * kept, so many small header reads cost a few round trips.
 */
export class CachedSource implements ByteSource {
  private readonly blocks = new Map<number, Promise<Uint8Array>>();
  constructor(
    private readonly inner: ByteSource,
    private readonly blockSize = 256 * 1024,
    private readonly maxBlocks = 64,
  ) {}
  get size(): number {
    return this.inner.size;
  }
  get name(): string {
    return this.inner.name;
  }
  private block(index: number): Promise<Uint8Array> {
    let p = this.blocks.get(index);
    if (p) {
      this.blocks.delete(index);
      this.blocks.set(index, p); // LRU: move to the end
      return p;
    }
    p = this.inner.read(index * this.blockSize, this.blockSize);
    p.catch(() => this.blocks.delete(index));
    this.blocks.set(index, p);
    while (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
    }
    return p;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const [s, e] = clamp(this, offset, length);
    if (e - s > this.blockSize * 4) return this.inner.read(s, e - s); // large reads bypass the cache
    const first = Math.floor(s / this.blockSize);
    const last = Math.floor(Math.max(s, e - 1) / this.blockSize);
    const parts = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => this.block(first + i)));
    const out = new Uint8Array(e - s);
    let pos = 0;
    for (let i = 0; i < parts.length; i++) {
      const blockStart = (first + i) * this.blockSize;
      const from = Math.max(0, s - blockStart);
      const to = Math.min(parts[i]!.length, e - blockStart);
      if (to > from) {
        out.set(parts[i]!.subarray(from, to), pos);
        pos += to - from;
      }
    }
    return out.subarray(0, pos);
  }
}

/** Read exactly `length` bytes or throw UNEXPECTED_EOF naming the file and offset. */
export async function readExact(source: ByteSource, offset: number, length: number, what = 'data'): Promise<Uint8Array> {
  const out = await source.read(offset, length);
  if (out.length !== length) {
    throw new ModelwiseError('UNEXPECTED_EOF', `file ends inside ${what}: wanted ${length} bytes, got ${out.length}`, {
      file: source.name,
      offset,
    });
  }
  return out;
}
