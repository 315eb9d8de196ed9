/**
 * NumPy inspection: an `.npy` (one array, named after the file stem) or an `.npz` (a zip of `.npy`
 * members, each named by its member name without `.npy`). Only headers are read — stored members
 * through a slice of the archive, deflated ones by inflating just the header prefix. Object arrays
 * (`|O`) are a pickle: it is walked symbolically (./objects.ts) and the ndarrays it holds are
 * reported, as the oracle does; nothing is ever unpickled.
 */
import { memberDataOffset, openMember, readMemberPrefix, type ZipArchive, type ZipEntry } from '../../codecs/zip.js';
import { ModelwiseError } from '../../errors.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { INSPECT_LIMITS } from '../../limits.js';
import type { Diagnostic, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { objectArrays } from './objects.js';
import { MAX_NPY_HEADER, npyHeaderEnd, parseNpy, type NpyHeader } from './npy.js';

const FIRST_READ = 4096;

interface Member {
  name: string;
  header: NpyHeader;
  tensors: TensorInfo[];
}

function elements(shape: number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** Read the header of an .npy stream given a way to read its first bytes. */
async function header(read: (n: number) => Promise<Uint8Array>, file: string, base: number): Promise<NpyHeader> {
  let b = await read(FIRST_READ);
  const end = npyHeaderEnd(b);
  if (end !== undefined && end > b.length && end <= MAX_NPY_HEADER + 12) b = await read(end);
  return parseNpy(b, file, base);
}

/**
 * The tensors of one array: itself, or for an object array the ndarrays its pickle holds.
 * `dataAt` is the absolute offset of the array data (null when compressed); `pickle` loads the data
 * of an object array.
 */
async function arrayTensors(
  name: string,
  h: NpyHeader,
  dataAt: number | null,
  dataBytes: number,
  pickle: () => Promise<Uint8Array>,
  label: string,
  diagnostics: Diagnostic[],
): Promise<TensorInfo[]> {
  if (h.dtype.byteOrder === '>') diagnostics.push({ code: 'NPY_BIG_ENDIAN', message: `${label}: big-endian data (${JSON.stringify(h.descr)})` });
  if (!h.dtype.hasObject) {
    const byteLength = elements(h.shape) * h.dtype.itemsize;
    if (byteLength > dataBytes) diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `${label}: ${h.dtype.name}[${h.shape.join(', ')}] needs ${byteLength} data bytes, ${dataBytes} are stored (truncated?)` });
    else if (byteLength < dataBytes) diagnostics.push({ code: 'NPY_TRAILING_DATA', message: `${label}: ${dataBytes - byteLength} bytes after the array data` });
    return [{ name, dtype: h.dtype.name, shape: [...h.shape], byteLength, offset: dataAt }];
  }
  const self: TensorInfo = { name, dtype: 'object', shape: [...h.shape], byteLength: dataBytes, offset: dataAt };
  if (dataBytes > INSPECT_LIMITS.pickleBytes) {
    diagnostics.push({ code: 'NPY_OBJECT_ARRAY', message: `${label}: object array whose ${dataBytes}-byte pickle exceeds the ${INSPECT_LIMITS.pickleBytes}-byte walk limit; reported as itself` });
    return [self];
  }
  let bytes: Uint8Array;
  try {
    bytes = await pickle();
  } catch (e) {
    diagnostics.push({ code: 'NPY_OBJECT_ARRAY', message: `${label}: object array whose pickle could not be read (${(e as Error).message}); reported as itself` });
    return [self];
  }
  const r = objectArrays(bytes, name, h.shape);
  if (!r.arrays) {
    diagnostics.push({ code: 'NPY_OBJECT_ARRAY', message: `${label}: object array (a pickle, walked without executing it): ${r.reason}; reported as itself${r.imports.length ? `; imports ${r.imports.slice(0, 8).join(', ')}` : ''}` });
    return [self];
  }
  diagnostics.push({ code: 'NPY_OBJECT_ARRAY', message: `${label}: object array (a pickle, walked without executing it) holding ${r.arrays.length} ndarray(s); they are reported by key path` });
  return r.arrays.map((a) => ({
    name: a.name,
    dtype: a.dtype,
    shape: a.shape,
    byteLength: a.byteLength,
    offset: a.dataAt !== undefined && dataAt !== null ? dataAt + a.dataAt : null,
  }));
}

async function inspectNpy(source: ByteSource, name: string): Promise<Inspection> {
  const diagnostics: Diagnostic[] = [];
  const h = await header((n) => source.read(0, Math.min(n, source.size)), source.name, 0);
  const stem = /\.npy$/i.test(name) ? name.slice(0, -4) : name;
  const dataBytes = Math.max(0, source.size - h.dataOffset);
  const tensors = await arrayTensors(stem, h, h.dataOffset, dataBytes, () => readExact(source, h.dataOffset, dataBytes, 'object array pickle'), name, diagnostics);
  return {
    format: { version: `${h.major}.${h.minor}` },
    producer: null,
    architecture: null,
    tensors,
    details: npyDetails(h),
    metadata: {},
    diagnostics,
  };
}

function npyDetails(h: NpyHeader): Record<string, unknown> {
  return {
    formatVersion: `${h.major}.${h.minor}`,
    descr: h.descr instanceof Map ? null : h.descr,
    fortranOrder: h.fortranOrder,
    headerLength: h.headerLength,
    ...(h.dtype.byteOrder === '>' ? { byteOrder: 'big' } : {}),
  };
}

async function npzMember(zip: ZipArchive, e: ZipEntry, diagnostics: Diagnostic[]): Promise<Member | undefined> {
  const label = e.name;
  const name = e.name.endsWith('.npy') ? e.name.slice(0, -4) : e.name;
  const file = `${zip.source.name} > ${e.name}`;
  let h: NpyHeader;
  try {
    h = await header((n) => readMemberPrefix(zip, e, n), file, 0);
  } catch (err) {
    diagnostics.push({ code: 'NPZ_BAD_MEMBER', message: `${label}: ${(err as Error).message}` });
    return undefined;
  }
  const stored = e.method === 0;
  const start = stored ? await memberDataOffset(zip, e) : 0;
  const dataBytes = Math.max(0, e.uncompressedSize - h.dataOffset);
  const pickle = async () => {
    const src = await openMember(zip, e, Math.min(INSPECT_LIMITS.pickleBytes, h.dataOffset + dataBytes));
    return readExact(src, h.dataOffset, dataBytes, 'object array pickle');
  };
  const tensors = await arrayTensors(name, h, stored ? start + h.dataOffset : null, dataBytes, pickle, label, diagnostics);
  return { name, header: h, tensors };
}

async function inspectNpz(input: InspectInput): Promise<Inspection> {
  const probe = input.probe!;
  const zip = await probe.zip();
  if (!zip) throw new ModelwiseError('MALFORMED', 'not a zip archive (no end of central directory)', { file: probe.source.name });
  const diagnostics: Diagnostic[] = [];
  const members: Member[] = [];
  const methods = new Set<string>();
  for (const e of zip.entries) {
    if (e.isDirectory) continue;
    methods.add(e.method === 0 ? 'stored' : e.method === 8 ? 'deflated' : `method ${e.method}`);
    const m = await npzMember(zip, e, diagnostics);
    if (m) members.push(m);
  }
  if (zip.truncated) diagnostics.push({ code: 'ZIP_TRUNCATED', message: 'the central directory lists fewer entries than the archive declares' });
  const versions = [...new Set(members.map((m) => `${m.header.major}.${m.header.minor}`))].sort();
  return {
    ...(versions.length ? { format: { version: versions.join(', ') } } : {}),
    producer: null,
    architecture: null,
    tensors: members.flatMap((m) => m.tensors),
    details: {
      members: members.length,
      compression: [...methods].join(', '),
      arrays: Object.fromEntries(members.slice(0, 10_000).map((m) => [m.name, npyDetails(m.header)])),
    },
    metadata: {},
    diagnostics,
  };
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'NumPy inspection needs the file');
  const head = await probe.head();
  if (npyHeaderEnd(head) !== undefined || input.id.format?.variant === 'npy') return inspectNpy(probe.source, probe.name);
  return inspectNpz(input);
}
