/**
 * HDF5 low-level encodings shared by every part of the reader: little-endian integers and the
 * undefined address, the caps on values read from files, datatype messages (spec IV.A.2.d) and
 * dataspace messages (IV.A.2.b). https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html
 */
import { decodeUtf8 } from '../io/bytes.js';

/**
 * Caps for values read from untrusted HDF5 files (kept here until they move to src/limits.ts).
 */
export const HDF5_LIMITS = {
  /** Superblock search: offsets 0, 512, 1024 … up to this (a user block larger than this is not seen). */
  superblockSearch: 64 * 1024,
  /** Bytes of one object header, all chunks together: real headers are a few KiB (attributes ≤ 64 KiB each). */
  objectHeaderBytes: 4 * 1024 * 1024,
  /** Continuation chunks followed for one object header. */
  continuations: 1024,
  /** Messages decoded from one object header. */
  messages: 65_536,
  /** Datatype nesting (variable-length of variable-length …) decoded. */
  datatypeDepth: 8,
  /** Bytes of one attribute value read (string values are truncated to it, arrays are not read past it). */
  attributeValueBytes: 1024 * 1024,
  /** Objects walked in one global heap collection to find a variable-length value. */
  globalHeapObjects: 65_536,
} as const;

/** The spec's undefined address (all bits set), as readUint returns it. */
export const UNDEF = -1;

/** Little-endian unsigned integer of 1–8 bytes; UNDEF when all bits set (the spec's undefined address) or above 2^53. */
export function readUint(b: Uint8Array, at: number, size: number): number {
  if (at < 0 || at + size > b.length) throw new RangeError('HDF5 field outside its buffer');
  let allOnes = true;
  let v = 0;
  for (let i = size - 1; i >= 0; i--) {
    const byte = b[at + i]!;
    if (byte !== 0xff) allOnes = false;
    v = v * 256 + byte;
  }
  if (allOnes && size > 1) return UNDEF;
  return Number.isSafeInteger(v) ? v : UNDEF;
}

export const pad8 = (n: number): number => (n + 7) & ~7;

/** HDF5 datatype classes (spec IV.A.2.d). */
export const DatatypeClass = {
  FixedPoint: 0,
  FloatingPoint: 1,
  Time: 2,
  String: 3,
  Bitfield: 4,
  Opaque: 5,
  Compound: 6,
  Reference: 7,
  Enumerated: 8,
  VariableLength: 9,
  Array: 10,
} as const;

export interface Datatype {
  class: number;
  version: number;
  /** Class bit fields (24 bits). */
  bits: number;
  /** Size in bytes of one element. */
  size: number;
  /** Base type of a variable-length, array or enumerated type. */
  base?: Datatype;
  /** Variable-length string (class 9 with type 1). */
  isVlenString?: boolean;
  /** Dimensions of an array type. */
  arrayDims?: number[];
  /** Byte order of fixed-point, floating-point, bitfield and time types. */
  bigEndian?: boolean;
  /** VAX float byte order (not readable as IEEE). */
  vax?: boolean;
  /** Fixed-point: two's complement signed. */
  signed?: boolean;
  /** Floating-point field sizes in bits (bf16 = 8/7, f16 = 5/10). */
  exponentSize?: number;
  mantissaSize?: number;
  /** Compound members. */
  members?: CompoundMember[];
  /** Enumeration member names and values (in the base type). */
  enumNames?: string[];
  enumValues?: number[];
}

export interface CompoundMember {
  name: string;
  offset: number;
  type: Datatype;
}

export interface Dataspace {
  kind: 'scalar' | 'simple' | 'null';
  dims: number[];
  /** Maximum dimensions when stored (UNLIMITED = -1 for an unlimited one). */
  maxDims?: number[];
}

/** Datatype message (spec IV.A.2.d): class, size and the base types needed to read values. */
export function parseDatatype(d: Uint8Array, at: number, depth = 0): Datatype {
  return parseDatatypeAt(d, at, depth)[0];
}

/** Bytes needed for a compound member's byte offset in a version-3 compound (spec IV.A.2.d). */
function offsetBytes(size: number): number {
  return size < 0x100 ? 1 : size < 0x10000 ? 2 : size < 0x1000000 ? 3 : 4;
}

function cString(d: Uint8Array, at: number, padded: boolean): [string, number] {
  const nul = d.indexOf(0, at);
  if (nul < 0) throw new RangeError('unterminated name in a datatype');
  const name = decodeUtf8(d.subarray(at, nul));
  return [name, padded ? at + pad8(nul + 1 - at) : nul + 1];
}

/**
 * A datatype and the offset just past its encoding (compound members and enum values follow their
 * base types, so the length of each nested type must be known).
 */
export function parseDatatypeAt(d: Uint8Array, at: number, depth = 0): [Datatype, number] {
  if (depth > HDF5_LIMITS.datatypeDepth) throw new RangeError('datatype nesting too deep');
  if (at + 8 > d.length) throw new RangeError('datatype truncated');
  const cls = d[at]! & 0x0f;
  const version = d[at]! >> 4;
  const bits = d[at + 1]! | (d[at + 2]! << 8) | (d[at + 3]! << 16);
  const size = readUint(d, at + 4, 4);
  const t: Datatype = { class: cls, version, bits, size };
  let p = at + 8;
  switch (cls) {
    case DatatypeClass.FixedPoint:
    case DatatypeClass.Bitfield:
      t.bigEndian = (bits & 1) !== 0;
      t.signed = cls === DatatypeClass.FixedPoint && (bits & 0x08) !== 0;
      p += 4;
      break;
    case DatatypeClass.FloatingPoint:
      t.bigEndian = (bits & 1) !== 0 && (bits & 0x40) === 0;
      if ((bits & 0x41) === 0x41) t.vax = true;
      if (p + 12 > d.length) throw new RangeError('float properties truncated');
      t.exponentSize = d[p + 5]!;
      t.mantissaSize = d[p + 7]!;
      p += 12;
      break;
    case DatatypeClass.Time:
      t.bigEndian = (bits & 1) !== 0;
      p += 2;
      break;
    case DatatypeClass.Opaque:
      p += pad8(bits & 0xff);
      break;
    case DatatypeClass.Compound: {
      const n = bits & 0xffff;
      const members: CompoundMember[] = [];
      for (let i = 0; i < n; i++) {
        let name: string;
        [name, p] = cString(d, p, version < 3);
        let offset: number;
        if (version >= 3) {
          const ob = offsetBytes(size);
          offset = readUint(d, p, ob);
          p += ob;
        } else {
          offset = readUint(d, p, 4);
          p += version === 1 ? 4 + 1 + 3 + 4 + 4 + 16 : 4;
        }
        let type: Datatype;
        [type, p] = parseDatatypeAt(d, p, depth + 1);
        members.push({ name, offset, type });
      }
      t.members = members;
      break;
    }
    case DatatypeClass.Reference:
      break;
    case DatatypeClass.Enumerated: {
      const n = bits & 0xffff;
      let base: Datatype;
      [base, p] = parseDatatypeAt(d, p, depth + 1);
      t.base = base;
      const names: string[] = [];
      for (let i = 0; i < n; i++) {
        let name: string;
        [name, p] = cString(d, p, version < 3);
        names.push(name);
      }
      const values: number[] = [];
      for (let i = 0; i < n; i++, p += base.size) values.push(base.size <= 6 ? readUint(d, p, base.size) : NaN);
      t.enumNames = names;
      t.enumValues = values;
      break;
    }
    case DatatypeClass.VariableLength: {
      t.isVlenString = (bits & 0x0f) === 1;
      let base: Datatype;
      [base, p] = parseDatatypeAt(d, p, depth + 1);
      t.base = base;
      break;
    }
    case DatatypeClass.Array: {
      const rank = d[p]!;
      const dims: number[] = [];
      p += version >= 3 ? 1 : 4;
      for (let i = 0; i < rank; i++, p += 4) dims.push(readUint(d, p, 4));
      if (version < 3) p += 4 * rank; // permutation indices
      t.arrayDims = dims;
      let base: Datatype;
      [base, p] = parseDatatypeAt(d, p, depth + 1);
      t.base = base;
      break;
    }
    default:
      break;
  }
  if (p > d.length) throw new RangeError('datatype truncated');
  return [t, p];
}

/** Dataspace message (spec IV.A.2.b), versions 1 and 2. */
export function parseDataspace(d: Uint8Array, sizeOfLengths: number): Dataspace {
  const version = d[0];
  const rank = d[1]!;
  if (version !== 1 && version !== 2) throw new RangeError('unknown dataspace version');
  if (rank > 32) throw new RangeError('dataspace rank over 32');
  let p = version === 1 ? 8 : 4;
  const flags = d[2]!;
  const dims: number[] = [];
  for (let i = 0; i < rank; i++, p += sizeOfLengths) {
    const n = readUint(d, p, sizeOfLengths);
    if (n === UNDEF) throw new RangeError('dataspace dimension too large');
    dims.push(n);
  }
  const kind = version === 2 && d[3] === 2 ? 'null' : rank === 0 ? 'scalar' : 'simple';
  if (flags & 1) {
    const maxDims: number[] = [];
    for (let i = 0; i < rank; i++, p += sizeOfLengths) maxDims.push(readUint(d, p, sizeOfLengths));
    return { kind, dims, maxDims };
  }
  return { kind, dims };
}

