/**
 * readTensor for NumPy: the array data in C order and little-endian (big-endian data is swapped,
 * Fortran-order data transposed), from an .npy file or an .npz member (deflated members are
 * inflated within the zip limits). Object arrays cannot be converted.
 */
import { ModelwiseError } from '../../errors.js';
import { openZip, openMember } from '../../codecs/zip.js';
import { readExact, type ByteSource } from '../../io/source.js';
import type { TensorInfo } from '../../types.js';
import type { InspectInput } from '../types.js';
import { parseNpy, npyHeaderEnd, MAX_NPY_HEADER } from './npy.js';

async function npyData(source: ByteSource, label: string): Promise<{ data: Uint8Array; itemsize: number; bigEndian: boolean; fortran: boolean; shape: number[] }> {
  let head = await source.read(0, Math.min(source.size, 4096));
  const end = npyHeaderEnd(head);
  if (end !== undefined && end > head.length && end <= MAX_NPY_HEADER + 12) head = await source.read(0, end);
  const h = parseNpy(head, label);
  if (h.dtype.hasObject) throw new ModelwiseError('UNSUPPORTED', `${label}: an object array (a pickle) has no tensor data to convert`);
  const n = h.shape.reduce((a, b) => a * b, 1);
  const data = await readExact(source, h.dataOffset, n * h.dtype.itemsize, `data of ${label}`);
  return { data, itemsize: h.dtype.itemsize, bigEndian: h.dtype.byteOrder === '>', fortran: h.fortranOrder, shape: h.shape };
}

function toCOrderLE(d: { data: Uint8Array; itemsize: number; bigEndian: boolean; fortran: boolean; shape: number[] }): Uint8Array {
  let out = d.data;
  if (d.bigEndian && d.itemsize > 1) {
    out = out.slice();
    for (let i = 0; i < out.length; i += d.itemsize) out.subarray(i, i + d.itemsize).reverse();
  }
  if (d.fortran && d.shape.length > 1) {
    const rank = d.shape.length;
    const n = d.shape.reduce((a, b) => a * b, 1);
    const res = new Uint8Array(out.length);
    const idx = new Array<number>(rank).fill(0);
    for (let c = 0; c < n; c++) {
      // c walks C order; the Fortran offset has the first index fastest.
      let f = 0;
      for (let k = rank - 1; k >= 0; k--) f = f * d.shape[k]! + idx[k]!;
      res.set(out.subarray(f * d.itemsize, (f + 1) * d.itemsize), c * d.itemsize);
      for (let k = rank - 1; k >= 0; k--) {
        if (++idx[k]! < d.shape[k]!) break;
        idx[k] = 0;
      }
    }
    out = res;
  }
  return out;
}

export async function readTensor(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'NumPy tensors need the file');
  const zip = await probe.zip();
  if (!zip) return toCOrderLE(await npyData(probe.source, probe.path));
  const z = await openZip(probe.source);
  const entry = z.entries.find((e) => e.name === `${tensor.name}.npy` || e.name === tensor.name);
  if (!entry) throw new ModelwiseError('UNSUPPORTED', `tensor ${tensor.name} is not a top-level array of the archive`, { file: probe.path });
  const member = await openMember(z, entry, 2 ** 31);
  return toCOrderLE(await npyData(member, `${probe.path} > ${entry.name}`));
}
