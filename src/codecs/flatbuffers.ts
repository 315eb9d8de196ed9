/**
 * A small, bounds-checked FlatBuffers reader over a ByteSource (format: https://flatbuffers.dev/internals/).
 * Generic — no schema knowledge: root table, vtable field lookup, scalars, strings, vectors of
 * scalars / tables / strings, unions (type field + table field) and inline structs.
 *
 * Written by hand rather than with the `flatbuffers` package: that package wants the whole buffer in
 * memory and trusts its offsets, while ExecuTorch and TFLite files inline their weights (GBs) in the
 * same buffer. Here only the pages that hold the tables are read (a small LRU page cache), and every
 * offset, length and vtable is checked against the buffer's bounds before it is used (as the
 * official verifier does: fields are checked against the buffer, not against the vtable's table size,
 * which real writers sometimes understate); a bad one
 * throws a ModelwiseError naming the offset. Offsets to tables, vectors and strings are unsigned and
 * forward, so a reference chain cannot loop; callers bound their loops by the checked vector lengths.
 */
import { ModelwiseError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { ByteSource } from '../io/source.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

export interface FlatBufferOptions {
  /** Where the buffer starts in the source (a flatbuffer embedded in another file). Default 0. */
  base?: number;
  /** Bytes of the buffer (default: to the end of the source). */
  size?: number;
  /** Page size of the read cache. Default 64 KiB. */
  pageSize?: number;
  /** Pages kept in the cache. Default 256 (16 MiB). */
  maxPages?: number;
}

/** Element kinds of scalar vectors. */
export type FbScalar = 'u8' | 'i8' | 'bool' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'u64' | 'i64' | 'f64';
export const SCALAR_SIZE: Record<FbScalar, number> = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8 };

/** A flatbuffer: positions used by the API are relative to `base` (the buffer's own offsets). */
export class FlatBuffer {
  readonly base: number;
  readonly size: number;
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly pages = new Map<number, Promise<Uint8Array>>();
  /** Bytes fetched from the source (for laziness checks). */
  bytesFetched = 0;

  constructor(
    readonly source: ByteSource,
    opts: FlatBufferOptions = {},
  ) {
    this.base = opts.base ?? 0;
    this.size = opts.size ?? Math.max(0, source.size - this.base);
    if (this.base < 0 || this.base + this.size > source.size) {
      throw new ModelwiseError('MALFORMED', `flatbuffer of ${this.size} bytes at ${this.base} runs past the end of the ${source.size}-byte file`, { file: source.name, offset: this.base });
    }
    this.pageSize = opts.pageSize ?? 64 * 1024;
    this.maxPages = opts.maxPages ?? 256;
  }

  fail(at: number, message: string): never {
    throw new ModelwiseError('MALFORMED', message, { file: this.source.name, offset: this.base + at });
  }

  /** Throws unless [at, at+n) lies inside the buffer. */
  check(at: number, n: number, what: string): void {
    if (!Number.isSafeInteger(at) || !Number.isSafeInteger(n) || at < 0 || n < 0 || at + n > this.size) {
      this.fail(at, `${what} (${n} bytes at ${at}) lies outside the ${this.size}-byte flatbuffer`);
    }
  }

  private page(index: number): Promise<Uint8Array> {
    let p = this.pages.get(index);
    if (p) {
      this.pages.delete(index);
      this.pages.set(index, p);
      return p;
    }
    const start = index * this.pageSize;
    const len = Math.min(this.pageSize, this.size - start);
    p = this.source.read(this.base + start, len).then((b) => {
      this.bytesFetched += b.length;
      if (b.length !== len) this.fail(start, `file ends inside the flatbuffer: wanted ${len} bytes, got ${b.length}`);
      return b;
    });
    p.catch(() => this.pages.delete(index));
    this.pages.set(index, p);
    while (this.pages.size > this.maxPages) this.pages.delete(this.pages.keys().next().value as number);
    return p;
  }

  /** `n` bytes at `at` (checked). Large reads bypass the cache. */
  async bytes(at: number, n: number, what = 'data'): Promise<Uint8Array> {
    this.check(at, n, what);
    if (n === 0) return new Uint8Array(0);
    const first = Math.floor(at / this.pageSize);
    const last = Math.floor((at + n - 1) / this.pageSize);
    if (first === last) {
      const p = await this.page(first);
      const off = at - first * this.pageSize;
      return p.subarray(off, off + n);
    }
    if (last - first > 4) {
      const b = await this.source.read(this.base + at, n);
      this.bytesFetched += b.length;
      if (b.length !== n) this.fail(at, `file ends inside ${what}`);
      return b;
    }
    const out = new Uint8Array(n);
    let pos = 0;
    for (let i = first; i <= last; i++) {
      const p = await this.page(i);
      const from = i === first ? at - i * this.pageSize : 0;
      const to = Math.min(p.length, at + n - i * this.pageSize);
      out.set(p.subarray(from, to), pos);
      pos += to - from;
    }
    return out;
  }

  private async dv(at: number, n: number, what: string): Promise<DataView> {
    const b = await this.bytes(at, n, what);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  /** A scalar of `kind` at `at`; 64-bit integers beyond 2^53 come back as decimal strings. */
  async scalar(at: number, kind: FbScalar, what: string = kind): Promise<number | string> {
    const d = await this.dv(at, SCALAR_SIZE[kind], what);
    return readScalar(d, 0, kind);
  }
  async u8(at: number): Promise<number> {
    return (await this.dv(at, 1, 'u8')).getUint8(0);
  }
  async u16(at: number): Promise<number> {
    return (await this.dv(at, 2, 'u16')).getUint16(0, true);
  }
  async u32(at: number): Promise<number> {
    return (await this.dv(at, 4, 'u32')).getUint32(0, true);
  }
  async i32(at: number): Promise<number> {
    return (await this.dv(at, 4, 'i32')).getInt32(0, true);
  }

  /** The 4-character file identifier (bytes 4–8), or '' when the buffer is shorter. */
  async identifier(): Promise<string> {
    if (this.size < 8) return '';
    const b = await this.bytes(4, 4, 'file identifier');
    return String.fromCharCode(...b);
  }

  /** Follow the uoffset stored at `at` (must be non-zero and stay inside the buffer). */
  async deref(at: number, what = 'offset'): Promise<number> {
    const off = await this.u32(at);
    if (off === 0) this.fail(at, `${what} is a zero offset`);
    const target = at + off;
    if (target >= this.size) this.fail(at, `${what} points to ${target}, past the ${this.size}-byte flatbuffer`);
    return target;
  }

  /** The root table. */
  async root(): Promise<FbTable> {
    this.check(0, 8, 'root offset');
    return this.table(await this.deref(0, 'root table offset'));
  }

  /** The table at `pos`, with its vtable checked and loaded. */
  async table(pos: number): Promise<FbTable> {
    this.check(pos, 4, 'table');
    const soff = (await this.dv(pos, 4, 'table vtable offset')).getInt32(0, true);
    const vt = pos - soff;
    this.check(vt, 4, 'vtable');
    const head = await this.dv(vt, 4, 'vtable header');
    const vtLen = head.getUint16(0, true);
    const tblLen = head.getUint16(2, true);
    if (vtLen < 4 || vtLen % 2 !== 0) this.fail(vt, `vtable length ${vtLen} is invalid`);
    if (tblLen < 4) this.fail(vt, `table length ${tblLen} is invalid`);
    this.check(vt, vtLen, 'vtable');
    this.check(pos, tblLen, 'table');
    const raw = await this.dv(vt + 4, vtLen - 4, 'vtable');
    const fields = new Uint16Array((vtLen - 4) / 2);
    for (let i = 0; i < fields.length; i++) {
      const o = raw.getUint16(2 * i, true);
      if (o !== 0 && o < 4) this.fail(vt + 4 + 2 * i, `field ${i} offset ${o} overlaps the table's vtable offset`);
      fields[i] = o;
    }
    return new FbTable(this, pos, fields, tblLen);
  }

  /** The vector whose length prefix is at `pos`, with `elemSize`-byte elements (checked). */
  async vector(pos: number, elemSize: number, what = 'vector'): Promise<FbVector> {
    this.check(pos, 4, `${what} length`);
    const n = await this.u32(pos);
    if (n * elemSize > this.size - pos - 4) this.fail(pos, `${what} of ${n} × ${elemSize} bytes runs past the end of the flatbuffer`);
    return new FbVector(this, pos, n, elemSize);
  }

  /** The string whose length prefix is at `pos`. */
  async string(pos: number, what = 'string', max: number = LIMITS.headerString): Promise<string> {
    const v = await this.vector(pos, 1, what);
    if (v.length > max) this.fail(pos, `${what} of ${v.length} bytes exceeds the ${max}-byte limit`);
    return utf8.decode(await this.bytes(pos + 4, v.length, what));
  }
}

function readScalar(d: DataView, at: number, kind: FbScalar): number | string {
  switch (kind) {
    case 'u8': return d.getUint8(at);
    case 'i8': return d.getInt8(at);
    case 'bool': return d.getUint8(at) !== 0 ? 1 : 0;
    case 'u16': return d.getUint16(at, true);
    case 'i16': return d.getInt16(at, true);
    case 'u32': return d.getUint32(at, true);
    case 'i32': return d.getInt32(at, true);
    case 'f32': return d.getFloat32(at, true);
    case 'f64': return d.getFloat64(at, true);
    case 'u64': {
      const v = d.getBigUint64(at, true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    }
    case 'i64': {
      const v = d.getBigInt64(at, true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
    }
  }
}

/** A table: field `i` is the i-th field of the schema (a union takes two: its type, then its value). */
export class FbTable {
  constructor(
    readonly fb: FlatBuffer,
    /** Position of the table in the buffer. */
    readonly pos: number,
    private readonly fields: Uint16Array,
    readonly byteLength: number,
  ) {}

  /** Whether field `i` is present (not defaulted / absent). */
  has(i: number): boolean {
    return (this.fields[i] ?? 0) !== 0;
  }

  /** Absolute position of field `i`'s inline slot, or undefined when absent. */
  fieldPos(i: number): number | undefined {
    const o = this.fields[i] ?? 0;
    return o === 0 ? undefined : this.pos + o;
  }

  /** Scalar field `i`, or `def` when absent. */
  async scalar(i: number, kind: FbScalar, def: number = 0): Promise<number | string> {
    const at = this.fieldPos(i);
    if (at === undefined) return def;
    return this.fb.scalar(at, kind, `field ${i}`);
  }
  /** Scalar field `i` as a number (64-bit values beyond 2^53 are rejected as MALFORMED). */
  async num(i: number, kind: FbScalar, def = 0): Promise<number> {
    const v = await this.scalar(i, kind, def);
    if (typeof v !== 'number') this.fb.fail(this.fieldPos(i)!, `field ${i} is ${v}, beyond 2^53`);
    return v;
  }
  async bool(i: number, def = false): Promise<boolean> {
    return this.has(i) ? (await this.num(i, 'u8')) !== 0 : def;
  }

  /** Absolute position the uoffset field `i` points to, or undefined when absent. */
  async offset(i: number): Promise<number | undefined> {
    const at = this.fieldPos(i);
    if (at === undefined) return undefined;
    return this.fb.deref(at, `field ${i}`);
  }
  async table(i: number): Promise<FbTable | undefined> {
    const p = await this.offset(i);
    return p === undefined ? undefined : this.fb.table(p);
  }
  async string(i: number, max?: number): Promise<string | undefined> {
    const p = await this.offset(i);
    return p === undefined ? undefined : this.fb.string(p, `field ${i} string`, max);
  }
  /** Vector field `i` with `elemSize`-byte elements (4 for tables and strings). */
  async vector(i: number, elemSize: number): Promise<FbVector | undefined> {
    const p = await this.offset(i);
    return p === undefined ? undefined : this.fb.vector(p, elemSize, `field ${i} vector`);
  }
  /**
   * A union stored as fields `i` (type, u8) and `i + 1` (value): its type (0 = NONE) and the table
   * (undefined for NONE or a missing value).
   */
  async union(i: number): Promise<{ type: number; table?: FbTable }> {
    const type = await this.num(i, 'u8');
    if (type === 0) return { type };
    const table = await this.table(i + 1);
    return table ? { type, table } : { type };
  }
}

/** A vector: `length` elements of `elemSize` bytes starting at `start`. */
export class FbVector {
  readonly start: number;
  constructor(
    readonly fb: FlatBuffer,
    /** Position of the length prefix. */
    readonly pos: number,
    readonly length: number,
    readonly elemSize: number,
  ) {
    this.start = pos + 4;
  }

  private at(k: number): number {
    if (!Number.isInteger(k) || k < 0 || k >= this.length) this.fb.fail(this.pos, `index ${k} outside a vector of ${this.length}`);
    return this.start + k * this.elemSize;
  }
  async table(k: number): Promise<FbTable> {
    const a = this.at(k);
    return this.fb.table(await this.fb.deref(a, `vector element ${k}`));
  }
  async string(k: number, max?: number): Promise<string> {
    const a = this.at(k);
    return this.fb.string(await this.fb.deref(a, `vector element ${k}`), `string #${k}`, max);
  }
  async scalar(k: number, kind: FbScalar): Promise<number | string> {
    return this.fb.scalar(this.at(k), kind);
  }
  /** Position of inline struct element `k` (vectors of structs). */
  structPos(k: number): number {
    return this.at(k);
  }
  /** All elements as scalars (one read). Throws LIMIT_EXCEEDED past `max` elements. */
  async scalars(kind: FbScalar, max = 16_000_000): Promise<(number | string)[]> {
    if (this.length > max) throw new ModelwiseError('LIMIT_EXCEEDED', `vector of ${this.length} elements exceeds the ${max} limit`, { file: this.fb.source.name, offset: this.fb.base + this.pos });
    const size = SCALAR_SIZE[kind];
    const b = await this.fb.bytes(this.start, this.length * size, 'vector');
    const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out = new Array<number | string>(this.length);
    for (let k = 0; k < this.length; k++) out[k] = readScalar(d, k * size, kind);
    return out;
  }
  /** All elements as numbers (64-bit values beyond 2^53 are MALFORMED). */
  async numbers(kind: FbScalar, max?: number): Promise<number[]> {
    const all = await this.scalars(kind, max);
    for (const v of all) if (typeof v !== 'number') this.fb.fail(this.pos, `vector element ${v} is beyond 2^53`);
    return all as number[];
  }
  /** The raw bytes of a [ubyte] vector (a bounded read; use `start`/`length` to locate big blobs). */
  async bytes(max = 64 * 1024 * 1024): Promise<Uint8Array> {
    const n = this.length * this.elemSize;
    if (n > max) throw new ModelwiseError('LIMIT_EXCEEDED', `vector of ${n} bytes exceeds the ${max}-byte read limit`, { file: this.fb.source.name, offset: this.fb.base + this.pos });
    return this.fb.bytes(this.start, n, 'vector');
  }
}
