/**
 * A tiny zip writer for tests (APPNOTE.TXT 6.3.10): stored and deflated members, zip64 records,
 * prepended bytes, the encryption flag, Unix modes (symlinks), comments. It writes what real tools
 * write, and lets tests lie in headers (sizes, offsets) to build hostile archives.
 */
import { deflateSync } from 'fflate';
import { crc32 } from '../../src/codecs/crc32.js';

export interface ZipMemberSpec {
  name: string;
  data: Uint8Array | string;
  /** 'store' (0) or 'deflate' (8); default 'store'. A number writes that method id as is. */
  method?: 'store' | 'deflate' | number;
  /** Set general-purpose flag bit 0 (traditional encryption); the data is written as given. */
  encrypted?: boolean;
  /** Unix mode (e.g. 0o100644, 0o120777 for a symlink); the entry is then "made by" Unix. */
  unixMode?: number;
  /** Override the uncompressed size written in the headers (to lie about it). */
  declaredSize?: number;
  /** Extra general-purpose flags. */
  flags?: number;
}

export interface ZipOptions {
  /** Write zip64 end records and zip64 extra fields (sizes and offsets as 0xFFFFFFFF). */
  zip64?: boolean;
  /** Bytes written before the archive; offsets in the archive stay relative to its own start. */
  prefix?: Uint8Array;
  comment?: string;
  /** Bytes written after the members and before the central directory (ignored by readers). */
  gap?: number;
}

export interface BuiltZip {
  bytes: Uint8Array;
  /** Absolute offsets (in `bytes`) of each member's local header and data. */
  members: { name: string; localHeaderOffset: number; dataOffset: number; compressedSize: number }[];
  /** Absolute offsets of the central directory and the end records. */
  centralDirectoryOffset: number;
  eocdOffset: number;
  eocd64Offset?: number;
}

export { crc32 };

/** Little-endian byte builder. */
export class Bytes {
  private parts: number[] = [];
  get length(): number {
    return this.parts.length;
  }
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(Math.floor(v / 0x10000) & 0xffff);
  }
  u64(v: number): this {
    return this.u32(v % 0x1_0000_0000).u32(Math.floor(v / 0x1_0000_0000));
  }
  bytes(b: Uint8Array | string): this {
    const u = typeof b === 'string' ? new TextEncoder().encode(b) : b;
    for (const x of u) this.parts.push(x);
    return this;
  }
  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function buildZip(specs: ZipMemberSpec[], opts: ZipOptions = {}): BuiltZip {
  const enc = new TextEncoder();
  const prefix = opts.prefix ?? new Uint8Array(0);
  const z64 = !!opts.zip64;
  const body: Uint8Array[] = [];
  let pos = 0; // relative to the archive start (after the prefix)
  const central: Uint8Array[] = [];
  const members: BuiltZip['members'] = [];

  for (const s of specs) {
    const raw = typeof s.data === 'string' ? enc.encode(s.data) : s.data;
    const methodId = s.method === 'deflate' ? 8 : s.method === 'store' || s.method === undefined ? 0 : s.method;
    const stored = s.method === 'deflate' ? deflateSync(raw, { level: 9 }) : raw;
    const name = enc.encode(s.name);
    const flags = (s.encrypted ? 1 : 0) | 0x800 | (s.flags ?? 0);
    const crc = crc32(raw);
    const usize = s.declaredSize ?? raw.length;
    const csize = stored.length;
    const localOffset = pos;

    const localExtra = z64 ? new Bytes().u16(1).u16(16).u64(usize).u64(csize).build() : new Uint8Array(0);
    const local = new Bytes()
      .u32(0x04034b50)
      .u16(z64 ? 45 : 20)
      .u16(flags)
      .u16(methodId)
      .u16(0)
      .u16(0x21)
      .u32(crc)
      .u32(z64 ? 0xffffffff : csize)
      .u32(z64 ? 0xffffffff : usize)
      .u16(name.length)
      .u16(localExtra.length)
      .bytes(name)
      .bytes(localExtra)
      .build();
    body.push(local, stored);
    members.push({ name: s.name, localHeaderOffset: prefix.length + localOffset, dataOffset: prefix.length + localOffset + local.length, compressedSize: csize });
    pos += local.length + stored.length;

    const cdExtra = z64 ? new Bytes().u16(1).u16(24).u64(usize).u64(csize).u64(localOffset).build() : new Uint8Array(0);
    const madeBy = s.unixMode !== undefined ? (3 << 8) | 63 : 63;
    central.push(
      new Bytes()
        .u32(0x02014b50)
        .u16(madeBy)
        .u16(z64 ? 45 : 20)
        .u16(flags)
        .u16(methodId)
        .u16(0)
        .u16(0x21)
        .u32(crc)
        .u32(z64 ? 0xffffffff : csize)
        .u32(z64 ? 0xffffffff : usize)
        .u16(name.length)
        .u16(cdExtra.length)
        .u16(0)
        .u16(0)
        .u16(0)
        .u32(s.unixMode !== undefined ? (s.unixMode << 16) >>> 0 : 0)
        .u32(z64 ? 0xffffffff : localOffset)
        .bytes(name)
        .bytes(cdExtra)
        .build(),
    );
  }
  if (opts.gap) {
    body.push(new Uint8Array(opts.gap));
    pos += opts.gap;
  }
  const cd = concat(central);
  const cdOffset = pos;
  const tail: Uint8Array[] = [cd];
  let eocd64Offset: number | undefined;
  let end = cdOffset + cd.length;
  if (z64) {
    eocd64Offset = prefix.length + end;
    tail.push(
      new Bytes()
        .u32(0x06064b50)
        .u64(44)
        .u16(45)
        .u16(45)
        .u32(0)
        .u32(0)
        .u64(specs.length)
        .u64(specs.length)
        .u64(cd.length)
        .u64(cdOffset)
        .build(),
    );
    tail.push(new Bytes().u32(0x07064b50).u32(0).u64(end).u32(1).build());
    end += 56 + 20;
  }
  const comment = enc.encode(opts.comment ?? '');
  const eocdOffset = prefix.length + end;
  tail.push(
    new Bytes()
      .u32(0x06054b50)
      .u16(0)
      .u16(0)
      .u16(z64 ? 0xffff : specs.length)
      .u16(z64 ? 0xffff : specs.length)
      .u32(z64 ? 0xffffffff : cd.length)
      .u32(z64 ? 0xffffffff : cdOffset)
      .u16(comment.length)
      .bytes(comment)
      .build(),
  );
  return {
    bytes: concat([prefix, ...body, ...tail]),
    members,
    centralDirectoryOffset: prefix.length + cdOffset,
    eocdOffset,
    ...(eocd64Offset !== undefined ? { eocd64Offset } : {}),
  };
}
