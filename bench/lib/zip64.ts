/**
 * A stored (uncompressed) zip64 archive whose members may be mostly holes, as Python's `zipfile`
 * writes a large member: local header with a zip64 extra field (sizes 0xFFFFFFFF in the fixed
 * part), the data, then the central directory with zip64 extras, the zip64 end record, its locator
 * and the classic end record. A member is `head` bytes followed by `size - head.length` zero bytes
 * (a hole in the sparse file); its CRC-32 covers both (CRC32.extendZeros), so the archive verifies.
 */
import { ByteWriter, CRC32 } from './bytes.js';
import type { Piece } from './sparse.js';

export interface ZipMember {
  name: string;
  /** Written bytes at the start of the member. */
  head: Uint8Array;
  /** Full member size (≥ head.length); the rest is zeros. Default head.length. */
  size?: number;
}

export interface SparseZip {
  size: number;
  pieces: Piece[];
  /** Data offset and size of every member. */
  members: { name: string; offset: number; dataOffset: number; size: number }[];
}

export function storedZip64(members: ZipMember[], dosTime = 0x5a21_6000): SparseZip {
  const enc = new TextEncoder();
  const pieces: Piece[] = [];
  const out: SparseZip['members'] = [];
  const central = new ByteWriter();
  let pos = 0;
  for (const m of members) {
    const size = m.size ?? m.head.length;
    const crc = CRC32.extendZeros(CRC32.crc(m.head), size - m.head.length);
    const name = enc.encode(m.name);
    const local = new ByteWriter()
      .u32(0x04034b50)
      .u16(45)
      .u16(0)
      .u16(0)
      .u32(dosTime)
      .u32(crc)
      .u32(0xffffffff)
      .u32(0xffffffff)
      .u16(name.length)
      .u16(20)
      .bytes(name)
      .u16(0x0001)
      .u16(16)
      .u64(size)
      .u64(size)
      .build();
    pieces.push({ offset: pos, bytes: local });
    if (m.head.length) pieces.push({ offset: pos + local.length, bytes: m.head });
    out.push({ name: m.name, offset: pos, dataOffset: pos + local.length, size });
    central
      .u32(0x02014b50)
      .u16((3 << 8) | 45)
      .u16(45)
      .u16(0)
      .u16(0)
      .u32(dosTime)
      .u32(crc)
      .u32(0xffffffff)
      .u32(0xffffffff)
      .u16(name.length)
      .u16(28)
      .u16(0)
      .u16(0)
      .u16(0)
      .u32((0o100644 << 16) >>> 0)
      .u32(0xffffffff)
      .bytes(name)
      .u16(0x0001)
      .u16(24)
      .u64(size)
      .u64(size)
      .u64(pos);
    pos += local.length + size;
  }
  const cd = central.build();
  const cdOffset = pos;
  const eocd64 = cdOffset + cd.length;
  const tail = new ByteWriter()
    .bytes(cd)
    .u32(0x06064b50)
    .u64(44)
    .u16((3 << 8) | 45)
    .u16(45)
    .u32(0)
    .u32(0)
    .u64(members.length)
    .u64(members.length)
    .u64(cd.length)
    .u64(cdOffset)
    .u32(0x07064b50)
    .u32(0)
    .u64(eocd64)
    .u32(1)
    .u32(0x06054b50)
    .u16(0)
    .u16(0)
    .u16(0xffff)
    .u16(0xffff)
    .u32(0xffffffff)
    .u32(0xffffffff)
    .u16(0)
    .build();
  pieces.push({ offset: cdOffset, bytes: tail });
  return { size: cdOffset + tail.length, pieces, members: out };
}
