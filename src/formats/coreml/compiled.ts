/**
 * Compiled Core ML models (`.mlmodelc` folders written by Apple's coremlc). `coremldata.bin` has no
 * public schema and is not read; what can be read is `metadata.json` (model type, input/output
 * schemas, op histogram, user metadata) and, for ML programs, `model.mil` — the program as MIL
 * text, whose constants reference `weights/weight.bin` as
 * `val = tensor<fp16, [64, 19, 5]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))`.
 */
import { decodeUtf8 } from '../../io/bytes.js';
import type { GraphIO } from '../../types.js';
import type { BlobConst } from './mil.js';

/** MIL text dtype names → canonical. */
const MIL_TEXT_DTYPES: Record<string, string> = {
  bool: 'bool', string: 'string', fp16: 'f16', fp32: 'f32', fp64: 'f64', bf16: 'bf16', int8: 'i8', int16: 'i16', int32: 'i32',
  int64: 'i64', int4: 'i4', uint8: 'u8', uint16: 'u16', uint32: 'u32', uint64: 'u64', uint4: 'u4', uint2: 'u2', uint1: 'u1',
  uint6: 'u6', uint3: 'u3', fp8e4m3fn: 'f8e4m3fn', fp8e5m2: 'f8e5m2',
};

const SCHEMA_DTYPES: Record<string, string> = { Float16: 'f16', Float32: 'f32', Double: 'f64', Int32: 'i32' };

/** An inputSchema / outputSchema entry of metadata.json, as the oracle reads it. */
export function schemaEntry(s: Record<string, unknown>): GraphIO {
  let shape: GraphIO['shape'] = null;
  if (typeof s.shape === 'string' && s.shape) {
    try {
      const v = JSON.parse(s.shape) as unknown;
      if (Array.isArray(v) && v.every((d) => typeof d === 'number' || typeof d === 'string')) shape = v as (number | string)[];
    } catch {
      shape = null;
    }
  }
  const dt = typeof s.dataType === 'string' ? s.dataType : undefined;
  const dtype = (dt !== undefined ? SCHEMA_DTYPES[dt] : undefined) ?? (dt || (typeof s.type === 'string' ? s.type : null));
  return {
    name: typeof s.name === 'string' ? s.name : '',
    dtype,
    shape,
    ...(typeof s.formattedType === 'string' ? { formattedType: s.formattedType } : {}),
    ...(s.isOptional === '1' ? { optional: true } : {}),
  };
}

export interface MilText {
  ops: Record<string, number>;
  blobs: BlobConst[];
  functions: string[];
  version?: string;
}

const BLOB = /([A-Za-z_]\w*)\s*=\s*tensor<\s*(\w+)\s*,\s*\[([^\]]*)\]\s*>\s*\(\s*BLOBFILE\s*\(\s*path\s*=\s*(?:tensor<\s*string\s*,\s*\[\s*\]\s*>|string)\s*\(\s*"([^"]*)"\s*\)\s*,\s*offset\s*=\s*(?:tensor<\s*uint64\s*,\s*\[\s*\]\s*>|uint64)\s*\(\s*(\d+)\s*\)/g;
const STMT = /([A-Za-z_][\w@]*)\)?\s*=\s*([A-Za-z_][\w.]*)\s*\(/;
const FUNC = /^\s*func\s+([A-Za-z_][\w@]*)/;

/** Op types and blob-file constants of a model.mil text (line by line; statements are one line each). */
export function parseMilText(bytes: Uint8Array): MilText {
  const text = decodeUtf8(bytes);
  const out: MilText = { ops: {}, blobs: [], functions: [] };
  const v = /^\s*program\s*\(\s*([\d.]+)\s*\)/m.exec(text.slice(0, 4096));
  if (v) out.version = v[1];
  for (const line of text.split('\n')) {
    const fn = FUNC.exec(line);
    if (fn) {
      out.functions.push(fn[1]!);
      continue;
    }
    const st = STMT.exec(line);
    if (!st) continue;
    const output = st[1]!;
    const op = st[2]!;
    out.ops[op] = (out.ops[op] ?? 0) + 1;
    if (!line.includes('BLOBFILE')) continue;
    for (const m of line.matchAll(BLOB)) {
      const dims = m[3]!.split(',').map((d) => d.trim()).filter(Boolean).map((d) => (/^\d+$/.test(d) ? Number(d) : 0));
      out.blobs.push({ name: m[1] === 'val' ? output : `${output}.${m[1]}`, op, dtype: MIL_TEXT_DTYPES[m[2]!] ?? m[2]!, shape: dims, fileName: m[4]!, offset: Number(m[5]) });
    }
  }
  return out;
}
