/**
 * Reading one HDF5 dataset's elements (what `convert` needs), bounded by the dataset's own size:
 *   - compact (data in the header) and contiguous storage are read directly;
 *   - chunked storage: chunks located through a v1 B-tree (layout v1–3) or, for layout v4, a single
 *     chunk, the implicit index, a fixed or extensible array (hdf5-chunk-index.ts) or a v2 B-tree;
 *     each chunk is unfiltered (deflate via fflate, shuffle, fletcher32 checksum stripped) and
 *     copied into place.
 * Other filters (szip, nbit, scaleoffset, lzf, blosc …) are UNSUPPORTED. Unallocated chunks read
 * as the fill value. Spec:
 * https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html (III.A, VII, IV.A.2.i/l).
 */
import { ModelwiseError } from '../errors.js';
import { inflateCapped } from './inflate.js';
import { walkBTree2, walkBTreeV1 } from './hdf5-btree.js';
import { extensibleArray, fixedArray } from './hdf5-chunk-index.js';
import { filterName, type DatasetInfo, type Hdf5Filter } from './hdf5-dataset.js';
import { DatatypeClass, UNDEF, malformed, readUint, type Datatype, type Hdf5File } from './hdf5.js';

export const READ_LIMITS = {
  /** Largest dataset read into memory at once (a JS typed array of 2 GiB is the practical ceiling). */
  datasetBytes: 2 ** 31 - 1,
  /** Chunks of one dataset. */
  chunks: 50_000_000,
} as const;

const prod = (a: number[]): number => a.reduce((x, y) => x * y, 1);

/** Row-major strides in elements. */
function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** Copy a decoded chunk whose first element sits at `origin` into the row-major output. */
function place(out: Uint8Array, shape: number[], chunk: number[], origin: number[], raw: Uint8Array, es: number): void {
  const rank = shape.length;
  const lim = chunk.map((c, i) => Math.min(c, shape[i]! - origin[i]!));
  if (lim.some((l) => l <= 0)) return;
  const os = strides(shape);
  const cs = strides(chunk);
  const run = lim[rank - 1]! * es;
  const idx = new Array<number>(rank).fill(0);
  for (;;) {
    let src = 0;
    let dst = origin[rank - 1]!;
    for (let i = 0; i < rank - 1; i++) {
      src += idx[i]! * cs[i]!;
      dst += (origin[i]! + idx[i]!) * os[i]!;
    }
    out.set(raw.subarray(src * es, src * es + run), dst * es);
    let i = rank - 2;
    for (; i >= 0; i--) {
      if (++idx[i]! < lim[i]!) break;
      idx[i] = 0;
    }
    if (i < 0) return;
  }
}

function unshuffle(data: Uint8Array, es: number): Uint8Array {
  if (es <= 1) return data;
  const n = Math.floor(data.length / es);
  const out = new Uint8Array(data.length);
  for (let b = 0; b < es; b++) {
    const from = b * n;
    for (let i = 0; i < n; i++) out[i * es + b] = data[from + i]!;
  }
  out.set(data.subarray(n * es), n * es);
  return out;
}

/** Undo a chunk's filters (last applied first); `mask` bit i set = filter i was skipped. */
function unfilter(file: Hdf5File, filters: Hdf5Filter[], data: Uint8Array, mask: number, chunkBytes: number, es: number, at: number): Uint8Array {
  let d = data;
  for (let i = filters.length - 1; i >= 0; i--) {
    if (mask & (1 << i)) continue;
    const f = filters[i]!;
    if (f.id === 1) {
      const r = inflateCapped(d, chunkBytes, 'zlib');
      if (!r) throw malformed(file.name, 'chunk is not valid deflate data (or inflates past its size)', at);
      d = r;
    } else if (f.id === 2) d = unshuffle(d, f.clientData[0] || es);
    else if (f.id === 3) d = d.subarray(0, Math.max(0, d.length - 4));
    else throw new ModelwiseError('UNSUPPORTED', `HDF5: chunks compressed with the ${filterName(f)} filter (id ${f.id}) cannot be read`, { file: file.name, offset: at });
  }
  return d;
}

/** The unit to byte-swap for a big-endian type (0 when none). */
function swapUnit(dt: Datatype | undefined): number {
  if (!dt) return 0;
  switch (dt.class) {
    case DatatypeClass.FixedPoint:
    case DatatypeClass.FloatingPoint:
    case DatatypeClass.Bitfield:
      return dt.bigEndian && dt.size > 1 ? dt.size : 0;
    case DatatypeClass.Enumerated:
    case DatatypeClass.Array:
      return swapUnit(dt.base);
    case DatatypeClass.Compound: {
      const units = (dt.members ?? []).map((m) => swapUnit(m.type));
      return units.length > 0 && units.every((u) => u === units[0]) && (dt.members ?? []).every((m, i) => m.offset === i * m.type.size) ? units[0]! : 0;
    }
    default:
      return 0;
  }
}

/** Byte-swap big-endian elements in place to little-endian. */
export function toLittleEndian(bytes: Uint8Array, dt: Datatype | undefined): Uint8Array {
  const u = swapUnit(dt);
  if (u > 1) {
    for (let i = 0; i + u <= bytes.length; i += u) bytes.subarray(i, i + u).reverse();
  }
  return bytes;
}

/**
 * The dataset's elements in row-major order, `prod(shape) × elementSize` bytes, in the file's byte
 * order (see toLittleEndian).
 */
export async function readDataset(file: Hdf5File, info: DatasetInfo, what = 'dataset'): Promise<Uint8Array> {
  const es = info.elementSize;
  const n = prod(info.shape);
  const total = n * es;
  if (!Number.isSafeInteger(total) || total > READ_LIMITS.datasetBytes) {
    throw new ModelwiseError('LIMIT_EXCEEDED', `HDF5: ${what} of ${total} bytes exceeds the ${READ_LIMITS.datasetBytes}-byte read limit`, { file: file.name });
  }
  const layout = info.layout;
  if (!layout) throw malformed(file.name, `${what} has no data layout message`);
  const filled = (): Uint8Array => {
    const out = new Uint8Array(total);
    const f = info.fill;
    if (f && f.length === es && f.some((b) => b !== 0)) for (let i = 0; i < total; i += es) out.set(f, i);
    return out;
  };
  if (layout.kind === 'compact') {
    if (layout.data.length < total) throw malformed(file.name, `compact ${what} holds ${layout.data.length} of ${total} bytes`);
    return layout.data.slice(0, total);
  }
  if (layout.kind === 'contiguous') {
    if (layout.address === UNDEF) return filled();
    if (layout.size >= 0 && layout.size < total) throw malformed(file.name, `contiguous ${what} stores ${layout.size} of ${total} bytes`, file.superblock.base + layout.address);
    return file.read(layout.address, total, what, READ_LIMITS.datasetBytes);
  }
  if (layout.kind === 'virtual') throw new ModelwiseError('UNSUPPORTED', `HDF5: ${what} is a virtual dataset (data in other files)`, { file: file.name });
  return readChunked(file, info, layout, total, filled, what);
}

type Chunked = Extract<NonNullable<DatasetInfo['layout']>, { kind: 'chunked' }>;

async function readChunked(file: Hdf5File, info: DatasetInfo, layout: Chunked, total: number, filled: () => Uint8Array, what: string): Promise<Uint8Array> {
  const shape = info.shape;
  const rank = shape.length;
  const chunk = layout.chunk;
  const es = info.elementSize;
  if (chunk.length !== rank || rank === 0 || chunk.some((c) => c <= 0 || c === UNDEF)) throw malformed(file.name, `${what}: chunk dims [${chunk.join(', ')}] for shape [${shape.join(', ')}]`);
  const chunkBytes = prod(chunk) * es;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes > READ_LIMITS.datasetBytes) throw new ModelwiseError('LIMIT_EXCEEDED', `HDF5: chunks of ${chunkBytes} bytes`, { file: file.name });
  const out = filled();
  if (layout.address === UNDEF || total === 0) return out;
  // The grid that linear chunk indexes refer to: the maximum dims when fixed, else the current ones.
  const gridShape = info.maxShape && info.maxShape.every((m, i) => m !== UNDEF && m >= shape[i]!) ? info.maxShape : shape;
  const grid = gridShape.map((d, i) => Math.ceil(d / chunk[i]!));
  const maxChunks = prod(grid);
  if (maxChunks > READ_LIMITS.chunks) throw new ModelwiseError('LIMIT_EXCEEDED', `HDF5: ${what} has ${maxChunks} chunks`, { file: file.name });
  let count = 0;
  const take = async (address: number, size: number, mask: number, origin: number[]): Promise<void> => {
    if (++count > maxChunks) throw malformed(file.name, `${what}: more chunks than its grid holds`);
    if (origin.some((o) => !Number.isSafeInteger(o) || o < 0)) throw malformed(file.name, `${what}: chunk at offset [${origin.join(', ')}]`);
    if (address === UNDEF || origin.some((o, i) => o >= shape[i]! || o % chunk[i]! !== 0)) return;
    const partial = origin.some((o, i) => o + chunk[i]! > shape[i]!);
    const skipAll = partial && (layout.flags & 1) !== 0;
    const unfiltered = info.filters.length === 0 || skipAll;
    if (size > (unfiltered ? chunkBytes : chunkBytes * 2 + 1024 * 1024)) throw malformed(file.name, `${what}: chunk of ${size} bytes (raw ${chunkBytes})`, file.superblock.base + address);
    const stored = await file.read(address, size, `${what} chunk`, READ_LIMITS.datasetBytes);
    const raw = unfiltered ? stored : unfilter(file, info.filters, stored, mask, chunkBytes, es, file.superblock.base + address);
    if (raw.length < chunkBytes) throw malformed(file.name, `${what}: chunk decodes to ${raw.length} of ${chunkBytes} bytes`, file.superblock.base + address);
    place(out, shape, chunk, origin, raw, es);
  };
  const fromLinear = (idx: number): number[] => {
    const o = new Array<number>(rank);
    for (let i = rank - 1; i >= 0; i--) {
      o[i] = (idx % grid[i]!) * chunk[i]!;
      idx = Math.floor(idx / grid[i]!);
    }
    return o;
  };
  const filteredSize = info.filters.length === 0 ? chunkBytes : undefined;
  switch (layout.version < 4 ? 0 : layout.index) {
    case 0:
      await walkBTreeV1(file, layout.address, 1, 8 + 8 * (rank + 1), async (child, key) => {
        const origin = Array.from({ length: rank }, (_, i) => readUint(key, 8 + 8 * i, 8));
        await take(child, readUint(key, 0, 4), readUint(key, 4, 4), origin);
      });
      break;
    case 1:
      await take(layout.address, layout.singleSize ?? chunkBytes, layout.singleMask ?? 0, new Array<number>(rank).fill(0));
      break;
    case 2:
      for (let i = 0; i < maxChunks; i++) await take(layout.address + i * chunkBytes, chunkBytes, 0, fromLinear(i));
      break;
    case 3:
      await fixedArray(file, layout.address, async (i, address, size, mask) => take(address, size ?? filteredSize ?? chunkBytes, mask, fromLinear(i)), maxChunks);
      break;
    case 5:
      await walkBTree2(file, layout.address, async (r, t) => {
        const so = file.superblock.sizeOfOffsets;
        const address = readUint(r, 0, so);
        const scaledAt = r.length - 8 * rank;
        const origin = Array.from({ length: rank }, (_, i) => readUint(r, scaledAt + 8 * i, 8) * chunk[i]!);
        if (t === 10) await take(address, chunkBytes, 0, origin);
        else if (t === 11) await take(address, readUint(r, so, scaledAt - 4 - so), readUint(r, scaledAt - 4, 4), origin);
        else throw malformed(file.name, `chunk index v2 B-tree of record type ${t}`);
      });
      break;
    case 4: {
      // Chunks are numbered along the unlimited dimension first (H5Dearray.c swizzles it to the front).
      const unlim = (info.maxShape ?? []).findIndex((m) => m === UNDEF);
      if (unlim > 0) throw new ModelwiseError('UNSUPPORTED', `HDF5: ${what} has an extensible-array index on unlimited dimension ${unlim}`, { file: file.name });
      const fixedGrid = shape.map((d, i) => Math.ceil((i === 0 || !info.maxShape ? d : info.maxShape[i]!) / chunk[i]!));
      const origin = (idx: number): number[] => {
        const o = new Array<number>(rank);
        for (let i = rank - 1; i >= 1; i--) {
          o[i] = (idx % fixedGrid[i]!) * chunk[i]!;
          idx = Math.floor(idx / fixedGrid[i]!);
        }
        o[0] = idx * chunk[0]!;
        return o;
      };
      await extensibleArray(file, layout.address, async (i, address, size, mask) => take(address, size ?? filteredSize ?? chunkBytes, mask, origin(i)), maxChunks);
      break;
    }
    default:
      throw new ModelwiseError('UNSUPPORTED', `HDF5: ${what} uses chunk index type ${layout.index}`, { file: file.name });
  }
  return out;
}
