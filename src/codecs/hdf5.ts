/**
 * A small, read-only HDF5 reader: superblock, object headers and attribute messages, with bounded
 * random-access reads only (spec: https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html).
 *
 * Written by hand because no well-kept pure-JS HDF5 library reads lazily from a ByteSource. This
 * module is the core: the superblock (v0–v3), object headers (v1 prefix + messages, or v2 "OHDR" +
 * "OCHK" continuation chunks), attribute messages (0x000C) with fixed-length and variable-length
 * (global heap "GCOL") values, datatypes and dataspaces. Groups and dense storage are in
 * hdf5-group.ts / hdf5-heap.ts / hdf5-btree.ts, datasets in hdf5-dataset.ts / hdf5-read.ts.
 *
 * Every address and length read from the file goes through `Hdf5File.read`, which checks it against
 * the file size and HDF5_LIMITS before any read or allocation. Errors are ModelwiseError.
 */
import { ModelwiseError } from '../errors.js';
import { decodeUtf8, startsWith, view } from '../io/bytes.js';
import type { ByteSource } from '../io/source.js';
import { DatatypeClass, HDF5_LIMITS, UNDEF, pad8, parseDataspace, parseDatatype, readUint, type Dataspace, type Datatype } from './hdf5-types.js';

export { DatatypeClass, HDF5_LIMITS, UNDEF, pad8, parseDataspace, parseDatatype, parseDatatypeAt, readUint } from './hdf5-types.js';
export type { CompoundMember, Dataspace, Datatype } from './hdf5-types.js';

/** `\x89HDF\r\n\x1a\n` */
export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] as const;

export interface Superblock {
  /** Absolute file offset of the superblock: the base that every address is relative to. */
  base: number;
  version: number;
  sizeOfOffsets: number;
  sizeOfLengths: number;
  /** Address (relative to base) of the root group's object header. */
  rootObjectHeader: number;
  /** Root group B-tree and local heap (superblock v0/v1 with a cached symbol table), for group walks. */
  rootSymbolTable?: { btreeAddress: number; localHeapAddress: number };
  /** Stated end-of-file address (relative), undefined when unset. */
  endOfFile?: number;
}

export interface Hdf5Message {
  /** Header message type (0x000C attribute, 0x0010 continuation, 0x0011 symbol table, 0x0015 attribute info …). */
  type: number;
  flags: number;
  data: Uint8Array;
}

export interface ObjectHeader {
  version: 1 | 2;
  messages: Hdf5Message[];
  /** Set when a cap cut the header short (messages may be missing). */
  truncated: boolean;
}

export interface Attribute {
  name: string;
  /** Undefined when the datatype is a shared (committed) one this reader does not follow. */
  datatype?: Datatype;
  dataspace?: Dataspace;
  /** The raw value bytes as stored in the message (for variable-length types: heap references). */
  raw: Uint8Array;
}

export type AttributeValue = string | number | string[] | number[] | null;

/** Where an object keeps attributes that did not fit in its header (attribute info message 0x0015). */
export interface DenseAttributes {
  fractalHeapAddress: number;
  nameIndexAddress: number;
}

export function malformed(file: string, what: string, offset?: number): ModelwiseError {
  return new ModelwiseError('MALFORMED', `HDF5: ${what}`, { file, offset });
}

/** Offset of the HDF5 signature within the first bytes (0, 512, 1024, 2048 …), or -1. */
export function findSignature(head: Uint8Array): number {
  for (let at = 0; at + 8 <= head.length && at <= HDF5_LIMITS.superblockSearch; at = at === 0 ? 512 : at * 2) {
    if (startsWith(head, HDF5_SIGNATURE, at)) return at;
  }
  return -1;
}

/** Decode the superblock at absolute offset `at` from bytes starting there (≥ 96 bytes, fewer at EOF). */
export function parseSuperblock(b: Uint8Array, at: number, file = '<hdf5>'): Superblock {
  if (!startsWith(b, HDF5_SIGNATURE)) throw malformed(file, 'no HDF5 signature', at);
  if (b.length < 9) throw malformed(file, 'superblock truncated', at);
  const version = b[8]!;
  try {
    if (version === 0 || version === 1) {
      const so = b[13]!;
      const sl = b[14]!;
      checkSizes(so, sl, file, at);
      let p = 24 + (version === 1 ? 4 : 0); // 16 fixed + 2+2 K values + 4 flags (+ 2+2 in v1)
      p += so; // base address (the library uses the superblock's own position instead)
      p += so; // free-space info address (v0/v1: "Address of File Free-space Info")
      const eof = readUint(b, p, so);
      p += so;
      p += so; // driver information block address
      // Root group symbol table entry: link name offset, object header address, cache type, reserved, scratch pad.
      p += so;
      const root = readUint(b, p, so);
      p += so;
      const cacheType = readUint(b, p, 4);
      p += 8;
      const sb: Superblock = { base: at, version, sizeOfOffsets: so, sizeOfLengths: sl, rootObjectHeader: root };
      if (eof !== UNDEF) sb.endOfFile = eof;
      if (cacheType === 1) {
        const btreeAddress = readUint(b, p, so);
        const localHeapAddress = readUint(b, p + so, so);
        if (btreeAddress !== UNDEF && localHeapAddress !== UNDEF) sb.rootSymbolTable = { btreeAddress, localHeapAddress };
      }
      if (root === UNDEF) throw malformed(file, 'root group object header address undefined', at);
      return sb;
    }
    if (version === 2 || version === 3) {
      const so = b[9]!;
      const sl = b[10]!;
      checkSizes(so, sl, file, at);
      let p = 12;
      p += so; // base address
      p += so; // superblock extension address
      const eof = readUint(b, p, so);
      p += so;
      const root = readUint(b, p, so);
      if (root === UNDEF) throw malformed(file, 'root group object header address undefined', at);
      const sb: Superblock = { base: at, version, sizeOfOffsets: so, sizeOfLengths: sl, rootObjectHeader: root };
      if (eof !== UNDEF) sb.endOfFile = eof;
      return sb;
    }
  } catch (e) {
    if (e instanceof RangeError) throw malformed(file, 'superblock truncated', at);
    throw e;
  }
  throw new ModelwiseError('UNSUPPORTED', `HDF5 superblock version ${version} (known: 0–3)`, { file, offset: at });
}

function checkSizes(so: number, sl: number, file: string, at: number): void {
  if (![2, 4, 8].includes(so) || ![2, 4, 8].includes(sl)) throw malformed(file, `sizes of offsets/lengths ${so}/${sl} (expected 2, 4 or 8)`, at);
}

/**
 * An HDF5 file over a ByteSource. Reads are relative to the superblock (the base address) and
 * bounded; nothing is cached here (wrap the source in a CachedSource for remote files).
 */
export class Hdf5File {
  private constructor(
    readonly source: ByteSource,
    readonly superblock: Superblock,
  ) {}

  /** Open the file: find the superblock (0, 512, 1024 …) and decode it. Throws MALFORMED when not HDF5. */
  static async open(source: ByteSource, head?: Uint8Array): Promise<Hdf5File> {
    const h = head ?? (await source.read(0, Math.min(source.size, HDF5_LIMITS.superblockSearch + 8)));
    const at = findSignature(h);
    if (at < 0) throw malformed(source.name, 'no HDF5 signature at 0, 512, 1024 …', 0);
    let b = h.subarray(at, at + 128);
    if (b.length < 128 && at + b.length < source.size) b = await source.read(at, 128);
    return new Hdf5File(source, parseSuperblock(b, at, source.name));
  }

  get name(): string {
    return this.source.name;
  }

  /** Read `length` bytes at a relative address, or throw (undefined address, outside the file, over `max`). */
  async read(address: number, length: number, what: string, max: number = HDF5_LIMITS.objectHeaderBytes): Promise<Uint8Array> {
    if (address === UNDEF || address < 0) throw malformed(this.name, `${what} at an undefined address`);
    const abs = this.superblock.base + address;
    if (length < 0 || length > max) {
      throw new ModelwiseError('LIMIT_EXCEEDED', `HDF5: ${what} of ${length} bytes exceeds the ${max}-byte limit`, { file: this.name, offset: abs });
    }
    if (abs + length > this.source.size) throw new ModelwiseError('UNEXPECTED_EOF', `HDF5: ${what} (${length} bytes) runs past the end of the file`, { file: this.name, offset: abs });
    const out = await this.source.read(abs, length);
    if (out.length !== length) throw new ModelwiseError('UNEXPECTED_EOF', `HDF5: ${what} truncated`, { file: this.name, offset: abs });
    return out;
  }

  /**
   * Every message of the object header at `address`, following continuation messages, reading at
   * most `maxBytes` of header chunks (the rest is reported as `truncated`).
   */
  async objectHeader(address: number, maxBytes: number = HDF5_LIMITS.objectHeaderBytes): Promise<ObjectHeader> {
    const so = this.superblock.sizeOfOffsets;
    const sl = this.superblock.sizeOfLengths;
    const prefix = await this.read(address, 16, 'object header prefix');
    const messages: Hdf5Message[] = [];
    let budget = Math.min(maxBytes, HDF5_LIMITS.objectHeaderBytes);
    let truncated = false;
    const chunks: { address: number; length: number }[] = [];
    let version: 1 | 2;
    if (startsWith(prefix, 'OHDR')) {
      version = 2;
      if (prefix[4] !== 2) throw malformed(this.name, `object header version ${prefix[4]} after OHDR (expected 2)`, address);
      const flags = prefix[5]!;
      let p = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
      const sizeBytes = 1 << (flags & 3);
      const head = await this.read(address, p + sizeBytes, 'object header prefix');
      const chunk0 = readUint(head, p, sizeBytes);
      p += sizeBytes;
      chunks.push({ address: address + p, length: chunk0 });
      const tracked = (flags & 0x04) !== 0;
      for (let i = 0; i < chunks.length; i++) {
        if (i > HDF5_LIMITS.continuations) {
          truncated = true;
          break;
        }
        const c = chunks[i]!;
        if (c.length > budget) {
          truncated = true;
          break;
        }
        budget -= c.length;
        const bytes = await this.read(c.address, c.length, 'object header chunk');
        // Chunk 0 holds messages only; continuation chunks are "OCHK" + messages + checksum.
        let q = i === 0 ? 0 : 4;
        if (i > 0 && !startsWith(bytes, 'OCHK')) throw malformed(this.name, 'continuation chunk without OCHK signature', c.address);
        const end = i === 0 ? bytes.length : bytes.length - 4;
        while (q + 4 + (tracked ? 2 : 0) <= end) {
          const type = bytes[q]!;
          const size = bytes[q + 1]! | (bytes[q + 2]! << 8);
          const mflags = bytes[q + 3]!;
          q += 4 + (tracked ? 2 : 0);
          if (q + size > end) break; // the gap at the end of a chunk
          const data = bytes.subarray(q, q + size);
          q += size;
          if (type === 0x10) chunks.push(continuation(data, so, sl, this.name));
          else if (type !== 0) messages.push({ type, flags: mflags, data });
          if (messages.length >= HDF5_LIMITS.messages) {
            truncated = true;
            break;
          }
        }
      }
    } else {
      version = 1;
      if (prefix.length < 16 || prefix[0] !== 1) throw malformed(this.name, `object header version ${prefix[0]} (expected 1 or "OHDR")`, address);
      const dv = view(prefix);
      const count = dv.getUint16(2, true);
      const size = dv.getUint32(8, true);
      // The prefix is 12 bytes; messages start at the next 8-byte boundary.
      chunks.push({ address: address + 16, length: size });
      for (let i = 0; i < chunks.length; i++) {
        if (i > HDF5_LIMITS.continuations || messages.length >= Math.min(count, HDF5_LIMITS.messages)) {
          truncated ||= i > HDF5_LIMITS.continuations;
          break;
        }
        const c = chunks[i]!;
        if (c.length > budget) {
          truncated = true;
          break;
        }
        budget -= c.length;
        const bytes = await this.read(c.address, c.length, 'object header chunk');
        const bv = view(bytes);
        let q = 0;
        while (q + 8 <= bytes.length) {
          const type = bv.getUint16(q, true);
          const msize = bv.getUint16(q + 2, true);
          const mflags = bytes[q + 4]!;
          q += 8;
          if (q + msize > bytes.length) throw malformed(this.name, `header message of ${msize} bytes overruns its chunk`, c.address + q);
          const data = bytes.subarray(q, q + msize);
          q += msize;
          if (type === 0x10) chunks.push(continuation(data, so, sl, this.name));
          else if (type !== 0) messages.push({ type, flags: mflags, data });
        }
      }
    }
    return { version, messages, truncated };
  }

  /** The attributes stored in an object's header, and where its dense attributes are (not read here). */
  async attributes(address: number, maxHeaderBytes?: number): Promise<{ attributes: Attribute[]; dense?: DenseAttributes; truncated: boolean }> {
    const oh = await this.objectHeader(address, maxHeaderBytes);
    const attributes: Attribute[] = [];
    let dense: DenseAttributes | undefined;
    for (const m of oh.messages) {
      if (m.type === 0x0c && (m.flags & 0x02) === 0) {
        const a = parseAttribute(m.data, this.superblock);
        if (a) attributes.push(a);
      } else if (m.type === 0x15) {
        dense = parseAttributeInfo(m.data, this.superblock.sizeOfOffsets) ?? dense;
      }
    }
    return { attributes, ...(dense ? { dense } : {}), truncated: oh.truncated };
  }

  /**
   * The value of an attribute: strings (fixed or variable length), integers and floats, scalars or
   * 1-D arrays. Other types read as null. Strings are cut at `maxBytes` each.
   */
  async attributeValue(a: Attribute, maxBytes: number = HDF5_LIMITS.attributeValueBytes): Promise<AttributeValue> {
    const dt = a.datatype;
    const ds = a.dataspace;
    if (!dt || !ds || ds.kind === 'null') return null;
    const count = ds.dims.reduce((x, y) => x * y, 1);
    if (!Number.isSafeInteger(count) || count < 0) return null;
    const scalar = ds.kind === 'scalar';
    const n = Math.min(count, Math.floor(HDF5_LIMITS.attributeValueBytes / Math.max(1, dt.size)));
    const out: (string | number)[] = [];
    for (let i = 0; i < n; i++) {
      const at = i * dt.size;
      if (at + dt.size > a.raw.length) break;
      const el = a.raw.subarray(at, at + dt.size);
      if (dt.class === DatatypeClass.String) out.push(decodeFixedString(el.subarray(0, maxBytes)));
      else if (dt.isVlenString) out.push(await this.vlenString(el, maxBytes));
      else if (dt.class === DatatypeClass.FixedPoint) out.push(decodeInt(el, dt));
      else if (dt.class === DatatypeClass.FloatingPoint && (dt.size === 4 || dt.size === 8)) {
        const v = view(el);
        out.push(dt.size === 4 ? v.getFloat32(0, (dt.bits & 1) === 0) : v.getFloat64(0, (dt.bits & 1) === 0));
      } else return null;
    }
    if (scalar) return out[0] ?? null;
    return out as string[] | number[];
  }

  /** A variable-length string element: u32 length, then a global heap id (collection address, object index). */
  private async vlenString(el: Uint8Array, maxBytes: number): Promise<string> {
    const so = this.superblock.sizeOfOffsets;
    const length = readUint(el, 0, 4);
    const collection = readUint(el, 4, so);
    const index = readUint(el, 4 + so, 4);
    if (length === 0 || collection === UNDEF || collection === 0) return '';
    const data = await this.globalHeapObject(collection, index, Math.min(length, maxBytes));
    return decodeUtf8(data.subarray(0, Math.min(data.length, maxBytes)));
  }

  /** The first `maxBytes` of object `index` of the global heap collection at `address` (spec III.E). */
  async globalHeapObject(address: number, index: number, maxBytes: number): Promise<Uint8Array> {
    const sl = this.superblock.sizeOfLengths;
    const head = await this.read(address, 8 + sl, 'global heap collection header');
    if (!startsWith(head, 'GCOL')) throw malformed(this.name, 'global heap collection without GCOL signature', address);
    const collectionSize = readUint(head, 8, sl);
    if (collectionSize === UNDEF) throw malformed(this.name, 'global heap collection size undefined', address);
    const objHeader = 8 + sl;
    // Walk the object headers through 64 KiB windows, skipping the bodies of other objects.
    let p = objHeader;
    let win: Uint8Array = new Uint8Array(0);
    let winAt = 0;
    for (let i = 0; i < HDF5_LIMITS.globalHeapObjects && p + objHeader <= collectionSize; i++) {
      if (p < winAt || p + objHeader > winAt + win.length) {
        winAt = p;
        win = await this.read(address + p, Math.min(collectionSize - p, 64 * 1024), 'global heap collection');
      }
      const q = p - winAt;
      const idx = readUint(win, q, 2);
      const size = readUint(win, q + 8, sl);
      if (idx === 0) break; // free space: the rest of the collection
      if (size === UNDEF || p + objHeader + size > collectionSize) throw malformed(this.name, 'global heap object overruns its collection', address + p);
      if (idx === index) {
        const n = Math.min(size, maxBytes);
        if (q + objHeader + n <= win.length) return win.slice(q + objHeader, q + objHeader + n);
        return this.read(address + p + objHeader, n, 'global heap object', Math.max(HDF5_LIMITS.attributeValueBytes, maxBytes));
      }
      p += objHeader + pad8(size);
    }
    throw malformed(this.name, `global heap object ${index} not found`, address);
  }
}

function continuation(data: Uint8Array, so: number, sl: number, file: string): { address: number; length: number } {
  if (data.length < so + sl) throw malformed(file, 'continuation message truncated');
  return { address: readUint(data, 0, so), length: readUint(data, so, sl) };
}

/** Attribute message (0x000C), versions 1–3. Undefined when malformed. */
export function parseAttribute(d: Uint8Array, sb: Superblock): Attribute | undefined {
  try {
    const version = d[0];
    if (version !== 1 && version !== 2 && version !== 3) return undefined;
    const flags = d[1]!;
    const nameSize = readUint(d, 2, 2);
    const dtSize = readUint(d, 4, 2);
    const dsSize = readUint(d, 6, 2);
    let p = 8 + (version === 3 ? 1 : 0); // v3: name character set
    const padded = (n: number): number => (version === 1 ? pad8(n) : n);
    if (p + nameSize > d.length) return undefined;
    let nameBytes = d.subarray(p, p + nameSize);
    const nul = nameBytes.indexOf(0);
    if (nul >= 0) nameBytes = nameBytes.subarray(0, nul);
    const name = decodeUtf8(nameBytes);
    p += padded(nameSize);
    const sharedType = version >= 2 && (flags & 1) !== 0;
    const sharedSpace = version >= 2 && (flags & 2) !== 0;
    const datatype = sharedType ? undefined : parseDatatype(d.subarray(p, p + dtSize), 0);
    p += padded(dtSize);
    const dataspace = sharedSpace ? undefined : parseDataspace(d.subarray(p, p + dsSize), sb.sizeOfLengths);
    p += padded(dsSize);
    if (p > d.length) return undefined;
    let raw = d.subarray(p);
    if (datatype && dataspace) {
      const count = dataspace.kind === 'null' ? 0 : dataspace.dims.reduce((x, y) => x * y, 1);
      const need = count * datatype.size;
      if (Number.isSafeInteger(need) && need <= raw.length) raw = raw.subarray(0, need);
    }
    return { name, ...(datatype ? { datatype } : {}), ...(dataspace ? { dataspace } : {}), raw };
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/** Attribute info message (0x0015): where dense attributes live. Undefined when there are none. */
export function parseAttributeInfo(d: Uint8Array, so: number): DenseAttributes | undefined {
  try {
    if (d[0] !== 0) return undefined;
    const flags = d[1]!;
    const p = 2 + (flags & 1 ? 2 : 0);
    const fractalHeapAddress = readUint(d, p, so);
    const nameIndexAddress = readUint(d, p + so, so);
    if (fractalHeapAddress === UNDEF) return undefined;
    return { fractalHeapAddress, nameIndexAddress };
  } catch {
    return undefined;
  }
}

/**
 * Recover attribute messages by name from raw bytes (e.g. a fractal heap direct block of a damaged
 * file whose dense storage cannot be walked): each `name\0` found is tried as
 * the name field of a version 1/2 (8-byte prefix) or version 3 (9-byte prefix) attribute message.
 * A heuristic for identification only; the result is checked by re-parsing the message.
 */
export function scanAttributeMessages(bytes: Uint8Array, names: string[], sb: Superblock): Attribute[] {
  const out: Attribute[] = [];
  const enc = new TextEncoder();
  for (const name of names) {
    const needle = enc.encode(name + '\0');
    for (let i = bytes.indexOf(needle[0]!); i >= 0 && out.length < 1024; i = bytes.indexOf(needle[0]!, i + 1)) {
      if (!startsWith(bytes, needle, i)) continue;
      const found = [9, 8]
        .map((back) => i - back)
        .filter((start) => start >= 0 && (bytes[start] === 3 ? i - start === 9 : (bytes[start] === 1 || bytes[start] === 2) && i - start === 8))
        .filter((start) => readUint(bytes, start + 2, 2) === needle.length)
        .map((start) => parseAttribute(bytes.subarray(start), sb))
        .find((a) => a?.name === name && a.datatype && a.dataspace);
      if (found) {
        out.push(found);
        break;
      }
    }
  }
  return out;
}

function decodeFixedString(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return decodeUtf8(nul >= 0 ? b.subarray(0, nul) : b).replace(/ +$/, '');
}

function decodeInt(el: Uint8Array, dt: Datatype): number {
  const signed = (dt.bits & 0x08) !== 0;
  const bigEndian = (dt.bits & 0x01) !== 0;
  const v = view(el);
  switch (dt.size) {
    case 1:
      return signed ? v.getInt8(0) : v.getUint8(0);
    case 2:
      return signed ? v.getInt16(0, !bigEndian) : v.getUint16(0, !bigEndian);
    case 4:
      return signed ? v.getInt32(0, !bigEndian) : v.getUint32(0, !bigEndian);
    case 8:
      return Number(signed ? v.getBigInt64(0, !bigEndian) : v.getBigUint64(0, !bigEndian));
    default:
      return NaN;
  }
}

/**
 * The root group's attributes with their values (strings cut at `maxValueBytes`): what a detector
 * needs to tell a Keras file from any other HDF5 file. `dense` is set when some attributes live in a
 * fractal heap (read them with hdf5-group.ts objectAttributes).
 */
export async function readRootAttributes(
  file: Hdf5File,
  opts: { maxValueBytes?: number; maxHeaderBytes?: number; values?: (name: string) => boolean } = {},
): Promise<{ names: string[]; values: Record<string, AttributeValue>; dense: boolean; truncated: boolean }> {
  const { attributes, dense, truncated } = await file.attributes(file.superblock.rootObjectHeader, opts.maxHeaderBytes);
  const values: Record<string, AttributeValue> = {};
  for (const a of attributes) {
    if (opts.values && !opts.values(a.name)) continue;
    try {
      values[a.name] = await file.attributeValue(a, opts.maxValueBytes);
    } catch {
      values[a.name] = null;
    }
  }
  return { names: attributes.map((a) => a.name), values, dense: dense !== undefined, truncated };
}
