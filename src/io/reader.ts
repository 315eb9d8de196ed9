/**
 * A sequential reader over a ByteSource for headers that are parsed front to back (GGUF, GGML,
 * NumPy, pickle streams). It reads ahead in chunks, so thousands of small fields cost a few reads,
 * and every length it is given is checked against the bytes left in the source before anything is
 * allocated (design principle 4).
 */
import { ModelwiseError } from '../errors.js';
import type { ByteSource } from './source.js';

// ignoreBOM: a string field that starts with U+FEFF keeps it (llama's vocabulary has a "\ufeff" token)
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

export class SequentialReader {
  private buf: Uint8Array = new Uint8Array(0);
  /** A DataView over `buf`, made once per refill (not once per field). */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private bufStart = 0;
  private pos: number;
  /** Total bytes fetched from the source (for laziness checks). */
  bytesFetched = 0;

  constructor(
    readonly source: ByteSource,
    start = 0,
    private readonly chunk = 256 * 1024,
    /** Little-endian unless told otherwise (big-endian GGUF). */
    public littleEndian = true,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.source.size - this.pos;
  }

  seek(offset: number): void {
    this.pos = offset;
  }

  private fail(what: string, need: number): never {
    throw new ModelwiseError('UNEXPECTED_EOF', `file ends inside ${what}: ${need} bytes needed, ${Math.max(0, this.remaining)} left`, {
      file: this.source.name,
      offset: this.pos,
    });
  }

  /**
   * Where `n` bytes at the current position start in the buffer, when they are all buffered.
   * The fast path of every field read: no promise, no allocation.
   */
  private buffered(n: number): number {
    const rel = this.pos - this.bufStart;
    return rel >= 0 && rel + n <= this.buf.length ? rel : -1;
  }

  /** Make `n` bytes at the current position available in the buffer; returns where they start. */
  private async fill(n: number, what: string): Promise<number> {
    if (n > this.remaining) this.fail(what, n);
    const rel = this.buffered(n);
    if (rel >= 0) return rel;
    const want = Math.max(n, this.chunk);
    const data = await this.source.read(this.pos, Math.min(want, this.remaining));
    this.bytesFetched += data.length;
    if (data.length < n) this.fail(what, n);
    this.buf = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.length);
    this.bufStart = this.pos;
    return 0;
  }

  /** Start of `n` buffered bytes at the position, which then moves past them. */
  private async take(n: number, what: string): Promise<number> {
    let rel = this.buffered(n);
    if (rel < 0) rel = await this.fill(n, what);
    this.pos += n;
    return rel;
  }

  /** `n` bytes as a view (valid until the next read). */
  async bytes(n: number, what = 'data'): Promise<Uint8Array> {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new ModelwiseError('MALFORMED', `invalid length ${n} for ${what}`, { file: this.source.name, offset: this.pos });
    }
    let rel = this.buffered(n);
    if (rel < 0) rel = await this.fill(n, what);
    this.pos += n;
    return this.buf.subarray(rel, rel + n);
  }

  /** Skip `n` bytes without reading them (tensor payloads). */
  skip(n: number, what = 'data'): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.remaining) this.fail(what, n);
    this.pos += n;
  }

  // Each field read takes the synchronous path when its bytes are buffered (almost always): one
  // async frame per field instead of a chain of four, which is what a 150k-token vocabulary costs.
  async u8(what = 'u8'): Promise<number> {
    const rel = this.buffered(1) >= 0 ? this.pos++ - this.bufStart : await this.take(1, what);
    return this.buf[rel]!;
  }
  async i8(what = 'i8'): Promise<number> {
    const rel = this.buffered(1) >= 0 ? this.pos++ - this.bufStart : await this.take(1, what);
    return this.view.getInt8(rel);
  }
  async u16(what = 'u16'): Promise<number> {
    const rel = await this.at(2, what);
    return this.view.getUint16(rel, this.littleEndian);
  }
  async i16(what = 'i16'): Promise<number> {
    const rel = await this.at(2, what);
    return this.view.getInt16(rel, this.littleEndian);
  }
  async u32(what = 'u32'): Promise<number> {
    const rel = await this.at(4, what);
    return this.view.getUint32(rel, this.littleEndian);
  }
  async i32(what = 'i32'): Promise<number> {
    const rel = await this.at(4, what);
    return this.view.getInt32(rel, this.littleEndian);
  }
  /** f32 as the shortest decimal that reads back as the same f32 (1e-5, not 0.000009999999747). */
  async f32(what = 'f32'): Promise<number> {
    const rel = await this.at(4, what);
    return shortestF32(this.view.getFloat32(rel, this.littleEndian));
  }
  async f64(what = 'f64'): Promise<number> {
    const rel = await this.at(8, what);
    return this.view.getFloat64(rel, this.littleEndian);
  }
  /** u64 as a number when ≤ 2^53, else as a decimal string (plain JSON, no bigint). */
  async u64(what = 'u64'): Promise<number | string> {
    const rel = await this.at(8, what);
    const le = this.littleEndian;
    const lo = this.view.getUint32(le ? rel : rel + 4, le);
    const hi = this.view.getUint32(le ? rel + 4 : rel, le);
    if (hi < 0x200000) return hi * 0x1_0000_0000 + lo; // < 2^53: exact without a BigInt
    return this.view.getBigUint64(rel, le).toString();
  }
  async i64(what = 'i64'): Promise<number | string> {
    const rel = await this.at(8, what);
    const le = this.littleEndian;
    const lo = this.view.getUint32(le ? rel : rel + 4, le);
    const hi = this.view.getInt32(le ? rel + 4 : rel, le);
    const v = hi * 0x1_0000_0000 + lo;
    if (hi >= -0x200000 && hi < 0x200000 && Number.isSafeInteger(v)) return v;
    return this.view.getBigInt64(rel, le).toString();
  }
  /** u64 used as a count or length: must be a safe integer, else MALFORMED naming `what`. */
  async u64n(what = 'u64'): Promise<number> {
    const at = this.pos;
    const v = await this.u64(what);
    if (typeof v !== 'number') {
      throw new ModelwiseError('MALFORMED', `${what} is ${v}, beyond any file size`, { file: this.source.name, offset: at });
    }
    return v;
  }

  /** A length-prefixed UTF-8 string whose length was already read; checked against the file. */
  async string(length: number, what = 'string'): Promise<string> {
    if (length > this.remaining) {
      throw new ModelwiseError('MALFORMED', `${what} length ${length} runs past the end of the file`, { file: this.source.name, offset: this.pos });
    }
    return utf8.decode(await this.bytes(length, what));
  }

  /**
   * Skip `count` length-prefixed strings (a u32 or u64 length, then the bytes), e.g. the tail of a
   * tokenizer vocabulary: one call instead of two awaits per string. Every length is checked
   * against the bytes left; a u64 length beyond 2^53 is MALFORMED. Nothing is decoded or allocated.
   */
  async skipStrings(count: number, lengthBytes: 4 | 8, what = 'string'): Promise<void> {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new ModelwiseError('MALFORMED', `invalid count ${count} for ${what}`, { file: this.source.name, offset: this.pos });
    }
    const le = this.littleEndian;
    for (let i = 0; i < count; i++) {
      let rel = this.buffered(lengthBytes);
      if (rel < 0) rel = await this.fill(lengthBytes, `${what} length`);
      let n: number;
      if (lengthBytes === 4) n = this.view.getUint32(rel, le);
      else {
        const lo = this.view.getUint32(le ? rel : rel + 4, le);
        const hi = this.view.getUint32(le ? rel + 4 : rel, le);
        if (hi >= 0x200000) {
          throw new ModelwiseError('MALFORMED', `${what} length ${this.view.getBigUint64(rel, le)} is beyond any file size`, { file: this.source.name, offset: this.pos });
        }
        n = hi * 0x1_0000_0000 + lo;
      }
      if (n > this.remaining - lengthBytes) {
        throw new ModelwiseError('MALFORMED', `${what} length ${n} runs past the end of the file`, { file: this.source.name, offset: this.pos });
      }
      this.pos += lengthBytes + n;
    }
  }

  /** Buffer offset of the next `n` bytes (sync when buffered: awaiting a number costs a microtask only). */
  private at(n: number, what: string): number | Promise<number> {
    const rel = this.buffered(n);
    if (rel >= 0) {
      this.pos += n;
      return rel;
    }
    return this.take(n, what);
  }
}

/** The shortest decimal that rounds to the same float32 value. */
export function shortestF32(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  for (let p = 1; p <= 9; p++) {
    const c = Number(v.toPrecision(p));
    if (Math.fround(c) === v) return c;
  }
  return v;
}
