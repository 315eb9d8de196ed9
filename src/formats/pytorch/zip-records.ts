/**
 * Reading the records of a PyTorchStreamWriter zip (see ./archive.ts) for inspection: small records
 * whole (pickles, code, version), and where each storage record's bytes start — which needs the
 * member's local header (30 bytes + name + the alignment padding torch writes in the extra field),
 * read for every storage, in small concurrent batches. Storage payloads are never read here; readTensor
 * opens them with openStorageRecord.
 */
import { ModelwiseError } from '../../errors.js';
import { INSPECT_LIMITS, LIMITS } from '../../limits.js';
import { memberDataOffset, openMember, readMemberPrefix, type ZipArchive, type ZipEntry } from '../../codecs/zip.js';
import { SliceSource, type ByteSource } from '../../io/source.js';
import { walkPickle, type PickleResult } from '../../codecs/pickle.js';
import { decodeUtf8 } from '../../io/bytes.js';
import type { Diagnostics, StorageLocation } from './tensor-info.js';

/** Local headers read concurrently (one HTTP round trip each when remote). */
const BATCH = 32;

/** A record's bytes, whole; refused past `max` (INSPECT_LIMITS.pickleBytes by default). */
export async function readRecord(zip: ZipArchive, entry: ZipEntry, max: number = INSPECT_LIMITS.pickleBytes): Promise<Uint8Array> {
  if (entry.uncompressedSize > max) {
    throw new ModelwiseError('LIMIT_EXCEEDED', `record ${entry.name} of ${entry.uncompressedSize} bytes exceeds the ${max}-byte limit`, { file: zip.source.name, offset: entry.localHeaderOffset });
  }
  const src = await openMember(zip, entry, max);
  return src.read(0, src.size);
}

/** The first `max` bytes of a small text record (version, byteorder, code files), as UTF-8. */
export async function readText(zip: ZipArchive, entry: ZipEntry | undefined, max: number): Promise<string | undefined> {
  if (!entry || entry.encrypted) return undefined;
  try {
    return decodeUtf8(await readMemberPrefix(zip, entry, max));
  } catch {
    return undefined;
  }
}

/** Walk a pickle record; errors (bad record, limits) come back as a diagnostic, never thrown. */
export async function walkRecord(zip: ZipArchive, entry: ZipEntry | undefined, label: string, diags: Diagnostics): Promise<PickleResult | undefined> {
  if (!entry) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = await readRecord(zip, entry);
  } catch (e) {
    diags.add(e instanceof ModelwiseError ? e.code : 'MALFORMED', `${label}: ${(e as Error).message}`);
    return undefined;
  }
  const r = walkPickle(bytes);
  if (r.error) diags.add('MALFORMED_PICKLE', `${label}: ${r.error.code} at offset ${r.error.offset}: ${r.error.message}; tensors read before it are kept`);
  return r;
}

/**
 * Where the storages `keys` of record folder `dir` (`data/`, `constants/`) start in the archive.
 * Missing records are left out (the caller reports them); deflated ones get a null offset.
 */
export async function locateStorages(zip: ZipArchive, records: Map<string, ZipEntry>, dir: string, keys: Iterable<string>, diags: Diagnostics, label = ''): Promise<Map<string, StorageLocation>> {
  const out = new Map<string, StorageLocation>();
  const todo: [string, ZipEntry][] = [];
  for (const k of new Set(keys)) {
    const e = records.get(dir + k);
    if (e) todo.push([k, e]);
  }
  for (let i = 0; i < todo.length; i += BATCH) {
    const batch = todo.slice(i, i + BATCH);
    const offsets = await Promise.all(
      batch.map(([k, e]) =>
        memberDataOffset(zip, e).catch((err: unknown) => {
          diags.add('STORAGE_UNREADABLE', `${label}storage record ${dir}${k}: ${(err as Error).message}`);
          return null;
        }),
      ),
    );
    batch.forEach(([k, e], j) => {
      const stored = e.method === 0 && !e.encrypted;
      if (!stored) diags.add('STORAGE_COMPRESSED', `${label}storage record ${dir}${k} is ${e.encrypted ? 'encrypted' : `compressed (method ${e.method})`}: its tensors have no direct offset`);
      out.set(k, { offset: stored ? offsets[j]! : null, size: e.uncompressedSize });
    });
  }
  return out;
}

/**
 * The bytes of a storage record, for readTensor: a slice of the archive when stored (nothing read
 * yet), the inflated member when deflated (within LIMITS.zipInflateMember and the ratio limit).
 * `offset` is where the stored member's data starts, when already known (StorageLocation).
 */
export async function openStorageRecord(zip: ZipArchive, entry: ZipEntry, offset?: number | null): Promise<ByteSource> {
  if (entry.method === 0 && !entry.encrypted) {
    const start = offset ?? (await memberDataOffset(zip, entry));
    return new SliceSource(zip.source, start, Math.min(entry.compressedSize, entry.uncompressedSize), `${zip.source.name} > ${entry.name}`);
  }
  return openMember(zip, entry, LIMITS.zipInflateMember);
}
