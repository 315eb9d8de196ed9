/**
 * HDF5 datasets: shape, element type and storage, read from the object header only (spec IV.A.2.b
 * dataspace, IV.A.2.d datatype, IV.A.2.i data layout, IV.A.2.l filter pipeline;
 * https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html). Reading the data itself is
 * in hdf5-read.ts. The dtype names follow what h5py/NumPy report (the oracle's conventions):
 * enum {FALSE, TRUE} → bool, compound {r, i} → c64/c128, fixed strings → bytes<N>, variable-length
 * data → object, other compound / opaque / array types → void<N>.
 */
import { view } from '../io/bytes.js';
import { MSG } from './hdf5-group.js';
import { DatatypeClass, UNDEF, malformed, parseDataspace, parseDatatype, readUint, type Dataspace, type Datatype, type Hdf5File, type ObjectHeader } from './hdf5.js';

export interface Hdf5Filter {
  id: number;
  name?: string;
  optional: boolean;
  clientData: number[];
}

export type Hdf5Layout =
  | { kind: 'compact'; data: Uint8Array }
  /** `size` -1: not stored (layout v1/v2), it follows from the dataspace and datatype. */
  | { kind: 'contiguous'; address: number; size: number }
  | {
      kind: 'chunked';
      version: number;
      /** Chunk dimensions (the element-size dimension removed). */
      chunk: number[];
      /** v1-3: v1 B-tree; v4: 1 single chunk, 2 implicit, 3 fixed array, 4 extensible array, 5 v2 B-tree. */
      index: number;
      address: number;
      /** Layout v4 flags (bit 0: partial edge chunks not filtered; bit 1: single chunk is filtered). */
      flags: number;
      /** Single chunk index: filtered size and filter mask. */
      singleSize?: number;
      singleMask?: number;
    }
  | { kind: 'virtual' };

export interface DatasetInfo {
  /** Dimensions as stored ([] for a scalar). */
  shape: number[];
  maxShape?: number[];
  datatype?: Datatype;
  /** Canonical dtype name. */
  dtype: string;
  elementSize: number;
  layout?: Hdf5Layout;
  filters: Hdf5Filter[];
  /** Fill value bytes when one is defined (else zeros are the fill). */
  fill?: Uint8Array;
  /** Set when the datatype or dataspace is a shared (committed) message this reader does not follow. */
  shared?: boolean;
}

const INT = (dt: Datatype): string => `${dt.signed ? 'i' : 'u'}${dt.size * 8}`;

/** The canonical dtype of an HDF5 datatype, as h5py maps it to NumPy. */
export function hdf5Dtype(dt: Datatype | undefined): string {
  if (!dt) return 'unknown';
  switch (dt.class) {
    case DatatypeClass.FixedPoint:
      return [1, 2, 4, 8].includes(dt.size) ? INT(dt) : `void${dt.size}`;
    case DatatypeClass.FloatingPoint:
      if (dt.size === 2) return dt.exponentSize === 8 ? 'bf16' : 'f16';
      if (dt.size === 4) return 'f32';
      if (dt.size === 8) return 'f64';
      if (dt.size === 1) return dt.exponentSize === 5 ? 'f8e5m2' : 'f8e4m3fn';
      return `f${dt.size * 8}`;
    case DatatypeClass.Bitfield:
      return [1, 2, 4, 8].includes(dt.size) ? `u${dt.size * 8}` : `void${dt.size}`;
    case DatatypeClass.String:
      return `bytes${dt.size}`;
    case DatatypeClass.Enumerated: {
      const names = dt.enumNames ?? [];
      if (dt.size === 1 && names.length === 2 && names.includes('FALSE') && names.includes('TRUE')) return 'bool';
      return dt.base ? hdf5Dtype(dt.base) : `void${dt.size}`;
    }
    case DatatypeClass.Compound: {
      const m = dt.members ?? [];
      if (m.length === 2 && m[0]!.name === 'r' && m[1]!.name === 'i' && m[0]!.type.class === DatatypeClass.FloatingPoint && m[1]!.type.size === m[0]!.type.size) {
        if (m[0]!.type.size === 4) return 'c64';
        if (m[0]!.type.size === 8) return 'c128';
      }
      return `void${dt.size}`;
    }
    case DatatypeClass.VariableLength:
    case DatatypeClass.Reference:
      return 'object';
    default:
      return `void${dt.size}`;
  }
}

/** Filter pipeline message (0x000B), versions 1 and 2. */
export function parseFilterPipeline(d: Uint8Array, file: string): Hdf5Filter[] {
  try {
    const version = d[0];
    const n = d[1]!;
    if (version !== 1 && version !== 2) throw malformed(file, `filter pipeline version ${version}`);
    let p = version === 1 ? 8 : 2;
    const out: Hdf5Filter[] = [];
    const dv = view(d);
    for (let i = 0; i < n; i++) {
      const id = dv.getUint16(p, true);
      p += 2;
      let nameLength = 0;
      if (version === 1 || id >= 256) {
        nameLength = dv.getUint16(p, true);
        p += 2;
      }
      const flags = dv.getUint16(p, true);
      const nValues = dv.getUint16(p + 2, true);
      p += 4;
      let name: string | undefined;
      if (nameLength) {
        const raw = d.subarray(p, p + nameLength);
        const nul = raw.indexOf(0);
        name = new TextDecoder().decode(nul >= 0 ? raw.subarray(0, nul) : raw);
        p += version === 1 ? (nameLength + 7) & ~7 : nameLength;
      }
      const clientData: number[] = [];
      for (let k = 0; k < nValues; k++, p += 4) clientData.push(dv.getUint32(p, true));
      if (version === 1 && nValues % 2 === 1) p += 4;
      out.push({ id, ...(name ? { name } : {}), optional: (flags & 1) !== 0, clientData });
    }
    return out;
  } catch (e) {
    if (e instanceof RangeError) throw malformed(file, 'filter pipeline message truncated');
    throw e;
  }
}

/** Data layout message (0x0008), versions 1–4. */
export function parseLayout(d: Uint8Array, file: Hdf5File): Hdf5Layout {
  const so = file.superblock.sizeOfOffsets;
  const sl = file.superblock.sizeOfLengths;
  try {
    const version = d[0]!;
    if (version === 1 || version === 2) {
      const ndims = d[1]!;
      const cls = d[2]!;
      let p = 8;
      let address = UNDEF;
      if (cls !== 0) {
        address = readUint(d, p, so);
        p += so;
      }
      const dims: number[] = [];
      for (let i = 0; i < ndims; i++, p += 4) dims.push(readUint(d, p, 4));
      if (cls === 2) return { kind: 'chunked', version, chunk: dims.slice(0, -1), index: 0, address, flags: 0 };
      if (cls === 1) return { kind: 'contiguous', address, size: -1 }; // size follows from the dataspace and datatype
      const n = readUint(d, p, 4);
      return { kind: 'compact', data: d.subarray(p + 4, p + 4 + n) };
    }
    if (version === 3 || version === 4) {
      const cls = d[1]!;
      if (cls === 0) {
        const n = readUint(d, 2, 2);
        if (4 + n > d.length) throw malformed(file.name, 'compact dataset data overruns its layout message');
        return { kind: 'compact', data: d.subarray(4, 4 + n) };
      }
      if (cls === 1) return { kind: 'contiguous', address: readUint(d, 2, so), size: readUint(d, 2 + so, sl) };
      if (cls === 3) return { kind: 'virtual' };
      if (cls !== 2) throw malformed(file.name, `data layout class ${cls}`);
      if (version === 3) {
        const ndims = d[2]!;
        const address = readUint(d, 3, so);
        const dims: number[] = [];
        for (let i = 0, p = 3 + so; i < ndims; i++, p += 4) dims.push(readUint(d, p, 4));
        return { kind: 'chunked', version, chunk: dims.slice(0, -1), index: 0, address, flags: 0 };
      }
      const flags = d[2]!;
      const ndims = d[3]!;
      const enc = d[4]!;
      let p = 5;
      const dims: number[] = [];
      for (let i = 0; i < ndims; i++, p += enc) dims.push(readUint(d, p, enc));
      const index = d[p++]!;
      const out: Hdf5Layout = { kind: 'chunked', version, chunk: dims.slice(0, -1), index, address: UNDEF, flags };
      if (index === 1 && flags & 2) {
        out.singleSize = readUint(d, p, sl);
        out.singleMask = readUint(d, p + sl, 4);
        p += sl + 4;
      } else if (index === 3) p += 1;
      else if (index === 4) p += 5;
      else if (index === 5) p += 6;
      out.address = readUint(d, p, so);
      return out;
    }
    throw malformed(file.name, `data layout message version ${version}`);
  } catch (e) {
    if (e instanceof RangeError) throw malformed(file.name, 'data layout message truncated');
    throw e;
  }
}

/** Fill value messages: 0x0005 versions 1–3 and the old 0x0004. Undefined when none is defined. */
function parseFill(type: number, d: Uint8Array): Uint8Array | undefined {
  try {
    if (type === MSG.FillValueOld) {
      const n = readUint(d, 0, 4);
      return n > 0 ? d.slice(4, 4 + n) : undefined;
    }
    const version = d[0];
    if (version === 1 || version === 2) {
      const defined = d[3] !== 0;
      if (version === 2 && !defined) return undefined;
      const n = readUint(d, 4, 4);
      return n > 0 && defined ? d.slice(8, 8 + n) : undefined;
    }
    if (version === 3) {
      if (!(d[1]! & 0x20)) return undefined;
      const n = readUint(d, 2, 4);
      return n > 0 ? d.slice(6, 6 + n) : undefined;
    }
  } catch {
    /* no fill value */
  }
  return undefined;
}

/** What an object header says about a dataset. */
export function datasetInfo(file: Hdf5File, oh: ObjectHeader): DatasetInfo {
  let space: Dataspace | undefined;
  let datatype: Datatype | undefined;
  let layout: Hdf5Layout | undefined;
  let filters: Hdf5Filter[] = [];
  let fill: Uint8Array | undefined;
  let shared = false;
  for (const m of oh.messages) {
    const isShared = (m.flags & 0x02) !== 0;
    try {
      if (m.type === MSG.Dataspace) {
        if (isShared) shared = true;
        else space = parseDataspace(m.data, file.superblock.sizeOfLengths);
      } else if (m.type === MSG.Datatype) {
        if (isShared) shared = true;
        else datatype = parseDatatype(m.data, 0);
      } else if (m.type === MSG.DataLayout) layout = parseLayout(m.data, file);
      else if (m.type === MSG.FilterPipeline && !isShared) filters = parseFilterPipeline(m.data, file.name);
      else if ((m.type === MSG.FillValue || m.type === MSG.FillValueOld) && !isShared) fill ??= parseFill(m.type, m.data);
    } catch (e) {
      if (e instanceof RangeError) throw malformed(file.name, `dataset header message 0x${m.type.toString(16)} truncated`);
      throw e;
    }
  }
  const shape = space ? (space.kind === 'null' ? [0] : space.dims) : [];
  return {
    shape,
    ...(space?.maxDims ? { maxShape: space.maxDims } : {}),
    ...(datatype ? { datatype } : {}),
    dtype: hdf5Dtype(datatype),
    elementSize: datatype?.size ?? 0,
    ...(layout ? { layout } : {}),
    filters,
    ...(fill ? { fill } : {}),
    ...(shared || !space ? { shared: true } : {}),
  };
}

/** Human words for a filter id (registered HDF5 filters). */
export function filterName(f: Hdf5Filter): string {
  return f.name ?? ({ 1: 'deflate', 2: 'shuffle', 3: 'fletcher32', 4: 'szip', 5: 'nbit', 6: 'scaleoffset', 32000: 'lzf', 32001: 'blosc', 32004: 'lz4', 32015: 'zstd' } as Record<number, string>)[f.id] ?? `filter ${f.id}`;
}
