/**
 * From named tensor references (./state-dict.ts) and where their storages sit in the file to the
 * report's TensorInfo: byte lengths, absolute offsets, tied weights, bounds checks. Shared by the
 * PyTorch and TorchScript inspectors.
 */
import type { Diagnostic, TensorInfo } from '../../types.js';
import { dtypeBytes, type StorageRef, type TensorRef } from './rebuild.js';
import type { StateDictEntry } from './state-dict.js';

/** Names listed in one tensor's `tiedWith`, and tie groups listed in details. */
const MAX_TIED = 32;
const MAX_GROUPS = 10_000;

/** Where a storage's bytes are. */
export interface StorageLocation {
  /** Absolute offset of the storage's first byte in `file` (null when compressed or unknown). */
  offset: number | null;
  /** Bytes available for the storage (the zip member's size, the legacy record's size). */
  size: number | null;
  /** The file holding it, when not the entry file (shards). */
  file?: string;
  /** The storage's data is big-endian (legacy files whose writer did not convert; zip byteorder "big"). */
  bigEndian?: boolean;
}

/** Collects diagnostics, keeping a few of each code and counting the rest. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  private readonly counts = new Map<string, number>();
  constructor(private readonly perCode = 8) {}
  add(code: string, message: string): void {
    const n = (this.counts.get(code) ?? 0) + 1;
    this.counts.set(code, n);
    if (n <= this.perCode) this.list.push({ code, message });
  }
  /** The kept diagnostics plus one "… and N more" line per code that overflowed. */
  done(): Diagnostic[] {
    const extra: Diagnostic[] = [];
    for (const [code, n] of this.counts) if (n > this.perCode) extra.push({ code, message: `… and ${n - this.perCode} more ${code} diagnostics` });
    return [...this.list, ...extra];
  }
}

/** Elements of a shape (1 for a scalar). */
export function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Elements of storage a strided tensor reaches: 1 + Σ (size−1)·stride, or 0 when empty. */
function extent(t: TensorRef): number {
  const n = numel(t.shape);
  if (n === 0) return 0;
  if (!t.stride || t.stride.length !== t.shape.length) return n;
  let e = 1;
  for (let i = 0; i < t.shape.length; i++) e += (t.shape[i]! - 1) * t.stride[i]!;
  return e;
}

/** Storage elements before the tensor's first element (legacy views add their offset). */
function firstElement(t: TensorRef): number {
  return (t.storage?.view?.offset ?? 0) + t.storageOffset;
}

/**
 * TensorInfo for every entry. `locate` answers where a storage key's bytes are; storages it does not
 * know get a null offset and a STORAGE_MISSING diagnostic.
 */
export function tensorInfos(entries: StateDictEntry[], locate: (s: StorageRef) => StorageLocation | undefined, diags: Diagnostics, label = ''): TensorInfo[] {
  const out: TensorInfo[] = [];
  const missing = new Set<string>();
  for (const { name, tensor: t } of entries) {
    const n = numel(t.shape);
    const bytes = dtypeBytes(t.dtype, n) ?? null;
    const info: TensorInfo = { name, dtype: t.dtype, shape: [...t.shape], byteLength: bytes, offset: null };
    const st = t.storage;
    if (st) {
      info.storage = st.key;
      const loc = locate(st);
      if (!loc) {
        if (!missing.has(st.key)) diags.add('STORAGE_MISSING', `${label}storage ${st.key} of tensor ${name} is not in the archive`);
        missing.add(st.key);
      } else {
        if (loc.file) info.file = loc.file;
        // Offsets and strides count elements of the tensor's dtype (an untyped storage's bytes for
        // _rebuild_tensor_v3); a legacy view's offset counts elements of its storage.
        const es = dtypeBytes(t.dtype, 1) ?? st.elementSize;
        const first = (st.view?.offset ?? 0) * st.elementSize + t.storageOffset * es;
        if (loc.offset !== null) info.offset = loc.offset + first;
        const need = first + extent(t) * es;
        if (loc.size !== null && extent(t) > 0 && need > loc.size) {
          diags.add('TENSOR_OUT_OF_BOUNDS', `${label}tensor ${name} needs bytes up to ${need} of storage ${st.key}, which holds ${loc.size}`);
        }
      }
    }
    if (t.quantization) info.quantization = t.quantization;
    out.push(info);
  }
  return out;
}

/**
 * Tied weights: names whose tensors are the same data (same storage, element offset, shape and
 * stride — e.g. `lm_head.weight` and `embed_tokens.weight`). They get `tiedWith` and are returned
 * as groups. Different views into one storage (a fused buffer sliced into tensors) are not ties;
 * they are counted as `sharedStorages`.
 */
export function markTies(entries: StateDictEntry[], infos: TensorInfo[]): { groups: string[][]; sharedStorages: number } {
  const byData = new Map<string, number[]>();
  const byStorage = new Map<string, Set<string>>();
  entries.forEach((e, i) => {
    const t = e.tensor;
    if (!t.storage) return;
    const skey = `${infos[i]!.file ?? ''}\u0000${t.storage.key}`;
    const dkey = `${skey}\u0000${firstElement(t)}\u0000${t.shape.join(',')}\u0000${t.stride?.join(',') ?? ''}\u0000${t.dtype}`;
    (byData.get(dkey) ?? byData.set(dkey, []).get(dkey)!).push(i);
    (byStorage.get(skey) ?? byStorage.set(skey, new Set()).get(skey)!).add(dkey);
  });
  const groups: string[][] = [];
  for (const idx of byData.values()) {
    if (idx.length < 2) continue;
    const names = idx.map((i) => infos[i]!.name);
    // Bounded: a name shared hundreds of times lists the first MAX_TIED others.
    for (const i of idx) infos[i]!.tiedWith = names.filter((n) => n !== infos[i]!.name).slice(0, MAX_TIED);
    if (groups.length < MAX_GROUPS) groups.push(names.slice(0, MAX_TIED + 1));
  }
  let sharedStorages = 0;
  for (const views of byStorage.values()) if (views.size > 1) sharedStorages++;
  return { groups, sharedStorages };
}
