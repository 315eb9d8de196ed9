/**
 * A small, safe protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/).
 *
 * No schema, no code generation, no bigint: it walks tags and skips payloads by length, so a
 * detector can check field numbers and wire types, and an inspector can descend into the messages
 * it wants without ever copying tensor payloads. Two faces share one field shape:
 *
 * - sync, over bytes in memory (`readField`, `scanMessage`): the probe head of a file;
 * - async, over a ByteSource (`SourceFieldReader`): messages bigger than memory (a multi-GB ONNX
 *   graph), read through a small window, payloads skipped by offset.
 *
 * Every length is checked against the bytes that exist (or, for a message cut by the probe window,
 * against the size of the file); nesting is bounded by LIMITS.protobufDepth. Nothing here throws on
 * bad input: readers return undefined or `ok: false`.
 */
import { LIMITS } from '../limits.js';
import { tryDecodeUtf8 } from '../io/bytes.js';
import type { ByteSource } from '../io/source.js';

/** Wire types (the low 3 bits of a tag). */
export const WIRE = { varint: 0, i64: 1, len: 2, sgroup: 3, egroup: 4, i32: 5 } as const;
export type WireType = 0 | 1 | 2 | 3 | 4 | 5;

/** Largest field number the encoding allows (2^29 - 1). */
export const MAX_FIELD_NUMBER = 0x1fffffff;

const TWO32 = 0x1_0000_0000;

/** A decoded varint: the exact 64 bits as two uint32 halves, and the value as a number when safe. */
export interface Varint {
  /** Unsigned value; undefined when it exceeds Number.MAX_SAFE_INTEGER. */
  value: number | undefined;
  lo: number;
  hi: number;
  /** Bytes the varint took (1..10). */
  size: number;
}

/**
 * Decode a varint at `pos` (bytes before `end`). Undefined when it is truncated, longer than 10
 * bytes, or has bits past 64.
 */
export function readVarint(buf: Uint8Array, pos: number, end = buf.length): Varint | undefined {
  let lo = 0;
  let hi = 0;
  const stop = Math.min(end, buf.length);
  for (let i = 0; i < 10; i++) {
    if (pos + i >= stop) return undefined;
    const b = buf[pos + i]!;
    const bits = b & 0x7f;
    if (i < 4) lo |= bits << (7 * i);
    else if (i === 4) {
      lo |= (bits & 0x0f) << 28;
      hi |= bits >>> 4;
    } else {
      if (i === 9 && bits > 1) return undefined; // past 64 bits
      hi |= bits << (7 * i - 32);
    }
    if ((b & 0x80) === 0) {
      lo >>>= 0;
      hi >>>= 0;
      return { value: hi <= 0x1fffff ? hi * TWO32 + lo : undefined, lo, hi, size: i + 1 };
    }
  }
  return undefined;
}

/** A 64-bit two's complement value (int64 fields, negative varints) as a number (exact when safe). */
export function int64(lo: number, hi: number): number {
  if (hi & 0x80000000) {
    const nlo = ~lo >>> 0;
    const nhi = ~hi >>> 0;
    return -(nhi * TWO32 + nlo + 1);
  }
  return hi * TWO32 + lo;
}

/** zigzag-decoded sint32/sint64 from a varint's halves (exact when safe). */
export function zigzag(lo: number, hi: number): number {
  const m = (hi >>> 1) * TWO32 + (((lo >>> 1) | ((hi & 1) << 31)) >>> 0);
  return lo & 1 ? -m - 1 : m;
}

/** One field of a message: where its tag, value and end are, and its scalar value when it has one. */
export interface ProtoField {
  /** Field number (1..2^29-1). */
  field: number;
  wire: WireType;
  /** Offset of the tag. */
  tagAt: number;
  /** Offset of the value: the varint, the fixed bytes, the LEN payload (after the length prefix), or the group body. */
  at: number;
  /** Bytes of the value: varint size, 4, 8, the LEN payload length, or the group body. */
  length: number;
  /** Offset just past the field (past the end-group tag for groups). */
  end: number;
  /** varint / fixed32 / fixed64 value, unsigned, when it fits a safe integer. */
  value?: number;
  /** Raw 64-bit halves of a varint or fixed64 (exact, for int64 / sint64 / double). */
  lo?: number;
  hi?: number;
  /** A LEN (or group) value that runs past the bytes at hand but within the declared end (the file). */
  truncated: boolean;
}

export interface FieldOptions {
  /**
   * Where the enclosing message really ends, in the same coordinates as `end`, when the bytes at
   * hand are only a prefix of it (the probe head of a larger file). A LEN field may run past `end`
   * up to here; it is then `truncated`. Default: `end` (the message is all there).
   */
  declaredEnd?: number;
  /** Nesting depth of the enclosing message, for groups (LIMITS.protobufDepth). */
  depth?: number;
  /** Accept wire types 3/4 (proto2 groups). Default false: almost no modern schema uses them. */
  groups?: boolean;
}

/**
 * Read the field at `pos` of a message that ends at `end` (bytes at hand). Undefined when the
 * bytes there are not a valid field: field number 0 or too large, wire type 6/7, a truncated
 * varint, or a length past `declaredEnd`.
 */
export function readField(buf: Uint8Array, pos: number, end: number, opts: FieldOptions = {}): ProtoField | undefined {
  const f = readFieldAt(buf, pos, end, opts);
  return f === CUT ? undefined : f;
}

/** Marker: the field is cut by the end of the bytes at hand (not malformed as far as it goes). */
const CUT = 'cut' as const;

function readFieldAt(buf: Uint8Array, pos: number, end: number, opts: FieldOptions): ProtoField | undefined | typeof CUT {
  const stop = Math.min(end, buf.length);
  const declared = Math.max(opts.declaredEnd ?? end, end);
  const cut = declared > stop; // more of the message exists past the bytes at hand
  const t = readVarint(buf, pos, stop);
  if (!t) return cut && stop - pos < 10 ? CUT : undefined;
  if (t.hi !== 0) return undefined;
  const field = Math.floor(t.lo / 8);
  const wire = (t.lo & 7) as number;
  if (field < 1 || field > MAX_FIELD_NUMBER) return undefined;
  const at = pos + t.size;
  switch (wire) {
    case WIRE.varint: {
      const v = readVarint(buf, at, stop);
      if (!v) return cut && stop - at < 10 ? CUT : undefined;
      return { field, wire, tagAt: pos, at, length: v.size, end: at + v.size, value: v.value, lo: v.lo, hi: v.hi, truncated: false };
    }
    case WIRE.i64: {
      if (at + 8 > stop) return cut ? CUT : undefined;
      const lo = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
      const hi = (buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24)) >>> 0;
      return { field, wire, tagAt: pos, at, length: 8, end: at + 8, value: hi <= 0x1fffff ? hi * TWO32 + lo : undefined, lo, hi, truncated: false };
    }
    case WIRE.i32: {
      if (at + 4 > stop) return cut ? CUT : undefined;
      const v = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
      return { field, wire, tagAt: pos, at, length: 4, end: at + 4, value: v, truncated: false };
    }
    case WIRE.len: {
      const l = readVarint(buf, at, stop);
      if (!l) return cut && stop - at < 10 ? CUT : undefined;
      if (l.value === undefined) return undefined;
      const start = at + l.size;
      const fend = start + l.value;
      if (fend > declared) return undefined;
      return { field, wire, tagAt: pos, at: start, length: l.value, end: fend, truncated: fend > stop };
    }
    case WIRE.sgroup: {
      if (!opts.groups) return undefined;
      const depth = (opts.depth ?? 0) + 1;
      if (depth > LIMITS.protobufDepth) return undefined;
      let p = at;
      for (;;) {
        if (p >= stop) return cut ? CUT : undefined; // groups cut by the window are not followed
        const inner = readField(buf, p, stop, { depth, groups: true });
        if (!inner) {
          // the end-group tag of this group?
          const et = readVarint(buf, p, stop);
          if (et && et.hi === 0 && (et.lo & 7) === WIRE.egroup && Math.floor(et.lo / 8) === field) {
            return { field, wire, tagAt: pos, at, length: p - at, end: p + et.size, truncated: false };
          }
          return undefined;
        }
        p = inner.end;
      }
    }
    default:
      return undefined; // egroup without sgroup, 6, 7
  }
}

/** The fields of one message, or why it is not one. */
export interface ScanResult {
  fields: ProtoField[];
  /** Every byte parsed as fields (up to the bytes at hand; the last field may be truncated). */
  ok: boolean;
  /** The message was read to its declared end (nothing cut by the window). */
  complete: boolean;
  /** Offset of the first bad byte when !ok. */
  errorAt?: number;
}

/**
 * Walk the fields of the message in [start, end) of `buf`. With `declaredEnd` past `end`, the bytes
 * at hand are a prefix: the walk stops at the first field cut by the window (which is fine), and
 * `complete` is false. `maxFields` bounds the walk (the result is then ok but incomplete).
 */
export function scanMessage(
  buf: Uint8Array,
  start = 0,
  end = buf.length,
  opts: FieldOptions & { maxFields?: number } = {},
): ScanResult {
  const fields: ProtoField[] = [];
  const stop = Math.min(end, buf.length);
  const declared = Math.max(opts.declaredEnd ?? end, end);
  const max = opts.maxFields ?? 1_000_000;
  let p = start;
  while (p < stop) {
    if (fields.length >= max) return { fields, ok: true, complete: false };
    const f = readFieldAt(buf, p, stop, { ...opts, declaredEnd: declared });
    if (f === CUT) return { fields, ok: true, complete: false }; // a tag or varint cut by the window
    if (!f) return { fields, ok: false, complete: false, errorAt: p };
    fields.push(f);
    if (f.truncated) return { fields, ok: true, complete: false };
    p = f.end;
  }
  return { fields, ok: true, complete: p === declared };
}

/** The bytes of a LEN field that are at hand (all of them unless truncated). */
export function fieldBytes(buf: Uint8Array, f: ProtoField): Uint8Array {
  return buf.subarray(f.at, Math.min(f.end, buf.length));
}

/** A LEN field as strict UTF-8 text, or undefined when it is not text, is cut, or is longer than `max`. */
export function fieldString(buf: Uint8Array, f: ProtoField, max = 4096): string | undefined {
  if (f.wire !== WIRE.len || f.truncated || f.length > max) return undefined;
  return tryDecodeUtf8(buf.subarray(f.at, f.end));
}

/** True when every byte is printable ASCII or UTF-8 (no control characters but \t \n \r). */
export function isPrintable(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/.test(s);
}

/** Decode packed varints (repeated int32/int64 with [packed=true]); undefined when malformed. */
export function packedVarints(buf: Uint8Array, f: ProtoField, max = 4096): number[] | undefined {
  if (f.wire !== WIRE.len || f.truncated) return undefined;
  const out: number[] = [];
  for (let p = f.at; p < f.end; ) {
    if (out.length >= max) return undefined;
    const v = readVarint(buf, p, f.end);
    if (!v) return undefined;
    out.push(int64(v.lo, v.hi));
    p += v.size;
  }
  return out;
}

/** Read a fixed32 float at `f` (wire type 5). */
export function fieldFloat(buf: Uint8Array, f: ProtoField): number | undefined {
  if (f.wire !== WIRE.i32 || f.at + 4 > buf.length) return undefined;
  return new DataView(buf.buffer, buf.byteOffset + f.at, 4).getFloat32(0, true);
}

/** Read a fixed64 double at `f` (wire type 1). */
export function fieldDouble(buf: Uint8Array, f: ProtoField): number | undefined {
  if (f.wire !== WIRE.i64 || f.at + 8 > buf.length) return undefined;
  return new DataView(buf.buffer, buf.byteOffset + f.at, 8).getFloat64(0, true);
}

/** Group fields by number (first occurrence order kept). */
export function byNumber(fields: ProtoField[]): Map<number, ProtoField[]> {
  const m = new Map<number, ProtoField[]>();
  for (const f of fields) {
    const list = m.get(f.field);
    if (list) list.push(f);
    else m.set(f.field, [f]);
  }
  return m;
}

/** The wire type a schema gives each field, for `matchesSchema`. */
export type FieldSchema = Record<number, WireType | readonly WireType[]>;

/**
 * How well scanned fields fit a schema: fields whose number the schema knows but with another
 * wire type are `wrong`; numbers the schema does not know are `unknown`.
 */
export function schemaFit(fields: ProtoField[], schema: FieldSchema): { known: number; wrong: number; unknown: number; numbers: Set<number> } {
  let known = 0;
  let wrong = 0;
  let unknown = 0;
  const numbers = new Set<number>();
  for (const f of fields) {
    const w = schema[f.field];
    if (w === undefined) unknown++;
    else if (typeof w === 'number' ? w === f.wire : w.includes(f.wire)) {
      known++;
      numbers.add(f.field);
    } else wrong++;
  }
  return { known, wrong, unknown, numbers };
}

/* ------------------------------------------------------------------------------------------------ */

/**
 * Walks messages of a ByteSource through a small window, so a multi-GB message costs a few reads
 * per field visited and never a read of a skipped payload. Offsets are absolute in the source.
 * Reads are bounded by `budget` bytes in all; past it, `exhausted` is set and walks stop early.
 */
export class SourceFieldReader {
  private base = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private window: number;
  /** Bytes read from the source so far. */
  bytesRead = 0;
  /** Reads issued so far. */
  reads = 0;
  /** Set when the read budget ran out (results are partial). */
  exhausted = false;

  /**
   * `minWindow`/`maxWindow`: a read after a jump (a skipped payload) fetches `minWindow` bytes; reads
   * that continue where the last one ended double it up to `maxWindow`, so runs of small fields cost
   * few reads and skipping a tensor costs one small read. `budget`: total bytes this reader may read;
   * `maxReads`: reads it may issue (each jump over a payload is one; over HTTP each may cost a round trip).
   */
  constructor(
    readonly source: ByteSource,
    private readonly opts: { minWindow?: number; maxWindow?: number; budget?: number; maxReads?: number } = {},
  ) {
    this.window = opts.minWindow ?? 4096;
  }

  /** Make [pos, pos+need) available (clipped to `limit`); false when the budget is spent or a read fails. */
  private async ensure(pos: number, need: number, limit: number): Promise<boolean> {
    const want = Math.min(need, limit - pos);
    if (pos >= this.base && pos + want <= this.base + this.buf.length) return true;
    const min = this.opts.minWindow ?? 4096;
    const sequential = pos >= this.base && pos <= this.base + this.buf.length && this.buf.length > 0;
    this.window = sequential ? Math.min(this.window * 2, this.opts.maxWindow ?? 64 * 1024) : min;
    // Read past the current message (the next sibling usually follows), but never past the source.
    const len = Math.min(Math.max(this.window, need), this.source.size - pos);
    if (this.bytesRead + len > (this.opts.budget ?? Infinity) || this.reads >= (this.opts.maxReads ?? Infinity)) {
      this.exhausted = true;
      return false;
    }
    try {
      this.buf = await this.source.read(pos, len);
    } catch {
      return false;
    }
    this.base = pos;
    this.bytesRead += this.buf.length;
    this.reads++;
    return this.buf.length >= want;
  }

  /**
   * Read the field at `pos` of a message ending at `end` (absolute offsets). Only the tag, the
   * length prefix and scalar values are read; a LEN payload is not.
   */
  async field(pos: number, end: number): Promise<ProtoField | undefined> {
    if (pos >= end || end > this.source.size) return undefined;
    if (!(await this.ensure(pos, 21, end))) return undefined;
    const rel = pos - this.base;
    const relEnd = Math.min(this.buf.length, end - this.base);
    const f = readField(this.buf, rel, relEnd, { declaredEnd: end - this.base });
    if (!f) return undefined;
    const shift = this.base;
    return { ...f, tagAt: f.tagAt + shift, at: f.at + shift, end: f.end + shift, truncated: false };
  }

  /**
   * `field` without a read: the field at `pos` when its tag, length and scalar value are already in
   * the window, else undefined (then call `field`). Lets hot loops over small fields skip a promise.
   */
  fieldNow(pos: number, end: number): ProtoField | undefined {
    if (pos < this.base || pos >= end || end > this.source.size) return undefined;
    if (Math.min(pos + 21, end) > this.base + this.buf.length) return undefined;
    const f = readField(this.buf, pos - this.base, Math.min(this.buf.length, end - this.base), { declaredEnd: end - this.base });
    if (!f) return undefined;
    const shift = this.base;
    return { ...f, tagAt: f.tagAt + shift, at: f.at + shift, end: f.end + shift, truncated: false };
  }

  /** `bytes` without a read: the payload when it is already in the window (and at most `max`), else undefined. */
  bytesNow(f: ProtoField, max: number): Uint8Array | undefined {
    if (f.wire !== WIRE.len || f.length > max || f.at < this.base || f.end > this.base + this.buf.length) return undefined;
    return this.buf.subarray(f.at - this.base, f.end - this.base);
  }

  /**
   * Iterate the fields of the message in [start, end). Stops (without error) at the first bad field,
   * when the budget runs out, or after `maxFields`; `ok` in the return value says which.
   */
  async *fields(start: number, end: number, maxFields = 1_000_000): AsyncGenerator<ProtoField, { ok: boolean; complete: boolean }> {
    let p = start;
    let n = 0;
    while (p < end) {
      if (n++ >= maxFields) return { ok: true, complete: false };
      const f = await this.field(p, end);
      if (!f) return { ok: this.exhausted, complete: false };
      yield f;
      p = f.end;
    }
    return { ok: true, complete: p === end };
  }

  /** The payload of a LEN field when it is at most `max` bytes (counted against the budget). */
  async bytes(f: ProtoField, max: number): Promise<Uint8Array | undefined> {
    if (f.wire !== WIRE.len || f.length > max) return undefined;
    if (f.length === 0) return new Uint8Array(0);
    if (!(await this.ensure(f.at, f.length, f.end))) return undefined;
    return this.buf.subarray(f.at - this.base, f.at - this.base + f.length);
  }

  /** A LEN field as strict UTF-8 (at most `max` bytes). */
  async string(f: ProtoField, max = 4096): Promise<string | undefined> {
    const b = await this.bytes(f, max);
    return b ? tryDecodeUtf8(b) : undefined;
  }
}

/* ------------------------------------------------------------------------------------------------ */

/**
 * A minimal encoder: enough to build messages field by field (test fixtures, small writers).
 * `pb.message(7, pb.string(1, 'x'), pb.varint(2, 3))` is field 7 holding { 1: "x", 2: 3 }.
 */
export const pb = {
  /** Varint bytes of a non-negative safe integer (negative numbers as 10-byte two's complement). */
  rawVarint(n: number): Uint8Array {
    const out: number[] = [];
    if (n < 0) {
      // two's complement over 64 bits: ten bytes
      const h = Math.floor(n / TWO32);
      let lo = (n - h * TWO32) >>> 0;
      let hi = h >>> 0;
      for (let i = 0; i < 9; i++) {
        out.push((lo & 0x7f) | 0x80);
        lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
        hi >>>= 7;
      }
      out.push(lo & 1);
      return new Uint8Array(out);
    }
    while (n > 0x7f) {
      out.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return new Uint8Array(out);
  },
  tag(field: number, wire: WireType): Uint8Array {
    return pb.rawVarint(field * 8 + wire);
  },
  concat(...parts: Uint8Array[]): Uint8Array {
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  },
  varint(field: number, n: number): Uint8Array {
    return pb.concat(pb.tag(field, WIRE.varint), pb.rawVarint(n));
  },
  bytes(field: number, data: Uint8Array | string): Uint8Array {
    const b = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return pb.concat(pb.tag(field, WIRE.len), pb.rawVarint(b.length), b);
  },
  string(field: number, s: string): Uint8Array {
    return pb.bytes(field, s);
  },
  message(field: number, ...parts: Uint8Array[]): Uint8Array {
    return pb.bytes(field, pb.concat(...parts));
  },
  fixed32(field: number, n: number): Uint8Array {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n >>> 0, true);
    return pb.concat(pb.tag(field, WIRE.i32), b);
  },
  float(field: number, f: number): Uint8Array {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, f, true);
    return pb.concat(pb.tag(field, WIRE.i32), b);
  },
  fixed64(field: number, lo: number, hi = 0): Uint8Array {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, lo >>> 0, true);
    dv.setUint32(4, hi >>> 0, true);
    return pb.concat(pb.tag(field, WIRE.i64), b);
  },
};

/* ------------------------------------------------------------------------------------------------ */

/** Why a `walkMessage` ended. */
export interface WalkResult {
  /** Every field up to `end` read (or the visitor stopped the walk on purpose). */
  ok: boolean;
  /** Offset where reading failed (a bad field, the budget spent, an I/O error), when !ok. */
  errorAt?: number;
}

/**
 * Visit the fields of the message in [start, end) of a SourceFieldReader's source, one by one,
 * without reading LEN payloads. The visitor returns `false` to stop early (the walk is then ok);
 * `maxFields` bounds the walk (reaching it is not ok). The visitor may read inside a field (nested
 * walks, `reader.bytes`) — the reader re-positions itself.
 */
export async function walkMessage(
  reader: SourceFieldReader,
  start: number,
  end: number,
  visit: (f: ProtoField) => Promise<boolean | void> | boolean | void,
  maxFields = 10_000_000,
): Promise<WalkResult> {
  let p = start;
  let n = 0;
  while (p < end) {
    if (n++ >= maxFields) return { ok: false, errorAt: p };
    const f = await reader.field(p, end);
    if (!f) return { ok: false, errorAt: p };
    if ((await visit(f)) === false) return { ok: true };
    p = f.end;
  }
  return { ok: p === end, ...(p === end ? {} : { errorAt: p }) };
}
