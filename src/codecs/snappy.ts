/**
 * Raw Snappy decompression (format description:
 * https://github.com/google/snappy/blob/main/format_description.txt), as LevelDB-format tables
 * (TensorFlow checkpoint indexes) use it for their blocks: a varint uncompressed length, then
 * literal and copy elements. Not the framed ("stream") format.
 *
 * Bounded: the stated length is checked against `maxOutput` before anything is allocated, every
 * literal and copy is checked against the input left and the output written, and the output must
 * come out exactly as long as stated. Errors throw ModelwiseError (MALFORMED / LIMIT_EXCEEDED).
 */
import { ModelwiseError } from '../errors.js';

/** The uncompressed length a snappy buffer states (its leading varint), or undefined when cut. */
export function snappyLength(input: Uint8Array): number | undefined {
  let n = 0;
  for (let i = 0; i < 5 && i < input.length; i++) {
    const b = input[i]!;
    n += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return n;
  }
  return undefined;
}

/**
 * Decompress raw snappy `input`. `maxOutput` caps the stated length (default 64 MiB); `what`
 * names the data in error messages.
 */
export function snappyDecompress(input: Uint8Array, opts: { maxOutput?: number; what?: string; file?: string } = {}): Uint8Array {
  const what = opts.what ?? 'snappy data';
  const fail = (msg: string, at: number): never => {
    throw new ModelwiseError('MALFORMED', `${what}: ${msg}`, { file: opts.file, offset: at });
  };
  // Preamble: the uncompressed length as a varint of at most 5 bytes (32 bits).
  let p = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (p >= input.length || shift > 28) fail('bad length preamble', p);
    const b = input[p++]!;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  const max = opts.maxOutput ?? 64 * 1024 * 1024;
  if (length > max) throw new ModelwiseError('LIMIT_EXCEEDED', `${what} states ${length} uncompressed bytes, over the ${max}-byte limit`, { file: opts.file, offset: 0 });
  // Each input byte yields at most 64 output bytes (a 2-byte copy of 64), so a larger stated length is a lie.
  if (length > (input.length - p) * 64 + 64) fail(`states ${length} bytes from ${input.length - p} compressed bytes`, 0);
  const out = new Uint8Array(length);
  let o = 0;
  while (p < input.length) {
    const tag = input[p++]!;
    const kind = tag & 3;
    if (kind === 0) {
      // literal: length-1 in the upper 6 bits, or in 1..4 following bytes when those say 60..63
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (p + extra > input.length) fail('literal length cut', p);
        len = 0;
        for (let i = 0; i < extra; i++) len += input[p + i]! * 2 ** (8 * i);
        p += extra;
      }
      len += 1;
      if (p + len > input.length) fail(`literal of ${len} bytes runs past the input`, p);
      if (o + len > length) fail(`literal of ${len} bytes runs past the stated length ${length}`, p);
      out.set(input.subarray(p, p + len), o);
      p += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (p + 1 > input.length) fail('copy cut', p);
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[p++]!;
    } else if (kind === 2) {
      if (p + 2 > input.length) fail('copy cut', p);
      len = (tag >>> 2) + 1;
      offset = input[p]! | (input[p + 1]! << 8);
      p += 2;
    } else {
      if (p + 4 > input.length) fail('copy cut', p);
      len = (tag >>> 2) + 1;
      offset = (input[p]! | (input[p + 1]! << 8) | (input[p + 2]! << 16) | (input[p + 3]! << 24)) >>> 0;
      p += 4;
    }
    if (offset === 0 || offset > o) fail(`copy offset ${offset} outside the ${o} bytes written`, p);
    if (o + len > length) fail(`copy of ${len} bytes runs past the stated length ${length}`, p);
    // Byte by byte: copies may overlap their own output (run-length style).
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== length) fail(`decompressed ${o} bytes, the preamble states ${length}`, p);
  return out;
}
