/**
 * MXNet NDArray list (`.params`), per apache/mxnet src/ndarray/ndarray.cc (NDArray::Save/Load,
 * LegacyLoad, LegacyTShapeLoad):
 *   u64 0x112, u64 0, u64 count, count × NDArray, u64 name count, names (u64 length + bytes).
 * Each NDArray, by layout:
 *   V2 0xF993FAC9 / V3 0xF993FACA: u32 magic, i32 storage type, [storage shape if sparse],
 *     shape (i32 ndim + i64 dims), [context i32 dev_type + i32 dev_id, i32 type flag,
 *     aux types and shapes if sparse, data, aux data] — nothing after the shape for a none array;
 *   V1 0xF993FAC8: u32 magic, shape (i32 ndim + i64 dims), context, type flag, data;
 *   V0 (MXNet ≤ 0.8, no magic): u32 ndim, u32 dims, context, type flag, data.
 * A none array is ndim 0 (V0–V2, shapes in the legacy non-NumPy semantics) or ndim −1 (V3, where
 * ndim 0 is a scalar). Only headers are read; array data is skipped.
 */
import { ModelwiseError } from '../../errors.js';
import { SequentialReader } from '../../io/reader.js';
import type { ByteSource } from '../../io/source.js';
import { LIMITS } from '../../limits.js';
import type { Diagnostic, TensorInfo } from '../../types.js';

export const LIST_MAGIC = 0x112;
const V1 = 0xf993fac8;
const V2 = 0xf993fac9;
const V3 = 0xf993faca;

/** mshadow type flags → canonical dtype and bytes. */
export const MX_TYPES: Record<number, [string, number]> = {
  0: ['f32', 4], 1: ['f64', 8], 2: ['f16', 2], 3: ['u8', 1], 4: ['i32', 4], 5: ['i8', 1], 6: ['i64', 8], 7: ['bool', 1],
  8: ['i16', 2], 9: ['u16', 2], 10: ['u32', 4], 11: ['u64', 8], 12: ['bf16', 2],
};
const STORAGE: Record<number, string> = { 1: 'row_sparse', 2: 'csr' };
/** Auxiliary arrays per storage type (row_sparse: indices; csr: indptr, indices). */
const AUX: Record<number, number> = { 0: 0, 1: 1, 2: 2 };

export interface ParamsList {
  tensors: TensorInfo[];
  /** Per-array layouts seen (V0 … V3). */
  layouts: Record<string, number>;
  /** Names as stored (empty when the list has none). */
  names: string[];
  arrays: number;
  /** Offset where parsing ended (the file size for a clean file). */
  end: number;
  diagnostics: Diagnostic[];
}

const prod = (a: number[]): number => a.reduce((x, y) => x * y, 1);

async function shape(r: SequentialReader, what: string, legacyNdim?: number): Promise<number[] | null> {
  const at = r.offset;
  const ndim = legacyNdim ?? (await r.i32(`${what} ndim`));
  if (ndim < 0) return null;
  if (ndim > LIMITS.tensorRank) throw new ModelwiseError('MALFORMED', `${what} has ${ndim} dimensions (at most ${LIMITS.tensorRank})`, { file: r.source.name, offset: at });
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) {
    const d = legacyNdim !== undefined ? await r.u32(`${what} dim`) : await r.i64(`${what} dim`);
    if (typeof d !== 'number' || d < 0) throw new ModelwiseError('MALFORMED', `${what} dimension ${d} is not a size`, { file: r.source.name, offset: at });
    dims.push(d);
  }
  return dims;
}

/**
 * Read the list's headers. A damaged array stops the walk: the arrays read so far are returned
 * with a diagnostic (names then unknown). Throws only when the list header itself is wrong.
 */
export async function readParams(source: ByteSource, file?: string): Promise<ParamsList> {
  const r = new SequentialReader(source, 0, 16 * 1024);
  const magic = await r.u64n('list magic');
  const reserved = await r.u64n('reserved');
  if (magic !== LIST_MAGIC || reserved !== 0) throw new ModelwiseError('MALFORMED', `not an MXNet NDArray list (header 0x${magic.toString(16)})`, { file: source.name, offset: 0, expected: 'u64 0x112, u64 0' });
  const count = await r.u64n('array count');
  if (count > source.size / 8) throw new ModelwiseError('MALFORMED', `array count ${count} exceeds what ${source.size} bytes can hold`, { file: source.name, offset: 16 });
  const out: ParamsList = { tensors: [], layouts: {}, names: [], arrays: count, end: 0, diagnostics: [] };
  const pending: { index: number; t: TensorInfo }[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const what = `array ${i}`;
      const m = await r.u32(`${what} magic`);
      const layout = m === V1 ? 'V1' : m === V2 ? 'V2' : m === V3 ? 'V3' : 'V0';
      out.layouts[layout] = (out.layouts[layout] ?? 0) + 1;
      let stype = 0;
      let sshape: number[] | null = null;
      if (layout === 'V2' || layout === 'V3') {
        stype = await r.i32(`${what} storage type`);
        if (!(stype in AUX)) throw new ModelwiseError('MALFORMED', `${what}: storage type ${stype}`, { file: source.name, offset: r.offset - 4 });
        if (AUX[stype]! > 0) sshape = await shape(r, `${what} storage shape`);
      }
      const s = await shape(r, `${what} shape`, layout === 'V0' ? m : undefined);
      if (s === null || (s.length === 0 && layout !== 'V3')) continue; // a none array: nothing follows
      r.skip(8, `${what} context`);
      const flagAt = r.offset;
      const flag = await r.i32(`${what} type flag`);
      const type = MX_TYPES[flag];
      if (!type) throw new ModelwiseError('MALFORMED', `${what}: unknown type flag ${flag}`, { file: source.name, offset: flagAt });
      let auxBytes = 0;
      for (let a = 0; a < (AUX[stype] ?? 0); a++) {
        const at = await r.i32(`${what} aux type`);
        const ash = await shape(r, `${what} aux shape`);
        const aux = MX_TYPES[at];
        if (!aux || !ash) throw new ModelwiseError('MALFORMED', `${what}: aux array of type ${at}`, { file: source.name, offset: r.offset });
        auxBytes += prod(ash) * aux[1];
      }
      const dataAt = r.offset;
      const bytes = prod(sshape ?? s) * type[1];
      r.skip(bytes + auxBytes, `${what} data (${bytes + auxBytes} bytes)`);
      const t: TensorInfo = { name: String(i), dtype: type[0], shape: s, byteLength: stype === 0 ? bytes : null, offset: stype === 0 ? dataAt : null, ...(file ? { file } : {}) };
      if (stype !== 0) t.storage = STORAGE[stype];
      pending.push({ index: i, t });
    }
    const nameCount = await r.u64n('name count');
    if (nameCount > r.remaining / 8 + 1) throw new ModelwiseError('MALFORMED', `name count ${nameCount} exceeds the bytes left`, { file: source.name, offset: r.offset - 8 });
    for (let i = 0; i < nameCount; i++) {
      const len = await r.u64n(`name ${i} length`);
      out.names.push(await r.string(len, `name ${i}`));
    }
    if (nameCount !== 0 && nameCount !== count) out.diagnostics.push({ code: 'MXNET_NAME_COUNT', message: `${nameCount} names for ${count} arrays` });
    if (r.remaining > 0) out.diagnostics.push({ code: 'MXNET_TRAILING_BYTES', message: `${r.remaining} bytes after the names` });
  } catch (e) {
    if (!(e instanceof ModelwiseError)) throw e;
    out.diagnostics.push({ code: e.code === 'UNEXPECTED_EOF' ? 'TRUNCATED' : 'MXNET_ARRAY_UNREADABLE', message: `${e.message}; ${pending.length} array(s) read before it` });
  }
  for (const { index, t } of pending) {
    t.name = out.names[index] ?? String(index);
    out.tensors.push(t);
  }
  out.end = r.offset;
  return out;
}
