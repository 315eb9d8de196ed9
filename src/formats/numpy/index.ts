/**
 * NumPy arrays: `.npy` (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html)
 * and `.npz` (a zip of `.npy` members, written by `np.savez` / `np.savez_compressed`).
 *
 * `.npy` = "\x93NUMPY", u8 major, u8 minor, header length (u16 LE in 1.0, u32 LE in 2.0/3.0), then a
 * Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with
 * spaces and '\n'. The dict is read with regular expressions, never evaluated.
 */
import { decodeLatin1, decodeUtf8, startsWith, view } from '../../io/bytes.js';
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import type { Detection } from '../../types.js';
import type { ZipEntry } from '../../codecs/zip.js';

const NAME = 'NumPy';
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy refuses headers above 10 000 bytes unless allow_pickle-style overrides; allow more, but stay bounded. */
const MAX_HEADER = 1024 * 1024;

export interface NpyHeader {
  major: number;
  minor: number;
  headerLength: number;
  /** Byte offset of the array data. */
  dataOffset: number;
  /** `descr` as written ('<f4'), or 'structured' for a list of fields. */
  descr?: string;
  /** Canonical dtype (f32, i64, bool …) or a description for other kinds. */
  dtype?: string;
  fortranOrder?: boolean;
  shape?: number[];
  /** Why the header could not be read completely. */
  problem?: string;
}

/** numpy descr ('<f4', '|b1', '>i8', '|O') → canonical dtype name. */
export function npyDtype(descr: string): string {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)(.*)$/.exec(descr);
  if (!m) return descr;
  const [, order, kind, sizeText, rest] = m as unknown as [string, string, string, string, string];
  const size = sizeText ? Number(sizeText) : 0;
  let name: string | undefined;
  if (kind === 'f' && [2, 4, 8].includes(size)) name = `f${size * 8}`;
  else if (kind === 'i' && [1, 2, 4, 8].includes(size)) name = `i${size * 8}`;
  else if (kind === 'u' && [1, 2, 4, 8].includes(size)) name = `u${size * 8}`;
  else if (kind === 'b' && size === 1) name = 'bool';
  else if (kind === 'c' && [8, 16].includes(size)) name = `complex${size * 8}`;
  else if (kind === 'O') name = 'object';
  else if (kind === 'U') name = `str[${size}]`;
  else if (kind === 'S') name = `bytes[${size}]`;
  else if (kind === 'V') name = `void[${size}]`;
  else if (kind === 'M' || kind === 'm') name = `${kind === 'M' ? 'datetime64' : 'timedelta64'}${rest}`;
  if (!name) return descr;
  return order === '>' && size > 1 ? `${name} big-endian` : name;
}

/** Parse the start of an .npy stream; undefined when the magic is absent. */
export function parseNpyHeader(b: Uint8Array): NpyHeader | undefined {
  if (b.length < 8 || !startsWith(b, MAGIC)) return undefined;
  const major = b[6]!;
  const minor = b[7]!;
  const dv = view(b);
  if (major < 1 || major > 3) return { major, minor, headerLength: 0, dataOffset: 0, problem: `unknown format version ${major}.${minor}` };
  const lenSize = major === 1 ? 2 : 4;
  if (b.length < 8 + lenSize) return { major, minor, headerLength: 0, dataOffset: 0, problem: 'header length missing (truncated)' };
  const headerLength = lenSize === 2 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const dataOffset = 8 + lenSize + headerLength;
  const base = { major, minor, headerLength, dataOffset };
  if (headerLength > MAX_HEADER) return { ...base, problem: `header length ${headerLength} is implausible` };
  const raw = b.subarray(8 + lenSize, Math.min(b.length, dataOffset));
  const text = major === 3 ? decodeUtf8(raw) : decodeLatin1(raw);
  const out: NpyHeader = { ...base };
  const simple = /['"]descr['"]\s*:\s*['"]([^'"]{1,64})['"]/.exec(text);
  if (simple) {
    out.descr = simple[1]!;
    out.dtype = npyDtype(simple[1]!);
  } else if (/['"]descr['"]\s*:\s*\[/.test(text)) {
    out.descr = 'structured';
    out.dtype = 'structured';
  }
  const fo = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (fo) out.fortranOrder = fo[1] === 'True';
  const sh = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (sh) {
    const parts = sh[1]!.split(',').map((s) => s.trim().replace(/L$/, '')).filter((s) => s.length > 0);
    if (parts.every((p) => /^\d+$/.test(p))) out.shape = parts.map(Number);
  }
  if (raw.length < headerLength && (!out.descr || !out.shape)) out.problem = 'header truncated';
  else if (!out.descr || out.shape === undefined || out.fortranOrder === undefined) out.problem = 'header dict lacks descr, fortran_order or shape';
  return out;
}

function shapeText(shape: number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

function describe(h: NpyHeader): string {
  const parts: string[] = [];
  if (h.descr) parts.push(`dtype ${h.descr === h.dtype || h.descr === 'structured' ? h.descr : `${h.descr} (${h.dtype})`}`);
  if (h.shape) parts.push(`shape ${shapeText(h.shape)}`);
  if (h.fortranOrder !== undefined) parts.push(h.fortranOrder ? 'Fortran order' : 'C order');
  return parts.join(', ');
}

async function detectNpy(probe: Probe): Promise<Detection | undefined> {
  const head = await probe.head();
  const h = parseNpyHeader(head);
  if (!h) return undefined;
  const version = `${h.major}.${h.minor}`;
  if (h.problem && h.headerLength === 0) {
    return detection('numpy', NAME, 'npy', version, 'low', [`NPY magic, but ${h.problem}`]);
  }
  const evidence = [`NPY magic, format version ${version}; ${describe(h) || 'header not readable'}`];
  if (h.problem) evidence.push(h.problem);
  if (h.dtype === 'object') evidence.push('object dtype: the array data is a Python pickle');
  if (h.dataOffset > probe.size) evidence.push(`truncated: the header ends at byte ${h.dataOffset} but the file has ${probe.size}`);
  return detection('numpy', NAME, 'npy', version, h.problem ? 'medium' : 'high', evidence, {
    details: {
      ...(h.descr ? { descr: h.descr } : {}),
      ...(h.dtype ? { dtype: h.dtype } : {}),
      ...(h.shape ? { shape: shapeText(h.shape) } : {}),
      ...(h.fortranOrder !== undefined ? { fortranOrder: h.fortranOrder } : {}),
    },
  });
}

async function detectNpz(probe: Probe): Promise<Detection | undefined> {
  const zip = await probe.zip();
  if (!zip) return undefined;
  const files = zip.entries.filter((e) => !e.isDirectory);
  if (files.length === 0) return undefined;
  const npys = files.filter((e) => /\.npy$/i.test(e.name));
  if (npys.length === 0) return undefined;
  const all = npys.length === files.length;
  // "Mostly" .npy: allow a few companions (a README, a JSON of metadata), but not another format's layout.
  if (!all && npys.length < files.length * 0.8) return undefined;
  // Check the magic of the first members (inflating only their headers).
  const checked: { entry: ZipEntry; header: NpyHeader }[] = [];
  let unreadable = 0;
  for (const [i, e] of npys.slice(0, 2).entries()) {
    // The second member only when cheap: inflating reads up to 1 MiB of compressed data.
    if (i > 0 && e.method !== 0 && e.compressedSize > 256 * 1024) break;
    const prefix = await probe.zipMemberPrefix(e, 4096);
    if (!prefix) {
      unreadable++;
      continue;
    }
    const h = parseNpyHeader(prefix);
    if (!h) return undefined; // named .npy but not an array: not an npz
    checked.push({ entry: e, header: h });
  }
  const methods = new Set(npys.map((e) => (e.method === 0 ? 'stored' : e.method === 8 ? 'deflated' : `method ${e.method}`)));
  const evidence = [`zip of ${npys.length} .npy array${npys.length === 1 ? '' : 's'} (${[...methods].join(', ')})${all ? '' : `, plus ${files.length - npys.length} other file(s)`}`];
  for (const c of checked) {
    evidence.push(`${c.entry.name.replace(/\.npy$/i, '')}: NPY ${c.header.major}.${c.header.minor}, ${describe(c.header)}`);
  }
  if (checked.some((c) => c.header.dtype === 'object')) evidence.push('object arrays: their data is a Python pickle');
  if (unreadable > 0) evidence.push(`${unreadable} member(s) could not be read (encrypted or unsupported compression)`);
  const first = checked[0]?.header;
  const confidence = checked.length === 0 ? 'medium' : all && !checked.some((c) => c.header.problem) ? 'high' : 'medium';
  return detection('numpy', NAME, 'npz', first ? `${first.major}.${first.minor}` : null, confidence, evidence, {
    details: {
      arrayCount: npys.length,
      compression: [...methods].join(','),
      ...(checked.some((c) => c.header.dtype === 'object') ? { objectArrays: true } : {}),
    },
  });
}

export const numpy: FormatModule = {
  id: 'numpy',
  name: NAME,
  extensions: ['.npy', '.npz'],
  load: async () => ({ ...(await import('./inspect.js')), ...(await import('./tensors.js')) }),
  async detect(probe: Probe) {
    try {
      return (await detectNpy(probe)) ?? (await detectNpz(probe));
    } catch {
      return undefined;
    }
  },
};
