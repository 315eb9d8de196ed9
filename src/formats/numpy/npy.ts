/**
 * The `.npy` header (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * "\x93NUMPY", u8 major, u8 minor, header length (u16 LE in 1.0, u32 LE in 2.0/3.0), then a Python
 * dict literal {'descr', 'fortran_order', 'shape'} (latin-1; UTF-8 in 3.0), parsed by ./pyliteral.ts
 * (never evaluated). Dtype names follow the oracle (numpy's own names mapped to canonical ones:
 * f32, i64, bool, c64, object, `bytes<n>`, `str<n>`, `void<n>`, datetime64[unit] …).
 */
import { ModelwiseError } from '../../errors.js';
import { isTuple, parsePyLiteral, type PyLit } from './pyliteral.js';

export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** numpy itself refuses headers above 10 000 bytes by default; allow more, but stay bounded. */
export const MAX_NPY_HEADER = 1024 * 1024;

/** A numpy dtype, as much as inspection needs. */
export interface NpDtype {
  /** Canonical name (f32, object, void12, str3 …). */
  name: string;
  itemsize: number;
  /** The dtype is, or contains, Python objects (its data is a pickle). */
  hasObject: boolean;
  /** '>' when the data is big-endian. */
  byteOrder?: string;
}

export interface NpyHeader {
  major: number;
  minor: number;
  headerLength: number;
  /** Offset of the array data relative to the start of the .npy stream. */
  dataOffset: number;
  descr: PyLit;
  dtype: NpDtype;
  fortranOrder: boolean;
  shape: number[];
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Canonical name of a numpy kind + item size (bytes; chars for 'U' when `uChars`). */
export function kindName(kind: string, size: number, unit = ''): string {
  switch (kind) {
    case 'f': return size === 2 || size === 4 || size === 8 ? `f${size * 8}` : `float${size * 8}`;
    case 'i': return `i${size * 8}`;
    case 'u': return `u${size * 8}`;
    case 'b': return 'bool';
    case 'c': return size === 8 || size === 16 ? `c${size * 8}` : `complex${size * 8}`;
    case 'O': return 'object';
    case 'S': case 'a': return `bytes${size}`;
    case 'U': return `str${size}`;
    case 'V': return `void${size}`;
    case 'M': return `datetime64${unit}`;
    case 'm': return `timedelta64${unit}`;
    default: return `${kind}${size}`;
  }
}

/** A typestr ('<f4', '|O', '<U10', '<M8[ns]') → dtype. */
export function typestrDtype(s: string): NpDtype | undefined {
  const m = /^([<>|=!]?)([fiubcOSaUVMm?])(\d*)(\[\w+\])?$/.exec(s);
  if (!m) return undefined;
  const [, order, kind, num, unit] = m as unknown as [string, string, string, string, string | undefined];
  const n = num ? Number(num) : kind === 'O' ? 8 : kind === 'b' || kind === '?' ? 1 : 0;
  if (n === 0 && 'fiuc'.includes(kind)) return undefined;
  const k = kind === '?' ? 'b' : kind;
  const itemsize = k === 'U' ? n * 4 : n;
  return { name: kindName(k, n, unit ?? ''), itemsize, hasObject: k === 'O', ...(order === '>' && itemsize > 1 ? { byteOrder: '>' } : {}) };
}

/** A descr (typestr or structured list of (name, type[, shape]) tuples) → dtype. */
export function descrDtype(d: PyLit, depth = 0): NpDtype | undefined {
  if (typeof d === 'string') return typestrDtype(d);
  if (!Array.isArray(d) || depth > 32) return undefined;
  let itemsize = 0;
  let hasObject = false;
  for (const f of d) {
    if (!isTuple(f) || f.tuple.length < 2) return undefined;
    const sub = descrDtype(f.tuple[1]!, depth + 1);
    if (!sub) return undefined;
    let count = 1;
    const shape = f.tuple[2];
    if (shape !== undefined) {
      const dims = typeof shape === 'number' ? [shape] : isTuple(shape) ? shape.tuple : undefined;
      if (!dims || !dims.every((x) => typeof x === 'number' && x >= 0)) return undefined;
      for (const x of dims as number[]) count *= x;
    }
    itemsize += sub.itemsize * count;
    hasObject ||= sub.hasObject;
  }
  return { name: `void${itemsize}`, itemsize, hasObject };
}

function malformed(file: string, offset: number, message: string): never {
  throw new ModelwiseError('MALFORMED', message, { file, offset });
}

/**
 * Parse the header from the first bytes of an .npy stream (`b` must hold the whole header; see
 * `npyHeaderLength`). Throws ModelwiseError naming `file` and the offset (`base` = stream start).
 */
export function parseNpy(b: Uint8Array, file: string, base = 0): NpyHeader {
  if (b.length < 10 || !NPY_MAGIC.every((c, i) => b[i] === c)) malformed(file, base, 'not an .npy stream (no \\x93NUMPY magic)');
  const major = b[6]!;
  const minor = b[7]!;
  if (major < 1 || major > 3) throw new ModelwiseError('UNSUPPORTED', `.npy format version ${major}.${minor}`, { file, offset: base + 6, expected: '1.0, 2.0 or 3.0' });
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const lenSize = major === 1 ? 2 : 4;
  if (b.length < 8 + lenSize) throw new ModelwiseError('UNEXPECTED_EOF', 'file ends inside the .npy header length', { file, offset: base + 8 });
  const headerLength = lenSize === 2 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (headerLength > MAX_NPY_HEADER) throw new ModelwiseError('LIMIT_EXCEEDED', `.npy header of ${headerLength} bytes exceeds the ${MAX_NPY_HEADER}-byte limit`, { file, offset: base + 8 });
  const dataOffset = 8 + lenSize + headerLength;
  if (b.length < dataOffset) throw new ModelwiseError('UNEXPECTED_EOF', `file ends inside the ${headerLength}-byte .npy header`, { file, offset: base + 8 + lenSize });
  const raw = b.subarray(8 + lenSize, dataOffset);
  const text = major >= 3 ? utf8.decode(raw) : latin1.decode(raw);
  let lit: PyLit;
  try {
    lit = parsePyLiteral(text);
  } catch (e) {
    return malformed(file, base + 8 + lenSize, `.npy header is not a Python literal: ${(e as Error).message}`);
  }
  if (!(lit instanceof Map)) return malformed(file, base + 8 + lenSize, '.npy header is not a dict');
  const descr = lit.get('descr');
  const fo = lit.get('fortran_order');
  const shape = lit.get('shape');
  if (descr === undefined || typeof fo !== 'boolean' || !isTuple(shape)) malformed(file, base + 8 + lenSize, ".npy header lacks 'descr', 'fortran_order' or 'shape'");
  const dims = (shape as { tuple: PyLit[] }).tuple;
  if (!dims.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) malformed(file, base + 8 + lenSize, `.npy shape ${text.slice(0, 80)} has a non-integer dimension`);
  if (dims.length > 64) malformed(file, base + 8 + lenSize, `.npy shape has ${dims.length} dimensions`);
  const dtype = descrDtype(descr!);
  if (!dtype) malformed(file, base + 8 + lenSize, `.npy descr ${JSON.stringify(typeof descr === 'string' ? descr : 'structured').slice(0, 80)} is not a numpy dtype`);
  return { major, minor, headerLength, dataOffset, descr: descr!, dtype: dtype!, fortranOrder: fo as boolean, shape: dims as number[] };
}

/** Bytes needed to hold the whole header, from the first 12 bytes (undefined if not .npy). */
export function npyHeaderEnd(b: Uint8Array): number | undefined {
  if (b.length < 12 || !NPY_MAGIC.every((c, i) => b[i] === c)) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return b[6] === 1 ? 10 + dv.getUint16(8, true) : 12 + dv.getUint32(8, true);
}
