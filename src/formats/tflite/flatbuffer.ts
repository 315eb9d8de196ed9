/**
 * Just enough FlatBuffers to read a few scalar, string and vector fields of a root table, by hand
 * (https://flatbuffers.dev/internals/): a detector needs half a dozen fields, not generated code.
 * Every offset is checked against the file size; reads go through the probe (head, then 4 KiB
 * blocks) and are capped in number, so a hostile file costs a bounded amount of I/O.
 */
import type { Probe } from '../../identify/probe.js';
import { decodeUtf8 } from '../../io/bytes.js';

const BLOCK = 4096;

/** Thrown (and caught by the detector) when an offset points outside the file or a cap is hit. */
export class FlatbufferRangeError extends Error {}

export class FlatbufferReader {
  private readonly blocks = new Map<number, Uint8Array>();
  private reads = 0;

  constructor(
    private readonly probe: Probe,
    private readonly head: Uint8Array,
    /** Block reads allowed beyond the head. */
    private readonly maxReads = 32,
  ) {}

  get size(): number {
    return this.probe.size;
  }

  private async bytes(at: number, n: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(at) || at < 0 || at + n > this.probe.size) throw new FlatbufferRangeError(`offset ${at} outside the file`);
    if (at + n <= this.head.length) return this.head.subarray(at, at + n);
    const first = Math.floor(at / BLOCK);
    const last = Math.floor((at + n - 1) / BLOCK);
    if (first === last) return (await this.block(first)).subarray(at - first * BLOCK, at - first * BLOCK + n);
    const out = new Uint8Array(n);
    for (let b = first, p = 0; b <= last; b++) {
      const blk = await this.block(b);
      const from = Math.max(at, b * BLOCK) - b * BLOCK;
      const to = Math.min(at + n, (b + 1) * BLOCK) - b * BLOCK;
      out.set(blk.subarray(from, to), p);
      p += to - from;
    }
    return out;
  }

  private async block(i: number): Promise<Uint8Array> {
    const hit = this.blocks.get(i);
    if (hit) return hit;
    if (++this.reads > this.maxReads) throw new FlatbufferRangeError('read budget exhausted');
    const b = await this.probe.bytes(i * BLOCK, BLOCK);
    this.blocks.set(i, b);
    return b;
  }

  async u8(at: number): Promise<number> {
    return (await this.bytes(at, 1))[0]!;
  }
  async u16(at: number): Promise<number> {
    const b = await this.bytes(at, 2);
    return b[0]! | (b[1]! << 8);
  }
  async u32(at: number): Promise<number> {
    const b = await this.bytes(at, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
  async i32(at: number): Promise<number> {
    return (await this.u32(at)) | 0;
  }

  /** A table at `pos`: its vtable, to look fields up. */
  async table(pos: number): Promise<Table> {
    const vt = pos - (await this.i32(pos));
    const vtSize = await this.u16(vt);
    if (vtSize < 4 || vtSize % 2 !== 0 || vtSize > 1024) throw new FlatbufferRangeError(`vtable size ${vtSize} at ${vt}`);
    const tableSize = await this.u16(vt + 2);
    const fields: number[] = [];
    for (let i = 0; i < (vtSize - 4) / 2; i++) {
      const off = await this.u16(vt + 4 + 2 * i);
      if (off !== 0 && off >= tableSize) throw new FlatbufferRangeError(`field ${i} offset ${off} beyond its table (${tableSize} bytes)`);
      fields.push(off);
    }
    return new Table(this, pos, fields);
  }

  /** Follow a uoffset stored at `at`. */
  async deref(at: number): Promise<number> {
    const target = at + (await this.u32(at));
    if (target >= this.probe.size) throw new FlatbufferRangeError(`offset at ${at} points past the end`);
    return target;
  }

  async string(pos: number, max = 256): Promise<string> {
    const len = await this.u32(pos);
    if (pos + 4 + len > this.probe.size) throw new FlatbufferRangeError(`string of ${len} bytes at ${pos} overruns the file`);
    return decodeUtf8(await this.bytes(pos + 4, Math.min(len, max)));
  }
}

export class Table {
  constructor(
    readonly r: FlatbufferReader,
    readonly pos: number,
    /** vtable entries: offset of each field in the table, 0 when absent. */
    readonly fields: number[],
  ) {}

  has(i: number): boolean {
    return (this.fields[i] ?? 0) !== 0;
  }

  async u32(i: number, dflt = 0): Promise<number> {
    return this.has(i) ? this.r.u32(this.pos + this.fields[i]!) : dflt;
  }

  async string(i: number, max?: number): Promise<string | undefined> {
    return this.has(i) ? this.r.string(await this.r.deref(this.pos + this.fields[i]!), max) : undefined;
  }

  /** Length and element start of a vector field. */
  async vector(i: number): Promise<{ length: number; start: number } | undefined> {
    if (!this.has(i)) return undefined;
    const v = await this.r.deref(this.pos + this.fields[i]!);
    const length = await this.r.u32(v);
    if (v + 4 + length * 4 > this.r.size && length > 0) throw new FlatbufferRangeError(`vector of ${length} at ${v} overruns the file`);
    return { length, start: v + 4 };
  }

  /** Element `k` of a vector of tables. */
  async tableAt(vec: { start: number }, k: number): Promise<Table> {
    return this.r.table(await this.r.deref(vec.start + 4 * k));
  }
}
