/**
 * HDF5 heaps that hold names and messages (spec III.D local heap, III.G fractal heap;
 * https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html):
 *   - the local heap ("HEAP") of an old-style group keeps its member names;
 *   - a fractal heap ("FRHP") keeps the link messages of a group with dense link storage and the
 *     attribute messages of an object with dense attribute storage. Objects are addressed by heap
 *     IDs: managed (inside direct blocks found through the doubling table of indirect blocks), tiny
 *     (inside the ID) or huge (stored apart, found directly or through a v2 B-tree).
 * Only what an ID points to is read; filtered (compressed) heaps are UNSUPPORTED.
 */
import { ModelwiseError } from '../errors.js';
import { decodeUtf8, startsWith, view } from '../io/bytes.js';
import { walkBTree2 } from './hdf5-btree.js';
import { UNDEF, malformed, readUint, type Hdf5File } from './hdf5.js';

/** Largest local heap data segment read (names of one group). */
const LOCAL_HEAP_BYTES = 64 * 1024 * 1024;
/** Largest fractal heap object read (an attribute value can be a model config of several MB). */
export const HEAP_OBJECT_BYTES = 64 * 1024 * 1024;

/** A group's local heap: its data segment, read once. */
export class LocalHeap {
  private constructor(
    private readonly data: Uint8Array,
    private readonly file: string,
  ) {}

  static async open(file: Hdf5File, address: number): Promise<LocalHeap> {
    const so = file.superblock.sizeOfOffsets;
    const sl = file.superblock.sizeOfLengths;
    const h = await file.read(address, 8 + 2 * sl + so, 'local heap header');
    if (!startsWith(h, 'HEAP')) throw malformed(file.name, 'local heap without HEAP signature', address);
    const size = readUint(h, 8, sl);
    const dataAt = readUint(h, 8 + 2 * sl, so);
    if (size === UNDEF || dataAt === UNDEF) throw malformed(file.name, 'local heap with an undefined data segment', address);
    return new LocalHeap(await file.read(dataAt, size, 'local heap data segment', LOCAL_HEAP_BYTES), file.name);
  }

  /** The NUL-terminated string at `offset` of the data segment. */
  string(offset: number): string {
    if (offset < 0 || offset >= this.data.length) throw malformed(this.file, `name offset ${offset} outside the local heap (${this.data.length} bytes)`);
    let end = this.data.indexOf(0, offset);
    if (end < 0) end = this.data.length;
    return decodeUtf8(this.data.subarray(offset, end));
  }
}

interface FractalHeapHeader {
  idLength: number;
  filterLength: number;
  checksummedBlocks: boolean;
  maxManagedSize: number;
  hugeBtree: number;
  tableWidth: number;
  startBlockSize: number;
  maxDirectBlockSize: number;
  maxHeapSizeBits: number;
  rootBlock: number;
  rootRows: number;
}

const log2 = (n: number): number => Math.round(Math.log2(n));
const isPow2 = (n: number): boolean => n > 0 && Number.isSafeInteger(n) && 2 ** log2(n) === n;

/** A fractal heap: objects by heap ID. */
export class FractalHeap {
  private readonly offSize: number;
  private readonly lenSize: number;
  private readonly maxDblockRows: number;
  private hugeIndex?: Map<number, { address: number; length: number }>;

  private constructor(
    private readonly file: Hdf5File,
    private readonly address: number,
    readonly h: FractalHeapHeader,
  ) {
    this.offSize = Math.ceil(h.maxHeapSizeBits / 8);
    this.lenSize = Math.min(Math.ceil(log2(h.maxDirectBlockSize) / 8), Math.floor(Math.log2(Math.max(1, h.maxManagedSize)) / 8) + 1);
    this.maxDblockRows = log2(h.maxDirectBlockSize) - log2(h.startBlockSize) + 2;
  }

  static async open(file: Hdf5File, address: number): Promise<FractalHeap> {
    const so = file.superblock.sizeOfOffsets;
    const sl = file.superblock.sizeOfLengths;
    const b = await file.read(address, Math.min(4 + 1 + 2 + 2 + 1 + 4 + 12 * sl + 3 * so + 2 + 2 + 2 + 2 + 64, file.source.size - file.superblock.base - address), 'fractal heap header');
    if (!startsWith(b, 'FRHP')) throw malformed(file.name, 'fractal heap without FRHP signature', address);
    try {
      const dv = view(b);
      let p = 5;
      const idLength = dv.getUint16(p, true);
      const filterLength = dv.getUint16(p + 2, true);
      const flags = b[p + 4]!;
      const maxManagedSize = dv.getUint32(p + 5, true);
      p += 9;
      p += sl; // next huge object ID
      const hugeBtree = readUint(b, p, so);
      p += so;
      p += sl + so + sl + sl + sl + sl + sl + sl + sl + sl; // free space, its manager, managed space … tiny objects count
      const tableWidth = dv.getUint16(p, true);
      p += 2;
      const startBlockSize = readUint(b, p, sl);
      const maxDirectBlockSize = readUint(b, p + sl, sl);
      p += 2 * sl;
      const maxHeapSizeBits = dv.getUint16(p, true);
      p += 4; // + starting rows of the root indirect block
      const rootBlock = readUint(b, p, so);
      const rootRows = dv.getUint16(p + so, true);
      const h: FractalHeapHeader = { idLength, filterLength, checksummedBlocks: (flags & 2) !== 0, maxManagedSize, hugeBtree, tableWidth, startBlockSize, maxDirectBlockSize, maxHeapSizeBits, rootBlock, rootRows };
      if (!tableWidth || !isPow2(tableWidth) || !isPow2(startBlockSize) || !isPow2(maxDirectBlockSize) || maxDirectBlockSize < startBlockSize || maxHeapSizeBits < 1 || maxHeapSizeBits > 64 || idLength < 1 || idLength > 4096) {
        throw malformed(file.name, `fractal heap doubling table (width ${tableWidth}, blocks ${startBlockSize}..${maxDirectBlockSize}, ${maxHeapSizeBits} bits)`, address);
      }
      return new FractalHeap(file, address, h);
    } catch (e) {
      if (e instanceof RangeError) throw malformed(file.name, 'fractal heap header truncated', address);
      throw e;
    }
  }

  /** The object a heap ID names, or its first `maxBytes` (at most HEAP_OBJECT_BYTES). */
  async object(id: Uint8Array, maxBytes: number = HEAP_OBJECT_BYTES): Promise<Uint8Array> {
    const b0 = id[0] ?? 0;
    if (b0 >> 6 !== 0) throw malformed(this.file.name, `fractal heap ID version ${b0 >> 6}`, this.address);
    const type = (b0 >> 4) & 3;
    if (type === 0) {
      const off = readUint(id, 1, this.offSize);
      const len = readUint(id, 1 + this.offSize, this.lenSize);
      return this.managed(off, len, maxBytes);
    }
    if (type === 2) {
      const extended = this.h.idLength > 17;
      const len = (extended ? ((b0 & 0x0f) << 8) | id[1]! : b0 & 0x0f) + 1;
      const at = extended ? 2 : 1;
      if (at + len > id.length) throw malformed(this.file.name, 'tiny fractal heap object longer than its ID', this.address);
      return id.slice(at, at + Math.min(len, maxBytes));
    }
    if (type === 1) return this.huge(id, maxBytes);
    throw malformed(this.file.name, `fractal heap ID of type ${type}`, this.address);
  }

  private async huge(id: Uint8Array, maxBytes: number): Promise<Uint8Array> {
    if (this.h.filterLength > 0) throw new ModelwiseError('UNSUPPORTED', 'HDF5: huge objects of a filtered fractal heap', { file: this.file.name, offset: this.address });
    const so = this.file.superblock.sizeOfOffsets;
    const sl = this.file.superblock.sizeOfLengths;
    let address: number;
    let length: number;
    if (so + sl <= this.h.idLength - 1) {
      address = readUint(id, 1, so);
      length = readUint(id, 1 + so, sl);
    } else {
      const key = readUint(id, 1, Math.min(this.h.idLength - 1, 8));
      if (!this.hugeIndex) {
        const index = new Map<number, { address: number; length: number }>();
        if (this.h.hugeBtree !== UNDEF) {
          await walkBTree2(this.file, this.h.hugeBtree, (r, t) => {
            if (t === 1 && r.length >= so + 2 * sl) index.set(readUint(r, so + sl, sl), { address: readUint(r, 0, so), length: readUint(r, so, sl) });
          });
        }
        this.hugeIndex = index;
      }
      const hit = this.hugeIndex.get(key);
      if (!hit) throw malformed(this.file.name, `huge fractal heap object ${key} not in its B-tree`, this.address);
      ({ address, length } = hit);
    }
    return this.file.read(address, Math.min(length, maxBytes), 'huge fractal heap object', HEAP_OBJECT_BYTES);
  }

  private blockSize(row: number): number {
    return row === 0 ? this.h.startBlockSize : this.h.startBlockSize * 2 ** (row - 1);
  }

  /** A managed object: find the direct block holding heap offset `off` through the doubling table. */
  private async managed(off: number, len: number, maxBytes: number): Promise<Uint8Array> {
    if (off === UNDEF || len === UNDEF || len > HEAP_OBJECT_BYTES) throw malformed(this.file.name, 'managed fractal heap object ID out of range', this.address);
    if (this.h.filterLength > 0) throw new ModelwiseError('UNSUPPORTED', 'HDF5: filtered fractal heap blocks', { file: this.file.name, offset: this.address });
    if (this.h.rootBlock === UNDEF) throw malformed(this.file.name, 'fractal heap object in an empty heap', this.address);
    if (this.h.rootRows === 0) return this.fromDirect(this.h.rootBlock, 0, this.h.startBlockSize, off, len, maxBytes);
    let block = this.h.rootBlock;
    let rows = this.h.rootRows;
    let base = 0;
    const so = this.file.superblock.sizeOfOffsets;
    for (let depth = 0; depth < 64; depth++) {
      const head = 4 + 1 + so + this.offSize;
      const width = this.h.tableWidth;
      const directRows = Math.min(rows, this.maxDblockRows);
      let pos = base;
      let found: { row: number; col: number; start: number } | undefined;
      for (let r = 0; r < rows && !found; r++) {
        const size = this.blockSize(r);
        if (off < pos + size * width) found = { row: r, col: Math.floor((off - pos) / size), start: pos + Math.floor((off - pos) / size) * size };
        else pos += size * width;
      }
      if (!found) throw malformed(this.file.name, `fractal heap offset ${off} beyond the heap`, block);
      const idx = found.row * width + found.col;
      if (found.row < directRows) {
        const e = await this.file.read(block + head + idx * so, so, 'fractal heap indirect block entry');
        const child = readUint(e, 0, so);
        if (child === UNDEF) throw malformed(this.file.name, `fractal heap offset ${off} in an unallocated block`, block);
        return this.fromDirect(child, found.start, this.blockSize(found.row), off, len, maxBytes);
      }
      const at = head + directRows * width * so + (idx - directRows * width) * so;
      const e = await this.file.read(block + at, so, 'fractal heap indirect block entry');
      const child = readUint(e, 0, so);
      if (child === UNDEF) throw malformed(this.file.name, `fractal heap offset ${off} in an unallocated block`, block);
      block = child;
      rows = log2(this.blockSize(found.row)) - log2(this.h.startBlockSize * width) + 1;
      base = found.start;
      if (rows < 1) throw malformed(this.file.name, 'fractal heap child indirect block without rows', block);
    }
    throw malformed(this.file.name, 'fractal heap indirect blocks nested too deep', this.address);
  }

  /** Objects sit at (heap offset − block offset) from the start of their direct block, header included. */
  private async fromDirect(block: number, blockOffset: number, blockSize: number, off: number, len: number, maxBytes: number): Promise<Uint8Array> {
    const rel = off - blockOffset;
    const so = this.file.superblock.sizeOfOffsets;
    const head = 4 + 1 + so + this.offSize + (this.h.checksummedBlocks ? 4 : 0);
    if (rel < head || rel + len > blockSize) throw malformed(this.file.name, `fractal heap object (${len} bytes at ${off}) outside its direct block`, block);
    const sig = await this.file.read(block, 4, 'fractal heap direct block');
    if (!startsWith(sig, 'FHDB')) throw malformed(this.file.name, 'fractal heap direct block without FHDB signature', block);
    return this.file.read(block + rel, Math.min(len, maxBytes), 'fractal heap object', HEAP_OBJECT_BYTES);
  }
}
