/**
 * Checkpoint contents as stored weight tensors: a V2 TensorBundle (`<prefix>.index` table of
 * BundleEntryProto + `<prefix>.data-NNNNN-of-MMMMM` shards; tensorflow/core/util/tensor_bundle/
 * tensor_bundle.cc) and a V1 checkpoint (tables whose "" entry is SavedTensorSlices; used by TF
 * Serving Session Bundles). Only the index tables are read; data shards are sized (listing), never read.
 */
import type { ByteSource } from '../../io/source.js';
import type { Diagnostic, TensorInfo } from '../../types.js';
import type { TreeEntry } from '../../io/tree.js';
import { TF_DTYPE_BYTES, keyText, parseBundleEntry, parseBundleHeader, parseSavedTensorSlices, tfDtype, type BundleHeader } from './bundle.js';
import { readTable } from './sstable.js';
import { elementCount } from '../../inspect/summary.js';
import { isModelwiseError } from '../../errors.js';

export interface BundleRead {
  tensors: TensorInfo[];
  header?: BundleHeader;
  /** Entries of partitioned variables' slices (keys starting with a 0 byte), not listed. */
  sliceEntries: number;
  snappyBlocks: number;
  blocks: number;
  diagnostics: Diagnostic[];
}

const pad5 = (n: number) => String(n).padStart(5, '0');

/** The data shard file of a V2 bundle. */
export function shardName(prefix: string, shard: number, numShards: number): string {
  return `${prefix}.data-${pad5(shard)}-of-${pad5(numShards)}`;
}

/**
 * Read a V2 bundle index. `prefix` is the path (relative to the model folder) of the bundle without
 * `.index`; `files` the folder listing (to check shards), or undefined when it cannot be listed.
 */
export async function readBundle(index: ByteSource, prefix: string, files: TreeEntry[] | undefined): Promise<BundleRead> {
  const out: BundleRead = { tensors: [], sliceEntries: 0, snappyBlocks: 0, blocks: 0, diagnostics: [] };
  const table = await readTable(index);
  out.snappyBlocks = table.snappyBlocks;
  out.blocks = table.blocks;
  if (table.truncated) out.diagnostics.push({ code: 'LIMIT_EXCEEDED', message: `${index.name}: only the first ${table.entries.length} entries were read` });
  const headerEntry = table.entries.find((e) => e.key.length === 0);
  if (headerEntry) out.header = parseBundleHeader(headerEntry.value);
  if (!out.header) out.diagnostics.push({ code: 'TF_BUNDLE_NO_HEADER', message: `${index.name}: no BundleHeaderProto entry (""); assuming 1 little-endian shard` });
  const numShards = out.header?.numShards || 1;
  const shardSize = new Map<number, number | undefined>();
  for (const e of table.entries) {
    if (e.key.length === 0) continue;
    if (e.key[0] === 0) {
      out.sliceEntries++;
      continue;
    }
    const name = keyText(e.key);
    const entry = parseBundleEntry(e.value);
    if (!entry) {
      out.diagnostics.push({ code: 'MALFORMED', message: `${index.name}: entry "${name}" is not a BundleEntryProto` });
      continue;
    }
    const dtype = tfDtype(entry.dtype);
    const file = shardName(prefix, entry.shardId, numShards);
    const t: TensorInfo = { name, dtype, shape: entry.shape, byteLength: entry.slices ? null : entry.size, offset: entry.slices ? null : entry.offset, file };
    if (entry.slices) t.storage = `partitioned:${entry.slices} slices`;
    out.tensors.push(t);
    const per = TF_DTYPE_BYTES[dtype];
    const n = elementCount(entry.shape);
    if (!entry.slices && per !== undefined && n !== undefined && n * per !== entry.size) {
      out.diagnostics.push({ code: 'TENSOR_SIZE_MISMATCH', message: `${name}: ${entry.size} bytes stored, ${dtype} ${JSON.stringify(entry.shape)} needs ${n * per}` });
    }
    if (entry.slices) continue;
    if (entry.shardId >= numShards) out.diagnostics.push({ code: 'SHARD_MISSING', message: `${name}: shard ${entry.shardId} of a ${numShards}-shard bundle` });
    if (files) {
      if (!shardSize.has(entry.shardId)) shardSize.set(entry.shardId, files.find((f) => f.path === file)?.size);
      const size = shardSize.get(entry.shardId);
      if (size !== undefined && entry.offset + entry.size > size) {
        out.diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `${name}: bytes ${entry.offset}..${entry.offset + entry.size} lie past the end of ${file} (${size} bytes)` });
      }
    }
  }
  if (files) {
    for (let s = 0; s < numShards && s < 100_000; s++) {
      const f = shardName(prefix, s, numShards);
      if (!files.some((x) => x.path === f) && out.tensors.some((t) => t.file === f)) out.diagnostics.push({ code: 'SHARD_MISSING', message: `data shard ${f} is missing` });
    }
  }
  return out;
}

/** The tensors a V1 checkpoint's shards list in their SavedTensorSlices metadata. */
export async function readV1Checkpoint(shards: { path: string; source: ByteSource }[]): Promise<{ tensors: TensorInfo[]; diagnostics: Diagnostic[] }> {
  const tensors: TensorInfo[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const s of shards) {
    try {
      const table = await readTable(s.source);
      const meta = table.entries.find((e) => e.key.length === 0);
      const list = meta ? parseSavedTensorSlices(meta.value) : undefined;
      if (!list) {
        diagnostics.push({ code: 'MALFORMED', message: `${s.path}: no SavedTensorSlices metadata entry` });
        continue;
      }
      for (const t of list) tensors.push({ name: t.name, dtype: tfDtype(t.dtype), shape: t.shape, byteLength: null, offset: null, file: s.path, storage: 'v1-checkpoint' });
    } catch (e) {
      if (!isModelwiseError(e)) throw e;
      diagnostics.push({ code: e.code, message: `${s.path}: ${e.message}` });
    }
  }
  return { tensors, diagnostics };
}
