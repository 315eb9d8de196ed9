/**
 * One tensor's bytes out of its storage, the way torch's `Tensor.set_(storage, offset, size, stride)`
 * addresses them: row-major and contiguous, little-endian, exactly elements × dtype size. Shared by
 * the PyTorch and TorchScript readTensor. Only the tensor's extent of the storage is read (one slice
 * when the view is contiguous); every offset is checked against the storage's size first.
 */
import { ModelwiseError } from '../../errors.js';
import type { ByteSource } from '../../io/source.js';
import { dtypeBytes, type TensorRef } from './rebuild.js';

/** Extents up to this size (or twice the output) are read in one go, then gathered in memory. */
const WHOLE_EXTENT = 64 * 1024 * 1024;
/** Concurrent reads when a sparse view is gathered block by block. */
const BATCH = 64;

/** Byte-swap unit per dtype (complex numbers swap each component); absent = no swap. */
const SWAP: Record<string, number> = {
  f64: 8, i64: 8, u64: 8, f32: 4, i32: 4, u32: 4, qint32: 4, f16: 2, bf16: 2, i16: 2, u16: 2, c32: 2, c64: 4, c128: 8,
};

/** Swap each `unit`-byte word of `b` in place. */
export function swapWords(b: Uint8Array, unit: number): void {
  for (let i = 0; i + unit <= b.length; i += unit) {
    for (let lo = i, hi = i + unit - 1; lo < hi; lo++, hi--) {
      const x = b[lo]!;
      b[lo] = b[hi]!;
      b[hi] = x;
    }
  }
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i]!;
  }
  return out;
}

const safe = (n: number, what: string, label: string): number => {
  if (!Number.isSafeInteger(n) || n < 0) throw new ModelwiseError('LIMIT_EXCEEDED', `${label}: ${what} (${n}) is out of range`);
  return n;
};

export interface StridedOptions {
  /** The storage holds big-endian data (byteorder record "big"). */
  bigEndian: boolean;
  /** Names the tensor in errors, e.g. `tensor fc.weight (storage data/3)`. */
  label: string;
}

/**
 * Read tensor `t` out of `storage` (a source over exactly the storage's bytes). Offsets and
 * strides count elements of the tensor's dtype (for `_rebuild_tensor_v3` over an untyped storage
 * too); a legacy storage view adds its offset in storage elements.
 */
export async function readStrided(storage: ByteSource, t: TensorRef, opts: StridedOptions): Promise<Uint8Array> {
  const { label } = opts;
  const shape = t.shape;
  const n = shape.reduce((a, b) => safe(a * b, 'element count', label), 1);
  const bytes = dtypeBytes(t.dtype, n);
  const es = dtypeBytes(t.dtype, 1);
  if (bytes === undefined || es === undefined) throw new ModelwiseError('UNSUPPORTED', `${label}: dtype ${t.dtype} cannot be read`);
  const viewBytes = t.storage?.view ? safe(t.storage.view.offset * t.storage.elementSize, 'storage view offset', label) : 0;
  if (n === 0) return new Uint8Array(0);
  const stride = t.stride ?? contiguousStrides(shape);
  if (stride.length !== shape.length) throw new ModelwiseError('MALFORMED', `${label}: ${stride.length} strides for ${shape.length} dimensions`);

  // Sub-byte packed types (quint4x2, quint2x4): only the plain contiguous layout has a meaning.
  if (bytes !== n * es) {
    const plain = t.storageOffset === 0 && shape.every((d, i) => d === 1 || stride[i] === contiguousStrides(shape)[i]);
    if (!plain) throw new ModelwiseError('UNSUPPORTED', `${label}: a strided or offset view of packed ${t.dtype} data cannot be read`);
    return slice(storage, viewBytes, bytes, label);
  }

  const start = safe(viewBytes + safe(t.storageOffset * es, 'storage offset', label), 'storage offset', label);
  let last = 0;
  for (let i = 0; i < shape.length; i++) last = safe(last + safe((shape[i]! - 1) * stride[i]!, 'stride', label), 'extent', label);
  const extent = safe((last + 1) * es, 'extent', label);
  if (start + extent > storage.size) {
    throw new ModelwiseError('MALFORMED', `${label}: needs bytes up to ${start + extent} of its storage, which holds ${storage.size}`, { file: storage.name });
  }

  // Trailing dimensions that are contiguous form one block copied whole.
  const dims: number[] = [];
  const strides: number[] = [];
  shape.forEach((d, i) => {
    if (d !== 1) {
      dims.push(d);
      strides.push(stride[i]!);
    }
  });
  let block = 1;
  let outer = dims.length;
  while (outer > 0 && strides[outer - 1] === block) block *= dims[--outer]!;

  let out: Uint8Array;
  if (outer === 0) out = await slice(storage, start, bytes, label);
  else if (extent <= Math.max(WHOLE_EXTENT, 2 * bytes)) {
    const src = aligned(await slice(storage, start, extent, label));
    out = gather(src, dims, strides, outer, block, es, n);
  } else out = await gatherSparse(storage, start, dims, strides, outer, block, es, n, label);

  const unit = SWAP[t.dtype];
  if (opts.bigEndian && unit) {
    if (outer === 0) out = out.slice();
    swapWords(out, unit);
  }
  return out;
}

async function slice(storage: ByteSource, at: number, length: number, label: string): Promise<Uint8Array> {
  if (at + length > storage.size) throw new ModelwiseError('MALFORMED', `${label}: needs bytes up to ${at + length} of its storage, which holds ${storage.size}`, { file: storage.name });
  const b = await storage.read(at, length);
  if (b.length !== length) throw new ModelwiseError('UNEXPECTED_EOF', `${label}: wanted ${length} bytes at ${at} of its storage, got ${b.length}`, { file: storage.name });
  return b;
}

/** A copy starting on an 8-byte boundary of its own buffer (so word views can index it). */
function aligned(b: Uint8Array): Uint8Array {
  return b.byteOffset % 8 === 0 ? b : b.slice();
}

/**
 * Copy `n` elements into row order. dims/strides are the non-unit dimensions; the last
 * `dims.length - outer` of them are one contiguous block of `block` elements.
 */
function gather(src: Uint8Array, dims: number[], strides: number[], outer: number, block: number, es: number, n: number): Uint8Array {
  const out = new Uint8Array(n * es);
  const idx = new Array<number>(outer).fill(0);
  if (block > 1) {
    const bb = block * es;
    let base = 0;
    for (let o = 0; o < out.length; o += bb) {
      out.set(src.subarray(base * es, base * es + bb), o);
      base = step(idx, dims, strides, outer - 1, base);
    }
    return out;
  }
  // Element by element along the innermost outer dimension, in words of 4, 2 or 1 bytes.
  const W = es % 4 === 0 ? 4 : es % 2 === 0 ? 2 : 1;
  const w = es / W;
  const mk = (b: Uint8Array) => (W === 4 ? new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4) : W === 2 ? new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2) : b);
  const S = mk(src);
  const O = mk(out);
  const inner = outer - 1;
  const len = dims[inner]!;
  const sl = strides[inner]! * w;
  let base = 0;
  let o = 0;
  for (;;) {
    let p = base * w;
    if (w === 1) for (let i = 0; i < len; i++, p += sl) O[o++] = S[p]!;
    else for (let i = 0; i < len; i++, p += sl) for (let k = 0; k < w; k++) O[o++] = S[p + k]!;
    if (o >= O.length) break;
    base = step(idx, dims, strides, inner - 1, base);
  }
  return out;
}

/** Advance the odometer over dimensions 0..top; returns the new element offset. */
function step(idx: number[], dims: number[], strides: number[], top: number, base: number): number {
  for (let d = top; d >= 0; d--) {
    idx[d]!++;
    base += strides[d]!;
    if (idx[d]! < dims[d]!) return base;
    base -= strides[d]! * dims[d]!;
    idx[d] = 0;
  }
  return base;
}

/** A small view spread over a huge storage: read each contiguous block on its own. */
async function gatherSparse(storage: ByteSource, start: number, dims: number[], strides: number[], outer: number, block: number, es: number, n: number, label: string): Promise<Uint8Array> {
  const out = new Uint8Array(n * es);
  const bb = block * es;
  const idx = new Array<number>(outer).fill(0);
  let base = 0;
  let o = 0;
  while (o < out.length) {
    const jobs: Promise<void>[] = [];
    for (let k = 0; k < BATCH && o < out.length; k++, o += bb) {
      const at = o;
      const from = start + base * es;
      jobs.push(slice(storage, from, bb, label).then((b) => out.set(b, at)));
      base = step(idx, dims, strides, outer - 1, base);
    }
    await Promise.all(jobs);
  }
  return out;
}
