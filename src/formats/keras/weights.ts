/**
 * Keras weights in HDF5: every dataset below a group (the whole file for `model.weights.h5` and
 * `save_weights` files, `/model_weights` for a legacy full-model `.h5`), named by its HDF5 path
 * relative to that group, with dtype and shape from the dataset's header — the data is not read.
 * `readWeight` reads one dataset back (contiguous or chunked, little-endian) for `convert`.
 */
import { ModelwiseError } from '../../errors.js';
import { Hdf5File } from '../../codecs/hdf5.js';
import { datasetInfo, filterName, type DatasetInfo } from '../../codecs/hdf5-dataset.js';
import { isDataset, resolvePath, walkObjects } from '../../codecs/hdf5-group.js';
import { readDataset, toLittleEndian } from '../../codecs/hdf5-read.js';
import { DTYPE_BYTES } from '../../dtypes.js';
import type { ByteSource } from '../../io/source.js';
import type { Diagnostic, TensorInfo } from '../../types.js';

export interface H5Weights {
  tensors: TensorInfo[];
  diagnostics: Diagnostic[];
  /** Top-level group → tensor count and parameter count (Keras 3: layers / optimizer / metrics). */
  groups: Record<string, { tensors: number; parameters: number }>;
  /** Storage facts worth a line: layouts and filters seen. */
  storage: Record<string, number>;
}

function byteLength(info: DatasetInfo, n: number): number | null {
  const m = /^bytes(\d+)$|^void(\d+)$/.exec(info.dtype);
  const size = DTYPE_BYTES[info.dtype] ?? (m ? Number(m[1] ?? m[2]) : undefined);
  return size === undefined ? null : n * size;
}

/**
 * List the datasets below `group` ('' = root). `offsetBase` is added to contiguous data addresses
 * (the member's offset when the HDF5 file sits inside a zip), `file` is set on every tensor.
 */
export async function listH5Weights(h5: Hdf5File, group: string, opts: { offsetBase?: number; file?: string } = {}): Promise<H5Weights> {
  const out: H5Weights = { tensors: [], diagnostics: [], groups: {}, storage: {} };
  const start = group ? await resolvePath(h5, h5.superblock.rootObjectHeader, group) : { address: h5.superblock.rootObjectHeader };
  if (!start) {
    out.diagnostics.push({ code: 'KERAS_GROUP_MISSING', message: `the HDF5 file has no /${group} group` });
    return out;
  }
  const stats = await walkObjects(h5, start.address, (o) => {
    if (!isDataset(o.header)) return;
    const info = datasetInfo(h5, o.header);
    const n = info.shape.reduce((a, b) => a * b, 1);
    const layout = info.layout;
    const contiguous = layout?.kind === 'contiguous' && layout.address >= 0;
    const t: TensorInfo = {
      name: o.path,
      dtype: info.dtype,
      shape: info.shared ? null : info.shape,
      byteLength: byteLength(info, n),
      offset: contiguous ? (opts.offsetBase ?? 0) + h5.superblock.base + layout.address : null,
      ...(opts.file ? { file: opts.file } : {}),
    };
    out.tensors.push(t);
    const top = o.path.split(/[/\\]/)[0]!;
    const g = (out.groups[top] ??= { tensors: 0, parameters: 0 });
    g.tensors++;
    g.parameters += n;
    const kind = layout?.kind ?? 'none';
    out.storage[kind] = (out.storage[kind] ?? 0) + 1;
    for (const f of info.filters) out.storage[filterName(f)] = (out.storage[filterName(f)] ?? 0) + 1;
    if (info.shared) out.diagnostics.push({ code: 'HDF5_SHARED_TYPE', message: `${o.path}: shared (committed) datatype or dataspace not followed` });
    if (info.datatype && (info.datatype.bigEndian || info.datatype.vax)) out.storage['big-endian'] = (out.storage['big-endian'] ?? 0) + 1;
  });
  if (stats.softLinks) out.diagnostics.push({ code: 'HDF5_SOFT_LINKS', message: `${stats.softLinks} soft link(s) not followed` });
  if (stats.externalLinks) out.diagnostics.push({ code: 'HDF5_EXTERNAL_LINKS', message: `${stats.externalLinks} external link(s) to other files not followed` });
  return out;
}

/** Open an HDF5 weights source. */
export function openH5(source: ByteSource): Promise<Hdf5File> {
  return Hdf5File.open(source);
}

/** One dataset's elements, little-endian, `elements × dtype size` bytes. */
export async function readWeight(h5: Hdf5File, group: string, tensor: TensorInfo): Promise<Uint8Array> {
  const path = group ? `${group}/${tensor.name}` : tensor.name;
  const found = await resolvePath(h5, h5.superblock.rootObjectHeader, path);
  if (!found || !isDataset(found.header)) throw new ModelwiseError('NOT_FOUND', `no dataset /${path} in the HDF5 file`, { file: h5.name });
  const info = datasetInfo(h5, found.header);
  if (info.dtype === 'object' || info.dtype.startsWith('void') || info.dtype === 'unknown') {
    throw new ModelwiseError('UNSUPPORTED', `dataset /${path} has HDF5 type ${info.dtype}, which has no plain byte form`, { file: h5.name });
  }
  return toLittleEndian(await readDataset(h5, info, `dataset /${path}`), info.datatype);
}
