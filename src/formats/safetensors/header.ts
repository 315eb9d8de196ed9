/**
 * One safetensors file's header (https://github.com/huggingface/safetensors#format): u64 LE length N
 * (≤ 100 000 000, the reference `MAX_HEADER_SIZE`), N bytes of UTF-8 JSON, then the data. The JSON
 * is parsed once; entries are checked the way the reference `Metadata::validate` does (offsets
 * contiguous from 0, byte length = elements × dtype bits / 8, last end = data size), but a failed
 * check becomes a diagnostic instead of a refusal, so damaged files still get a report.
 */
import { ModelwiseError } from '../../errors.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { isObject } from '../../identify/probe.js';
import type { Diagnostic, TensorInfo } from '../../types.js';
import { SAFETENSORS_DTYPES } from './dtypes.js';

/** The reference reader refuses larger headers (safetensors `MAX_HEADER_SIZE`). */
export const MAX_HEADER = 100_000_000;

export interface SafetensorsHeader {
  headerLength: number;
  /** Absolute offset of the data section (8 + N). */
  dataStart: number;
  tensors: TensorInfo[];
  metadata?: Record<string, unknown>;
  diagnostics: Diagnostic[];
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Read and parse the header of `source`; throws ModelwiseError when there is no usable JSON header. */
export async function readSafetensorsHeader(source: ByteSource, fileLabel?: string): Promise<SafetensorsHeader> {
  const file = source.name;
  if (source.size < 8) throw new ModelwiseError('UNEXPECTED_EOF', `file of ${source.size} bytes has no 8-byte header length`, { file, offset: 0 });
  const lenBytes = await readExact(source, 0, 8, 'header length');
  const n64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) throw new ModelwiseError('LIMIT_EXCEEDED', `header length ${n64} exceeds the spec's ${MAX_HEADER}-byte limit`, { file, offset: 0 });
  const n = Number(n64);
  if (8 + n > source.size) throw new ModelwiseError('UNEXPECTED_EOF', `header of ${n} bytes runs past the end of the ${source.size}-byte file (truncated download?)`, { file, offset: 8 });
  const raw = await readExact(source, 8, n, 'JSON header');
  let json: unknown;
  try {
    json = JSON.parse(fatalUtf8.decode(raw));
  } catch (e) {
    throw new ModelwiseError('MALFORMED', `header is not valid UTF-8 JSON: ${(e as Error).message}`, { file, offset: 8 });
  }
  if (!isObject(json)) throw new ModelwiseError('MALFORMED', 'header JSON is not an object', { file, offset: 8, expected: '{"name": {dtype, shape, data_offsets}, …}' });
  return checkEntries(json, n, source.size, fileLabel ?? file);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Turn header entries into tensors (absolute offsets) and validate them against the file size. */
export function checkEntries(json: Record<string, unknown>, n: number, fileSize: number, label: string): SafetensorsHeader {
  const diagnostics: Diagnostic[] = [];
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const tensors: TensorInfo[] = [];
  const ranges: { name: string; begin: number; end: number }[] = [];
  let metadata: Record<string, unknown> | undefined;
  let bad = 0;
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isObject(v)) diagnostics.push({ code: 'SAFETENSORS_BAD_METADATA', message: `${label}: __metadata__ is not an object` });
      else {
        metadata = v;
        const nonString = Object.keys(v).filter((k) => typeof v[k] !== 'string');
        if (nonString.length) diagnostics.push({ code: 'SAFETENSORS_BAD_METADATA', message: `${label}: __metadata__ values must be strings (the reference reader refuses the file): ${nonString.slice(0, 5).join(', ')}` });
      }
      continue;
    }
    const e = isObject(v) ? v : undefined;
    const offs = e && Array.isArray(e.data_offsets) ? (e.data_offsets as unknown[]) : undefined;
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !e.shape.every(isCount) || !offs || offs.length !== 2 || !isCount(offs[0]) || !isCount(offs[1]) || offs[1] < offs[0]) {
      if (bad++ < 20) diagnostics.push({ code: 'SAFETENSORS_BAD_ENTRY', message: `${label}: entry "${name.slice(0, 200)}" is not {dtype, shape: [n…], data_offsets: [begin ≤ end]}; skipped` });
      continue;
    }
    const [begin, end] = offs as [number, number];
    const shape = e.shape as number[];
    const known = SAFETENSORS_DTYPES[e.dtype];
    if (!known) diagnostics.push({ code: 'SAFETENSORS_UNKNOWN_DTYPE', message: `${label}: tensor ${name} has dtype ${e.dtype}, not in the safetensors spec` });
    const byteLength = end - begin;
    if (known) {
      const bits = shape.reduce((a, d) => a * d, 1) * known[1];
      if (bits % 8 !== 0 || bits / 8 !== byteLength) {
        diagnostics.push({ code: 'TENSOR_SIZE_MISMATCH', message: `${label}: tensor ${name} is ${e.dtype}[${shape.join(', ')}] = ${bits / 8} bytes, but its data_offsets span ${byteLength}` });
      }
    }
    tensors.push({ name, dtype: known ? known[0] : e.dtype.toLowerCase(), shape, byteLength, offset: dataStart + begin });
    ranges.push({ name, begin, end });
  }
  if (bad > 20) diagnostics.push({ code: 'SAFETENSORS_BAD_ENTRY', message: `${label}: ${bad - 20} more malformed entries` });
  // Layout: the reference reader wants the ranges sorted, contiguous from 0, ending at the data size.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let overlaps = 0;
  let gaps = 0;
  for (const r of ranges) {
    if (r.begin < expected && r.end > r.begin) {
      if (overlaps++ < 10) diagnostics.push({ code: 'SAFETENSORS_OVERLAP', message: `${label}: tensor ${r.name} [${r.begin}, ${r.end}) overlaps the previous tensor (ends at ${expected})` });
    } else if (r.begin > expected) {
      if (gaps++ < 10) diagnostics.push({ code: 'SAFETENSORS_OFFSET_GAP', message: `${label}: ${r.begin - expected} unused bytes before tensor ${r.name} (the reference reader requires contiguous data)` });
    }
    expected = Math.max(expected, r.end);
  }
  let outside = 0;
  for (const r of ranges) {
    if (r.end > dataSize && outside++ < 10) {
      diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `${label}: tensor ${r.name} ends at byte ${dataStart + r.end}, past the end of the ${fileSize}-byte file (truncated download?)` });
    }
  }
  if (outside > 10) diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `${label}: ${outside - 10} more tensors lie past the end of the file` });
  if (expected < dataSize) diagnostics.push({ code: 'SAFETENSORS_TRAILING_DATA', message: `${label}: ${dataSize - expected} bytes after the last tensor are not described by the header` });
  tensors.sort((a, b) => (a.offset as number) - (b.offset as number));
  return { headerLength: n, dataStart, tensors, ...(metadata ? { metadata } : {}), diagnostics };
}
