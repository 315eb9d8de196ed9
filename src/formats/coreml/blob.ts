/**
 * MIL weight blobs ("blob storage v2", coremltools mlmodel/src/MILBlob/Blob/StorageFormat.hpp):
 * `weight.bin` starts with a 64-byte storage header { u32 count; u32 version = 2; reserved }, and
 * each constant's BlobFileValue.offset points at a 64-byte metadata record:
 *
 *   u32 sentinel = 0xDEADBEEF; u32 mil_dtype; u64 sizeInBytes; u64 offset (of the data); reserved…
 *
 * Only those 24 bytes are read per constant; the data itself is left alone.
 */
import type { ByteSource } from '../../io/source.js';

export const BLOB_SENTINEL = 0xdeadbeef;

export interface BlobHeader {
  sentinel: boolean;
  milDtype: number;
  sizeInBytes: number | undefined;
  dataOffset: number | undefined;
}

/** The metadata record at `offset`, or undefined when the file is too short for it. */
export async function readBlobHeader(file: ByteSource, offset: number): Promise<BlobHeader | undefined> {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + 24 > file.size) return undefined;
  const b = await file.read(offset, 24);
  if (b.length < 24) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u64 = (at: number) => {
    const hi = dv.getUint32(at + 4, true);
    return hi <= 0x1fffff ? hi * 0x1_0000_0000 + dv.getUint32(at, true) : undefined;
  };
  return { sentinel: dv.getUint32(0, true) === BLOB_SENTINEL, milDtype: dv.getUint32(4, true), sizeInBytes: u64(8), dataOffset: u64(16) };
}

/** The storage header's blob count and version, when the file starts with one. */
export async function readStorageHeader(file: ByteSource): Promise<{ count: number; version: number } | undefined> {
  if (file.size < 64) return undefined;
  const b = await file.read(0, 8);
  if (b.length < 8) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { count: dv.getUint32(0, true), version: dv.getUint32(4, true) };
}
