/**
 * The tensor records of a legacy ggml file, read until the end of the file (none of these formats
 * states a tensor count): i32 n_dims, i32 name length, i32 type, i32 ne[n_dims] (ggml order,
 * innermost first), the name, [padding to 32 bytes in ggjt / ggla], then the data — which is skipped,
 * never read. Every field is checked before use; a damaged record ends the walk with a diagnostic
 * and keeps what was read before it.
 */
import { SequentialReader } from '../../io/reader.js';
import type { ByteSource } from '../../io/source.js';
import type { Diagnostic, TensorInfo } from '../../types.js';
import { alternateLayout, layoutBytes, layoutOf, type Layout } from './layouts.js';

export interface WalkOptions {
  start: number;
  littleEndian: boolean;
  /** Data aligned to this many bytes (32 in ggjt/ggla), or 0. */
  align: number;
  /** Start with the pre-May-2023 block layouts. */
  legacy: boolean;
  /** Map the record's type to a ggml type id (rwkv.cpp has its own numbering). */
  typeMap?: (t: number) => number | undefined;
}

export interface WalkResult {
  tensors: TensorInfo[];
  diagnostics: Diagnostic[];
  /** Tensors stored with an obsolete block layout. */
  legacyTensors: number;
  /** Where the walk stopped (the file size when it ended cleanly). */
  end: number;
}

const MAX_NAME = 64 * 1024;
const MAX_RECORDS = 5_000_000;

/** Whether a plausible record (or the exact end of the file) starts at `pos`. */
export async function plausibleAt(source: ByteSource, pos: number, o: Pick<WalkOptions, 'littleEndian' | 'typeMap'>): Promise<boolean> {
  if (pos === source.size) return true;
  if (pos + 12 > source.size) return false;
  const b = await source.read(pos, Math.min(28, source.size - pos));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const nDims = dv.getInt32(0, o.littleEndian);
  const nameLen = dv.getInt32(4, o.littleEndian);
  const type = dv.getInt32(8, o.littleEndian);
  if (nDims < 1 || nDims > 4 || nameLen < 1 || nameLen > 4096 || 12 + 4 * nDims > b.length) return false;
  const id = o.typeMap ? o.typeMap(type) : type;
  if (id === undefined || (!layoutOf(id, true) && !layoutOf(id, false))) return false;
  for (let i = 0; i < nDims; i++) if (dv.getInt32(12 + 4 * i, o.littleEndian) < 1) return false;
  return true;
}

export async function walkRecords(source: ByteSource, o: WalkOptions): Promise<WalkResult> {
  // Small chunks: after each skipped payload the next header is a new read.
  const r = new SequentialReader(source, o.start, 1024, o.littleEndian);
  const tensors: TensorInfo[] = [];
  const diagnostics: Diagnostic[] = [];
  let legacy = o.legacy;
  let verified = false;
  let legacyTensors = 0;
  const stop = (code: string, message: string) => {
    diagnostics.push({ code, message });
    return { tensors, diagnostics, legacyTensors, end: r.offset };
  };
  while (r.remaining > 0) {
    if (tensors.length >= MAX_RECORDS) return stop('LIMIT_EXCEEDED', `more than ${MAX_RECORDS} tensor records; the rest were not read`);
    const at = r.offset;
    if (r.remaining < 12) return stop('GGML_TRAILING_BYTES', `${r.remaining} bytes after the last tensor record at ${at} (too short for a record)`);
    const nDims = await r.i32('n_dims');
    const nameLen = await r.i32('name length');
    const type = await r.i32('tensor type');
    if (nDims < 0 || nDims > 4) return stop('MALFORMED', `tensor record at byte ${at} has ${nDims} dimensions (expected 1–4); walk stopped`);
    if (nameLen < 0 || nameLen > MAX_NAME) return stop('MALFORMED', `tensor record at byte ${at} has a ${nameLen}-byte name; walk stopped`);
    if (4 * nDims + nameLen > r.remaining) return stop('UNEXPECTED_EOF', `file ends inside the tensor record at byte ${at}`);
    const shape: number[] = [];
    for (let i = 0; i < nDims; i++) shape.push(await r.u32('dimension'));
    const name = await r.string(nameLen, 'tensor name');
    if (shape.some((d) => d > 0x7fffffff)) return stop('MALFORMED', `tensor ${name} at byte ${at} has a negative dimension; walk stopped`);
    if (o.align > 0) {
      const pad = (o.align - (r.offset % o.align)) % o.align;
      if (pad > r.remaining) return stop('UNEXPECTED_EOF', `file ends in the alignment padding of tensor ${name}`);
      r.skip(pad, 'alignment padding');
    }
    const id = o.typeMap ? o.typeMap(type) : type;
    let layout: Layout | undefined = id === undefined ? undefined : layoutOf(id, legacy);
    if (!layout) return stop('GGML_UNKNOWN_TYPE', `tensor ${name} at byte ${at} has type ${type}, which has no known layout${o.typeMap ? ' (rwkv.cpp numbering)' : ''}; its size is unknown, walk stopped`);
    const elements = shape.reduce((a, d) => a * d, 1);
    let bytes = layoutBytes(layout, elements);
    if (bytes === undefined) return stop('GGML_BAD_SHAPE', `tensor ${name}: ${elements} elements is not a whole number of ${layout.name} blocks of ${layout.blockSize}; walk stopped`);
    const dataAt = r.offset;
    // The era is a guess from the header; confirm it on the first tensor whose size depends on it.
    const alt = alternateLayout(id!, legacy);
    if (alt && !verified) {
      const altBytes = layoutBytes(alt, elements);
      if (!(await plausibleAt(source, dataAt + bytes, o)) && altBytes !== undefined && (await plausibleAt(source, dataAt + altBytes, o))) {
        diagnostics.push({ code: 'GGML_LAYOUT_GUESS', message: `tensor ${name} only fits the ${alt.legacy ? 'pre-' : 'post-'}May-2023 ${alt.name} block layout (${alt.typeSize} bytes per ${alt.blockSize}); that layout is assumed for the file` });
        legacy = !legacy;
        layout = alt;
        bytes = altBytes;
      }
      verified = true;
    }
    if (layout.legacy) legacyTensors++;
    if (bytes > r.remaining) {
      tensors.push({ name, dtype: layout.name, shape, byteLength: bytes, offset: dataAt });
      return stop('TENSOR_OUT_OF_BOUNDS', `tensor ${name} needs ${bytes} bytes at ${dataAt}, past the end of the ${source.size}-byte file (truncated download?)`);
    }
    r.skip(bytes, `data of ${name}`);
    tensors.push({ name, dtype: layout.name, shape, byteLength: bytes, offset: dataAt });
  }
  return { tensors, diagnostics, legacyTensors, end: r.offset };
}
