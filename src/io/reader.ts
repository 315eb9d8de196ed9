/**
 * A sequential reader over a ByteSource for headers that are parsed front to back (GGUF, GGML,
 * NumPy, pickle streams). It reads ahead in chunks, so thousands of small fields cost a few reads,
 * and every length it is given is checked against the bytes left in the source before anything is
 * allocated (design principle 4).
 */
import { ModelwiseError } from '../errors.js';
import type { ByteSource } from './source.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class SequentialReader {
  private buf: Uint8Array = new Uint8Array(0);
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

  /** Make `n` bytes at the current position available in the buffer. */
  private async ensure(n: number, what: string): Promise<void> {
    if (n > this.remaining) this.fail(what, n);
    const rel = this.pos - this.bufStart;
    if (rel >= 0 && rel + n <= this.buf.length) return;
    const want = Math.max(n, this.chunk);
    const data = await this.source.read(this.pos, Math.min(want, this.remaining));
    this.bytesFetched += data.length;
    if (data.length < n) this.fail(what, n);
    this.buf = data;
    this.bufStart = this.pos;
  }

  /** `n` bytes as a view (valid until the next read). */
  async bytes(n: number, what = 'data'): Promise<Uint8Array> {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new ModelwiseError('MALFORMED', `invalid length ${n} for ${what}`, { file: this.source.name, offset: this.pos });
    }
    await this.ensure(n, what);
    const rel = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(rel, rel + n);
  }

  /** Skip `n` bytes without reading them (tensor payloads). */
  skip(n: number, what = 'data'): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.remaining) this.fail(what, n);
    this.pos += n;
  }

  private async dv(n: number, what: string): Promise<DataView> {
    const b = await this.bytes(n, what);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  async u8(what = 'u8'): Promise<number> {
    return (await this.dv(1, what)).getUint8(0);
  }
  async i8(what = 'i8'): Promise<number> {
    return (await this.dv(1, what)).getInt8(0);
  }
  async u16(what = 'u16'): Promise<number> {
    return (await this.dv(2, what)).getUint16(0, this.littleEndian);
  }
  async i16(what = 'i16'): Promise<number> {
    return (await this.dv(2, what)).getInt16(0, this.littleEndian);
  }
  async u32(what = 'u32'): Promise<number> {
    return (await this.dv(4, what)).getUint32(0, this.littleEndian);
  }
  async i32(what = 'i32'): Promise<number> {
    return (await this.dv(4, what)).getInt32(0, this.littleEndian);
  }
  /** f32 as the shortest decimal that reads back as the same f32 (1e-5, not 0.000009999999747). */
  async f32(what = 'f32'): Promise<number> {
    return shortestF32((await this.dv(4, what)).getFloat32(0, this.littleEndian));
  }
  async f64(what = 'f64'): Promise<number> {
    return (await this.dv(8, what)).getFloat64(0, this.littleEndian);
  }
  /** u64 as a number when ≤ 2^53, else as a decimal string (plain JSON, no bigint). */
  async u64(what = 'u64'): Promise<number | string> {
    const v = (await this.dv(8, what)).getBigUint64(0, this.littleEndian);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  async i64(what = 'i64'): Promise<number | string> {
    const v = (await this.dv(8, what)).getBigInt64(0, this.littleEndian);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
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
