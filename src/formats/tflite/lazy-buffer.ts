/**
 * A `flatbuffers.ByteBuffer` over a ByteSource, so the flatc-generated accessors (./generated/) can
 * read a TFLite file without the file in memory: a TFLite flatbuffer inlines its weights (up to
 * 2 GB), and inspect must read only the tables.
 *
 * The generated accessors are synchronous and ByteSource reads are not, so reads go through a page
 * cache: a read of a page not yet loaded throws a `PageFault`; `run(fn)` catches it, loads the page
 * and runs `fn` again (steps are small and side-effect free: one tensor, one operator code). A
 * sequential fault (the page after the last one loaded) reads ahead, so contiguous tables cost few
 * reads. Every read is checked against the buffer's end (MALFORMED naming the offset), and the
 * bytes loaded are capped (LIMIT_EXCEEDED), so hostile offsets cost bounded I/O and memory.
 * Weight payloads are never touched: callers ask for a vector's position and length, not its bytes.
 */
import * as flatbuffers from 'flatbuffers';
import { ModelwiseError } from '../../errors.js';
import type { ByteSource } from '../../io/source.js';

const PAGE = 4096;
const READ_AHEAD = 16;

/** Thrown inside a synchronous accessor when a page is not loaded yet (never escapes `run`). */
export class PageFault {
  constructor(readonly page: number) {}
}

export interface LazyBufferOptions {
  /** Bytes the cache may load in total (the tables of the largest real models stay far below). */
  maxBytes?: number;
  /** Faults one `run` step may take before it is considered runaway. */
  maxFaults?: number;
}

export class LazyByteBuffer extends flatbuffers.ByteBuffer {
  private readonly pages = new Map<number, Uint8Array>();
  private readonly maxBytes: number;
  private readonly maxFaults: number;
  /** Bytes loaded from the source (for laziness checks). */
  loaded = 0;

  constructor(
    readonly source: ByteSource,
    opts: LazyBufferOptions = {},
  ) {
    super(new Uint8Array(0));
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.maxFaults = opts.maxFaults ?? 4096;
  }

  get size(): number {
    return this.source.size;
  }

  override capacity(): number {
    return this.source.size;
  }

  /** The generated `…Array()` accessors would view the whole buffer: refused (weights stay unread). */
  override bytes(): Uint8Array {
    throw new ModelwiseError('UNSUPPORTED', 'whole-buffer access on a lazily read flatbuffer', { file: this.source.name });
  }

  fail(at: number, message: string): never {
    throw new ModelwiseError('MALFORMED', message, { file: this.source.name, offset: Number.isFinite(at) ? at : undefined });
  }

  /** Throws MALFORMED unless [at, at+n) lies inside the file. */
  check(at: number, n: number, what = 'flatbuffer read'): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + n > this.source.size) this.fail(at, `${what} (${n} bytes at ${at}) lies outside the ${this.source.size}-byte file`);
  }

  private page(i: number): Uint8Array {
    const p = this.pages.get(i);
    if (!p) throw new PageFault(i);
    return p;
  }

  override readUint8(offset: number): number {
    this.check(offset, 1);
    const i = Math.floor(offset / PAGE);
    return this.page(i)[offset - i * PAGE]!;
  }

  override readUint16(offset: number): number {
    this.check(offset, 2);
    const i = Math.floor(offset / PAGE);
    const o = offset - i * PAGE;
    if (o + 2 <= PAGE) {
      const p = this.page(i);
      return p[o]! | (p[o + 1]! << 8);
    }
    return this.readUint8(offset) | (this.readUint8(offset + 1) << 8);
  }

  override readInt32(offset: number): number {
    this.check(offset, 4);
    const i = Math.floor(offset / PAGE);
    const o = offset - i * PAGE;
    if (o + 4 <= PAGE) {
      const p = this.page(i);
      return p[o]! | (p[o + 1]! << 8) | (p[o + 2]! << 16) | (p[o + 3]! << 24);
    }
    return this.readUint8(offset) | (this.readUint8(offset + 1) << 8) | (this.readUint8(offset + 2) << 16) | (this.readUint8(offset + 3) << 24);
  }

  /** `n` bytes at `at`, copied out of the cache (for strings and small metadata buffers). */
  slice(at: number, n: number, what = 'bytes'): Uint8Array {
    this.check(at, n, what);
    const out = new Uint8Array(n);
    for (let p = 0; p < n; ) {
      const i = Math.floor((at + p) / PAGE);
      const o = at + p - i * PAGE;
      const take = Math.min(PAGE - o, n - p);
      out.set(this.page(i).subarray(o, o + take), p);
      p += take;
    }
    return out;
  }

  /** Strings are checked like everything else (the runtime would read past the end silently). */
  override __string(offset: number, optionalEncoding?: flatbuffers.Encoding): string | Uint8Array {
    const at = offset + this.readInt32(offset);
    const len = this.readInt32(at);
    if (len < 0) this.fail(at, `string length ${len} is negative`);
    const bytes = this.slice(at + 4, len, 'string');
    return optionalEncoding === flatbuffers.Encoding.UTF8_BYTES ? bytes : new TextDecoder().decode(bytes);
  }

  /** Position and checked length of a vector whose uoffset is stored at `at`. */
  vectorAt(at: number, elementSize: number, what: string): { start: number; length: number } {
    const start = this.__vector(at);
    const length = this.readInt32(start - 4);
    if (length < 0 || start + length * elementSize > this.source.size) this.fail(start - 4, `${what}: ${length} elements of ${elementSize} bytes at ${start} run past the end of the ${this.source.size}-byte file`);
    return { start, length };
  }

  /** Load page `i` (with read-ahead when the previous page is loaded: a sequential walk). */
  async fetch(i: number): Promise<void> {
    if (this.pages.has(i)) return;
    const count = this.pages.has(i - 1) ? READ_AHEAD : 1;
    const start = i * PAGE;
    const len = Math.min(count * PAGE, this.source.size - start);
    if (len <= 0) this.fail(start, 'page outside the file');
    if (this.loaded + len > this.maxBytes) {
      throw new ModelwiseError('LIMIT_EXCEEDED', `reading the flatbuffer tables needs more than ${this.maxBytes} bytes`, { file: this.source.name, offset: start });
    }
    const b = await this.source.read(start, len);
    if (b.length !== len) throw new ModelwiseError('UNEXPECTED_EOF', `wanted ${len} bytes, got ${b.length}`, { file: this.source.name, offset: start });
    this.loaded += len;
    for (let k = 0; k * PAGE < len; k++) if (!this.pages.has(i + k)) this.pages.set(i + k, b.subarray(k * PAGE, Math.min(len, (k + 1) * PAGE)));
  }

  /** Run a synchronous decoding step, loading the pages it faults on, until it completes. */
  async run<T>(fn: () => T): Promise<T> {
    for (let faults = 0; ; faults++) {
      try {
        return fn();
      } catch (e) {
        if (!(e instanceof PageFault)) throw e;
        if (faults >= this.maxFaults) throw new ModelwiseError('LIMIT_EXCEEDED', `one flatbuffer decoding step touched more than ${this.maxFaults} pages`, { file: this.source.name });
        await this.fetch(e.page);
      }
    }
  }
}
