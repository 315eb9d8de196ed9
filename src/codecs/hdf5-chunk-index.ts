/**
 * Chunk indexes of data layout version 4 that are arrays (spec VII.B fixed array "FAHD"/"FADB",
 * VII.A extensible array "EAHD"/"EAIB"/"EASB"/"EADB";
 * https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html, H5FA*.c / H5EA*.c):
 * element i names chunk i (address, and for filtered chunks its size and filter mask).
 * Both visit every allocated element once, in order, reading each block once.
 */
import { ModelwiseError } from '../errors.js';
import { startsWith } from '../io/bytes.js';
import { UNDEF, malformed, readUint, type Hdf5File } from './hdf5.js';

/** Called with element index, chunk address, filtered size (undefined when not filtered) and filter mask. */
export type ChunkVisit = (i: number, address: number, size: number | undefined, mask: number) => Promise<void>;

function entryReader(so: number, client: number, entrySize: number, visit: ChunkVisit) {
  const sizeLen = client === 1 ? entrySize - so - 4 : 0;
  return (b: Uint8Array, at: number, i: number): Promise<void> =>
    visit(i, readUint(b, at, so), client === 1 ? readUint(b, at + so, sizeLen) : undefined, client === 1 ? readUint(b, at + so + sizeLen, 4) : 0);
}

/** Fixed array chunk index (spec VII.B "FAHD"/"FADB"): element i → chunk i of the grid. */
export async function fixedArray(file: Hdf5File, address: number, visit: ChunkVisit, maxChunks: number): Promise<void> {
  const so = file.superblock.sizeOfOffsets;
  const sl = file.superblock.sizeOfLengths;
  const h = await file.read(address, 8 + sl + so + 4, 'fixed array header');
  if (!startsWith(h, 'FAHD')) throw malformed(file.name, 'fixed array header without FAHD signature', address);
  const client = h[5]!;
  const entrySize = h[6]!;
  const pageBits = h[7]!;
  const n = readUint(h, 8, sl);
  const dblock = readUint(h, 8 + sl, so);
  if (n === UNDEF || n > maxChunks || entrySize < so || pageBits > 32) throw malformed(file.name, `fixed array of ${n} entries of ${entrySize} bytes`, address);
  if (dblock === UNDEF) return;
  const entry = entryReader(so, client, entrySize, visit);
  const head = 4 + 1 + 1 + so;
  const pageElems = 2 ** pageBits;
  if (n <= pageElems) {
    const b = await file.read(dblock, head + n * entrySize, 'fixed array data block');
    if (!startsWith(b, 'FADB')) throw malformed(file.name, 'fixed array data block without FADB signature', dblock);
    for (let i = 0; i < n; i++) await entry(b, head + i * entrySize, i);
    return;
  }
  const pages = Math.ceil(n / pageElems);
  const bitmapSize = Math.ceil(pages / 8);
  const b = await file.read(dblock, head + bitmapSize, 'fixed array data block');
  if (!startsWith(b, 'FADB')) throw malformed(file.name, 'fixed array data block without FADB signature', dblock);
  const pagesAt = dblock + head + bitmapSize + 4;
  for (let p = 0; p < pages; p++) {
    if (!(b[head + (p >> 3)]! & (0x80 >> (p & 7)))) continue;
    const elems = Math.min(pageElems, n - p * pageElems);
    const page = await file.read(pagesAt + p * (pageElems * entrySize + 4), elems * entrySize, 'fixed array page');
    for (let i = 0; i < elems; i++) await entry(page, i * entrySize, p * pageElems + i);
  }
}

/**
 * Extensible array chunk index: the first elements sit in the index block, the rest in data blocks
 * whose sizes double by super block (H5EA__hdr_init); the first super blocks' data blocks are
 * pointed to from the index block, later ones through secondary blocks. Paged data blocks
 * (over 2^pageBits elements, i.e. more than ~1000 chunks in one block) are UNSUPPORTED.
 */
export async function extensibleArray(file: Hdf5File, address: number, visit: ChunkVisit, maxChunks: number): Promise<void> {
  const so = file.superblock.sizeOfOffsets;
  const sl = file.superblock.sizeOfLengths;
  const h = await file.read(address, 12 + 6 * sl + so + 4, 'extensible array header');
  if (!startsWith(h, 'EAHD')) throw malformed(file.name, 'extensible array header without EAHD signature', address);
  const client = h[5]!;
  const es = h[6]!;
  const maxBits = h[7]!;
  const idxElmts = h[8]!;
  const dblkMin = h[9]!;
  const sbMinPtrs = h[10]!;
  const pageBits = h[11]!;
  const maxIndexSet = readUint(h, 12 + 4 * sl, sl);
  const iblock = readUint(h, 12 + 6 * sl, so);
  const pow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
  if (es < so || maxBits > 64 || !pow2(dblkMin) || !pow2(sbMinPtrs) || maxIndexSet === UNDEF || maxIndexSet > maxChunks) {
    throw malformed(file.name, `extensible array (element ${es} bytes, ${maxIndexSet} elements, blocks ${dblkMin}/${sbMinPtrs})`, address);
  }
  if (iblock === UNDEF || maxIndexSet === 0) return;
  const entry = entryReader(so, client, es, visit);
  // Super block geometry.
  const nsblks = 1 + maxBits - Math.log2(dblkMin);
  const sblk: { ndblks: number; dblkNelmts: number; startIdx: number; startDblk: number }[] = [];
  for (let u = 0, startIdx = 0, startDblk = 0; u < nsblks; u++) {
    const ndblks = 2 ** Math.floor(u / 2);
    const dblkNelmts = 2 ** Math.floor((u + 1) / 2) * dblkMin;
    sblk.push({ ndblks, dblkNelmts, startIdx, startDblk });
    startIdx += ndblks * dblkNelmts;
    startDblk += ndblks;
  }
  const iNsblks = 2 * Math.log2(sbMinPtrs);
  const nDblkAddrs = 2 * (sbMinPtrs - 1);
  const nSblkAddrs = Math.max(0, nsblks - iNsblks);
  const head = 4 + 1 + 1 + so;
  const offSize = Math.ceil(maxBits / 8);
  const ib = await file.read(iblock, head + idxElmts * es + (nDblkAddrs + nSblkAddrs) * so, 'extensible array index block');
  if (!startsWith(ib, 'EAIB')) throw malformed(file.name, 'extensible array index block without EAIB signature', iblock);
  const n = maxIndexSet;
  for (let i = 0; i < Math.min(n, idxElmts); i++) await entry(ib, head + i * es, i);
  // Data blocks: those of the first super blocks from the index block, the rest via secondary blocks.
  const dataBlock = async (addr: number, s: number, first: number): Promise<void> => {
    const nel = sblk[s]!.dblkNelmts;
    if (addr === UNDEF) return;
    if (nel > 2 ** pageBits) throw new ModelwiseError('UNSUPPORTED', 'HDF5: paged extensible array data blocks', { file: file.name, offset: addr });
    const count = Math.min(nel, n - first);
    if (count <= 0) return;
    const b = await file.read(addr, head + offSize + count * es, 'extensible array data block');
    if (!startsWith(b, 'EADB')) throw malformed(file.name, 'extensible array data block without EADB signature', addr);
    for (let k = 0; k < count; k++) await entry(b, head + offSize + k * es, first + k);
  };
  for (let s = 0; s < nsblks; s++) {
    const info = sblk[s]!;
    const first = idxElmts + info.startIdx;
    if (first >= n) break;
    if (s < iNsblks) {
      for (let d = 0; d < info.ndblks; d++) await dataBlock(readUint(ib, head + idxElmts * es + (info.startDblk + d) * so, so), s, first + d * info.dblkNelmts);
    } else {
      const sbAddr = readUint(ib, head + idxElmts * es + nDblkAddrs * so + (s - iNsblks) * so, so);
      if (sbAddr === UNDEF) continue;
      if (info.dblkNelmts > 2 ** pageBits) throw new ModelwiseError('UNSUPPORTED', 'HDF5: paged extensible array data blocks', { file: file.name, offset: sbAddr });
      const sb = await file.read(sbAddr, head + offSize + info.ndblks * so, 'extensible array secondary block');
      if (!startsWith(sb, 'EASB')) throw malformed(file.name, 'extensible array secondary block without EASB signature', sbAddr);
      for (let d = 0; d < info.ndblks; d++) await dataBlock(readUint(sb, head + offSize + d * so, so), s, first + d * info.dblkNelmts);
    }
  }
}
