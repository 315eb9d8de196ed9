/**
 * Tensors out of a walked pickle (../../codecs/pickle.ts), the way `torch.load` would rebuild them —
 * but only by *reading* the calls: the tensor-rebuilding globals of torch/_utils.py and
 * torch/_tensor.py are recognised by name, their arguments decoded, and nothing is ever imported or
 * called. Any other call or object is "not a tensor", with the reason.
 *
 * References: torch/_utils.py (`_rebuild_tensor`, `_rebuild_tensor_v2`, `_rebuild_tensor_v3`,
 * `_rebuild_parameter`, `_rebuild_parameter_with_state`, `_rebuild_qtensor`,
 * `_rebuild_meta_tensor_no_storage`), torch/_tensor.py (`_rebuild_from_type_v2`),
 * torch/serialization.py (persistent ids `('storage', storage_type, key, location, numel)`, legacy
 * `(…, view_metadata)`), torch/storage.py (`_pickle_storage_type`, element sizes).
 */
import type { PCall, PGlobal, PValue } from '../../codecs/pickle.js';
import type { TensorQuantization } from '../../types.js';

/** A storage as a persistent id names it. */
export interface StorageRef {
  /** The storage key as stored in the file: `data/<key>` in a zip archive, a key of the legacy storage list. */
  key: string;
  /** The storage class as pickled (`FloatStorage`, `UntypedStorage` …). */
  storageType: string;
  /** Canonical dtype of its elements (`u8` for UntypedStorage). */
  dtype: string;
  /** Bytes per storage element (torch._utils._element_size). */
  elementSize: number;
  /** Device the storage was saved from (`cpu`, `cuda:0`), when stated. */
  location: string | null;
  /** Elements in the storage as the persistent id states it. */
  numel: number | null;
  /** Legacy (< 1.6) storage views: the tensor's storage `key` is `numel` elements at `offset` of this one. */
  view?: { key: string; offset: number; numel: number };
}

/** A tensor rebuilt symbolically: where its data is and how to read it. */
export interface TensorRef {
  kind: 'tensor';
  /** Null for tensors without storage (meta tensors). */
  storage: StorageRef | null;
  dtype: string;
  shape: number[];
  stride: number[] | null;
  /** In elements of the storage. */
  storageOffset: number;
  /** The rebuild function, e.g. `torch._utils._rebuild_tensor_v2`. */
  rebuild: string;
  /** Rebuilt as an `nn.Parameter`. */
  parameter: boolean;
  requiresGrad?: boolean;
  quantization?: TensorQuantization;
  /** `_rebuild_from_type_v2`'s class when not torch.Tensor/Parameter. */
  subclass?: string;
}

/** Anything that is not a tensor, and why (for entry summaries and diagnostics). */
export interface NotTensor {
  kind: 'not-tensor';
  why: string;
}

/** Turns a persistent id into a storage (zip/legacy pickles) or a tensor (legacy tar). */
export type PersistentResolver = (pid: PValue) => StorageRef | TensorRef | undefined;

/** Storage classes → canonical dtype and element size (torch/storage.py, torch._utils._element_size). */
const STORAGES: Record<string, [string, number]> = {
  DoubleStorage: ['f64', 8], FloatStorage: ['f32', 4], HalfStorage: ['f16', 2], BFloat16Storage: ['bf16', 2],
  LongStorage: ['i64', 8], IntStorage: ['i32', 4], ShortStorage: ['i16', 2], CharStorage: ['i8', 1],
  ByteStorage: ['u8', 1], BoolStorage: ['bool', 1], ComplexHalfStorage: ['c32', 4], ComplexFloatStorage: ['c64', 8],
  ComplexDoubleStorage: ['c128', 16], QUInt8Storage: ['quint8', 1], QInt8Storage: ['qint8', 1], QInt32Storage: ['qint32', 4],
  QUInt4x2Storage: ['quint4x2', 1], QUInt2x4Storage: ['quint2x4', 1], UntypedStorage: ['u8', 1],
  Float8_e4m3fnStorage: ['f8e4m3fn', 1], Float8_e5m2Storage: ['f8e5m2', 1], Float8_e4m3fnuzStorage: ['f8e4m3fnuz', 1],
  Float8_e5m2fnuzStorage: ['f8e5m2fnuz', 1], UInt16Storage: ['u16', 2], UInt32Storage: ['u32', 4], UInt64Storage: ['u64', 8],
};

/** `torch.<dtype>` attribute names → canonical dtype and element size. */
const TORCH_DTYPES: Record<string, [string, number]> = {
  float32: ['f32', 4], float: ['f32', 4], float64: ['f64', 8], double: ['f64', 8], float16: ['f16', 2], half: ['f16', 2],
  bfloat16: ['bf16', 2], uint8: ['u8', 1], int8: ['i8', 1], int16: ['i16', 2], short: ['i16', 2], int32: ['i32', 4],
  int: ['i32', 4], int64: ['i64', 8], long: ['i64', 8], bool: ['bool', 1], complex32: ['c32', 4], chalf: ['c32', 4],
  complex64: ['c64', 8], cfloat: ['c64', 8], complex128: ['c128', 16], cdouble: ['c128', 16], quint8: ['quint8', 1],
  qint8: ['qint8', 1], qint32: ['qint32', 4], quint4x2: ['quint4x2', 1], quint2x4: ['quint2x4', 1],
  float8_e4m3fn: ['f8e4m3fn', 1], float8_e5m2: ['f8e5m2', 1], float8_e4m3fnuz: ['f8e4m3fnuz', 1],
  float8_e5m2fnuz: ['f8e5m2fnuz', 1], float8_e8m0fnu: ['f8_e8m0', 1], uint16: ['u16', 2], uint32: ['u32', 4], uint64: ['u64', 8],
};

/** Bytes per element by canonical dtype; sub-byte quantized types count their packing. */
const ELEMENT_BYTES: Record<string, number> = {
  ...Object.fromEntries(Object.values(TORCH_DTYPES)),
  quint4x2: 0.5,
  quint2x4: 0.25,
};

/** Bytes of `elements` elements of `dtype` (rounded up for packed types). */
export function dtypeBytes(dtype: string, elements: number): number | undefined {
  const per = ELEMENT_BYTES[dtype];
  return per === undefined ? undefined : Math.ceil(elements * per);
}

/** A storage class global → [dtype, elementSize]; torch.cuda.* storages of old GPU checkpoints count too. */
export function storageClass(g: PValue | undefined): [string, number, string] | undefined {
  if (!isGlobal(g)) return undefined;
  if (g.module !== 'torch' && g.module !== 'torch.cuda' && g.module !== 'torch.storage') return undefined;
  const s = STORAGES[g.name];
  return s ? [s[0], s[1], g.name] : undefined;
}

/** A `torch.<dtype>` global → [dtype, elementSize]. */
export function torchDtype(g: PValue | undefined): [string, number] | undefined {
  if (!isGlobal(g) || g.module !== 'torch') return undefined;
  return TORCH_DTYPES[g.name];
}

export function isGlobal(v: PValue | undefined): v is PGlobal {
  return !!v && typeof v === 'object' && v.kind === 'global';
}

export function isCall(v: PValue | undefined): v is PCall {
  return !!v && typeof v === 'object' && v.kind === 'call';
}

/** `module.name` of a call's callee, when it is a plain global. */
export function calleeName(c: PCall): string | undefined {
  return isGlobal(c.func) ? `${c.func.module}.${c.func.name}` : undefined;
}

/** The items of a tuple or list (after TorchScript's `build_intlist`-style wrappers). */
export function seq(v: PValue | undefined): PValue[] | undefined {
  const p = plain(v);
  return p && typeof p === 'object' && (p.kind === 'tuple' || p.kind === 'list') ? p.items : undefined;
}

/** TorchScript pickles wrap typed lists: `torch.jit._pickle.build_intlist([…])`, `restore_type_tag(v, t)`. */
export function plain(v: PValue | undefined, depth = 0): PValue | undefined {
  if (!isCall(v) || depth > 8) return v;
  const n = calleeName(v);
  if (n && /^torch\.jit\._pickle\.(build_(int|tensor|double|bool)list|restore_type_tag)$/.test(n)) {
    const a = seq(v.args);
    return a && a.length > 0 ? plain(a[0], depth + 1) : v;
  }
  return v;
}

function int(v: PValue | undefined): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : typeof v === 'boolean' ? Number(v) : undefined;
}

function ints(v: PValue | undefined, max = 64): number[] | undefined {
  const items = seq(v);
  if (!items || items.length > max) return undefined;
  const out: number[] = [];
  for (const x of items) {
    const n = int(x);
    if (n === undefined || n < 0) return undefined;
    out.push(n);
  }
  return out;
}

/** The default persistent-id reader: `('storage', storage_type, key, location, numel[, view_metadata])`. */
export function storageFromPid(pid: PValue): StorageRef | undefined {
  const t = seq(pid);
  if (!t || t.length < 5 || t[0] !== 'storage') return undefined;
  const cls = storageClass(t[1]);
  const key = typeof t[2] === 'string' ? t[2] : typeof t[2] === 'number' ? String(t[2]) : undefined;
  if (!cls || key === undefined) return undefined;
  const numel = int(t[4]) ?? null;
  const ref: StorageRef = { key, storageType: cls[2], dtype: cls[0], elementSize: cls[1], location: typeof t[3] === 'string' ? t[3] : null, numel };
  const view = seq(t[5]);
  if (view && view.length >= 3) {
    const off = int(view[1]);
    const n = int(view[2]);
    if (typeof view[0] === 'string' && off !== undefined && n !== undefined) return { ...ref, view: { key: view[0], offset: off, numel: n } };
  }
  return ref;
}

const REBUILD = 'torch._utils.';

/**
 * Interpret one pickled value as a tensor. Honours only the tensor-rebuilding globals; for anything
 * else (plain data, objects, unknown calls) it answers "not a tensor" and never follows the call.
 */
export function asTensor(v: PValue | undefined, resolve: PersistentResolver = storageFromPid, depth = 0): TensorRef | NotTensor {
  const p = plain(v);
  if (p && typeof p === 'object' && p.kind === 'build') return asTensor(p.obj, resolve, depth + 1);
  if (p && typeof p === 'object' && p.kind === 'persid') {
    const r = resolve(p.pid);
    return r && 'kind' in r ? r : { kind: 'not-tensor', why: r ? 'a bare storage' : 'an unknown persistent id' };
  }
  if (!isCall(p)) return { kind: 'not-tensor', why: 'plain data' };
  if (depth > 8) return { kind: 'not-tensor', why: 'tensor rebuild nested too deep' };
  const name = calleeName(p);
  if (!name) return { kind: 'not-tensor', why: 'a call of a computed value' };
  const a = seq(p.args) ?? [];
  switch (name) {
    case REBUILD + '_rebuild_tensor':
    case REBUILD + '_rebuild_tensor_v2':
    case REBUILD + '_rebuild_tensor_v3':
    case REBUILD + '_rebuild_qtensor': {
      const st = storageOf(a[0], resolve);
      if (!st) return { kind: 'not-tensor', why: `${name} without a readable storage` };
      const offset = int(a[1]);
      const shape = ints(a[2]);
      const stride = ints(a[3]);
      if (offset === undefined || offset < 0 || !shape) return { kind: 'not-tensor', why: `${name} with an unreadable offset or size` };
      let dtype = st.dtype;
      if (name.endsWith('_v3')) dtype = torchDtype(a[6])?.[0] ?? dtype;
      const t: TensorRef = { kind: 'tensor', storage: st, dtype, shape, stride: stride ?? null, storageOffset: offset, rebuild: name, parameter: false };
      const rg = name.endsWith('_rebuild_qtensor') ? a[5] : a[4];
      if (typeof rg === 'boolean') t.requiresGrad = rg;
      if (name.endsWith('_rebuild_qtensor')) t.quantization = qparams(a[4], dtype, resolve);
      return t;
    }
    case REBUILD + '_rebuild_parameter':
    case REBUILD + '_rebuild_parameter_with_state': {
      const inner = asTensor(a[0], resolve, depth + 1);
      if (inner.kind !== 'tensor') return inner;
      return { ...inner, parameter: true, ...(typeof a[1] === 'boolean' ? { requiresGrad: a[1] } : {}) };
    }
    case 'torch._tensor._rebuild_from_type_v2': {
      const inner = isGlobal(a[0]) ? asTensor({ kind: 'call', func: a[0], args: a[2] ?? { kind: 'tuple', items: [] }, op: 'REDUCE', offset: p.offset }, resolve, depth + 1) : undefined;
      if (!inner || inner.kind !== 'tensor') return inner ?? { kind: 'not-tensor', why: '_rebuild_from_type_v2 of a computed function' };
      const cls = isGlobal(a[1]) ? `${a[1].module}.${a[1].name}` : undefined;
      if (cls === 'torch.nn.parameter.Parameter') return { ...inner, parameter: true };
      return cls && cls !== 'torch.Tensor' ? { ...inner, subclass: cls } : inner;
    }
    case REBUILD + '_rebuild_meta_tensor_no_storage': {
      const d = torchDtype(a[0]);
      const shape = ints(a[1]);
      if (!d || !shape) return { kind: 'not-tensor', why: 'meta tensor with an unreadable dtype or size' };
      return { kind: 'tensor', storage: null, dtype: d[0], shape, stride: ints(a[2]) ?? null, storageOffset: 0, rebuild: name, parameter: false };
    }
    default:
      return { kind: 'not-tensor', why: `an object made by ${name}` };
  }
}

function storageOf(v: PValue | undefined, resolve: PersistentResolver): StorageRef | undefined {
  if (!v || typeof v !== 'object' || v.kind !== 'persid') return undefined;
  const r = resolve(v.pid);
  return r && !('kind' in r) ? r : undefined;
}

/** `_rebuild_qtensor`'s quantizer params: `(qscheme, scale, zero_point)` or `(qscheme, scales, zero_points, axis)`. */
function qparams(v: PValue | undefined, dtype: string, resolve: PersistentResolver): TensorQuantization {
  const q = seq(v) ?? [];
  const scheme = isGlobal(q[0]) ? q[0].name : 'unknown';
  const bits = { qint8: 8, quint8: 8, qint32: 32, quint4x2: 4, quint2x4: 2 }[dtype];
  const out: TensorQuantization = { scheme, ...(bits ? { bits } : {}) };
  if (scheme === 'per_tensor_affine' || scheme === 'per_tensor_symmetric') {
    if (typeof q[1] === 'number') out.scale = q[1];
    if (typeof q[2] === 'number') out.zeroPoint = q[2];
  } else if (scheme.startsWith('per_channel')) {
    const axis = int(q[3]);
    if (axis !== undefined) out.axis = axis;
    const s = asTensor(q[1], resolve);
    const z = asTensor(q[2], resolve);
    if (s.kind === 'tensor') out.scales = { dtype: s.dtype, shape: s.shape, storage: s.storage?.key ?? null };
    if (z.kind === 'tensor') out.zeroPoints = { dtype: z.dtype, shape: z.shape, storage: z.storage?.key ?? null };
  }
  return out;
}
