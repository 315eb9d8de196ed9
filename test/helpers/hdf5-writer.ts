/**
 * A tiny HDF5 writer for tests (https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html):
 * a root group with attributes only, in the two layouts h5py writes: superblock v0 + version-1 object
 * header (libver "earliest", what Keras files have) and superblock v2 + "OHDR" object header
 * (libver "latest"). Values: fixed-length strings (numpy bytes), variable-length strings (python str,
 * via a global heap collection), string arrays (layer_names), int64 scalars. Options move the
 * attributes into a continuation chunk, add a user block, or fake dense attribute storage.
 * Checksums are written as zeros (the reader does not verify them).
 */

export type H5Value = { fixed: string } | { vlen: string } | { fixedArray: string[] } | { int64: number };
export interface H5Attribute {
  name: string;
  value: H5Value;
}
export interface H5Options {
  superblock?: 0 | 2;
  userblock?: number;
  /** v0 only: put the attribute messages in a continuation chunk. */
  continuation?: boolean;
  /** v2 only: an attribute info message (dense storage) in the header, the attribute messages in a stand-in heap block after it. */
  dense?: boolean;
  /** Extra bytes appended (datasets would be here). */
  tail?: Uint8Array;
}

class W {
  private buf = new Uint8Array(1024);
  length = 0;
  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }
  u8(v: number): this {
    this.grow(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  u64(v: number): this {
    return this.u32(v % 0x1_0000_0000).u32(Math.floor(v / 0x1_0000_0000));
  }
  undef(): this {
    for (let i = 0; i < 8; i++) this.u8(0xff);
    return this;
  }
  bytes(b: Uint8Array | string): this {
    const x = typeof b === 'string' ? new TextEncoder().encode(b) : b;
    this.grow(x.length);
    this.buf.set(x, this.length);
    this.length += x.length;
    return this;
  }
  zeros(n: number): this {
    this.grow(n);
    this.length += n; // buffer is zero-filled
    return this;
  }
  pad8(): this {
    return this.zeros((8 - (this.length % 8)) % 8);
  }
  setU32(at: number, v: number): void {
    this.buf[at] = v & 0xff;
    this.buf[at + 1] = (v >> 8) & 0xff;
    this.buf[at + 2] = (v >> 16) & 0xff;
    this.buf[at + 3] = (v >>> 24) & 0xff;
  }
  setU64(at: number, v: number): void {
    this.setU32(at, v % 0x1_0000_0000);
    this.setU32(at + 4, Math.floor(v / 0x1_0000_0000));
  }
  out(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** datatype, dataspace and value bytes of one attribute; vlen strings get a heap object id. */
function parts(v: H5Value, version: 1 | 2, heap: string[], heapAddr: () => number): { dt: Uint8Array; ds: Uint8Array; data: Uint8Array; fixups: ((w: W, at: number) => void)[] } {
  const dsScalar = version === 1 ? new W().u8(1).u8(0).u8(0).u8(0).u32(0) : new W().u8(2).u8(0).u8(0).u8(0);
  const ds1 = (n: number): W => (version === 1 ? new W().u8(1).u8(1).u8(0).u8(0).u32(0).u64(n) : new W().u8(2).u8(1).u8(0).u8(1).u64(n));
  if ('fixed' in v) {
    const b = enc(v.fixed);
    const size = Math.max(1, b.length);
    const data = new Uint8Array(size);
    data.set(b);
    return { dt: new W().u8(0x13).u8(0).u8(0).u8(0).u32(size).out(), ds: dsScalar.out(), data, fixups: [] };
  }
  if ('fixedArray' in v) {
    const bs = v.fixedArray.map(enc);
    const size = Math.max(1, ...bs.map((b) => b.length));
    const data = new Uint8Array(size * bs.length);
    bs.forEach((b, i) => data.set(b, i * size));
    return { dt: new W().u8(0x13).u8(0).u8(0).u8(0).u32(size).out(), ds: ds1(bs.length).out(), data, fixups: [] };
  }
  if ('int64' in v) {
    const dt = new W().u8(0x10).u8(0x08).u8(0).u8(0).u32(8).u16(0).u16(64).out();
    return { dt, ds: dsScalar.out(), data: new W().u64(v.int64).out(), fixups: [] };
  }
  // Variable-length string: u32 length, collection address (patched later), u32 object index (1-based).
  heap.push(v.vlen);
  const index = heap.length;
  const len = enc(v.vlen).length;
  const dt = new W().u8(0x19).u8(0x01).u8(0).u8(0).u32(16).u8(0x13).u8(0).u8(0).u8(0).u32(1).out();
  const data = new W().u32(len).u64(0).u32(index).out();
  return { dt, ds: dsScalar.out(), data, fixups: [(w, at) => w.setU64(at + 4, heapAddr())] };
}

/** An HDF5 file whose root group carries `attributes`. */
export function buildHdf5(attributes: H5Attribute[], opts: H5Options = {}): Uint8Array {
  const ub = opts.userblock ?? 0;
  const w = new W();
  w.zeros(ub);
  const heap: string[] = [];
  let heapAt = 0;
  const fixups: { at: number; f: (w: W, at: number) => void }[] = [];
  const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  let eofField: number;
  if ((opts.superblock ?? 0) === 0) {
    w.bytes(new Uint8Array(sig));
    w.u8(0).u8(0).u8(0).u8(0).u8(0).u8(8).u8(8).u8(0);
    w.u16(4).u16(16).u32(0);
    w.u64(0).undef();
    eofField = w.length;
    w.u64(0).undef();
    // root symbol table entry: link name offset, object header address, cache type 0, reserved, scratch.
    w.u64(0).u64(96).u32(0).u32(0).zeros(16);
    // Object header v1 at 96.
    const msgs = attributes.map((a) => {
      const p = parts(a.value, 1, heap, () => heapAt);
      const name = enc(a.name + '\0');
      const m = new W().u8(1).u8(0).u16(name.length).u16(p.dt.length).u16(p.ds.length).bytes(name).pad8().bytes(p.dt).pad8().bytes(p.ds).pad8();
      const dataAt = m.length;
      m.bytes(p.data).pad8();
      return { bytes: m.out(), dataAt, fixups: p.fixups };
    });
    const writeMessages = (): void => {
      for (const m of msgs) {
        w.u16(0x0c).u16(m.bytes.length).u8(0).zeros(3);
        const at = w.length;
        w.bytes(m.bytes);
        for (const f of m.fixups) fixups.push({ at: at + m.dataAt, f });
      }
    };
    const start = w.length;
    if (opts.continuation) {
      w.u8(1).u8(0).u16(msgs.length + 1).u32(1).u32(24).zeros(4);
      const contAt = w.length + 8;
      w.u16(0x10).u16(16).u8(0).zeros(3).u64(0).u64(0);
      const chunkStart = w.length;
      writeMessages();
      w.setU64(contAt, chunkStart - ub);
      w.setU64(contAt + 8, w.length - chunkStart);
    } else {
      const sizeAt = start + 8;
      w.u8(1).u8(0).u16(msgs.length).u32(1).u32(0).zeros(4);
      const body = w.length;
      writeMessages();
      w.setU32(sizeAt, w.length - body);
    }
  } else {
    w.bytes(new Uint8Array(sig));
    w.u8(2).u8(8).u8(8).u8(0);
    w.u64(0).undef();
    eofField = w.length;
    w.u64(0).u64(48).u32(0);
    // OHDR at 48: flags 0x02 = chunk-0 size on 4 bytes.
    w.bytes('OHDR').u8(2).u8(0x02);
    const sizeAt = w.length;
    w.u32(0);
    const body = w.length;
    const attrMessages = attributes.map((a) => {
      const p = parts(a.value, 2, heap, () => heapAt);
      const name = enc(a.name + '\0');
      const m = new W().u8(3).u8(0).u16(name.length).u16(p.dt.length).u16(p.ds.length).u8(0).bytes(name).bytes(p.dt).bytes(p.ds);
      const dataAt = m.length;
      m.bytes(p.data);
      return { bytes: m.out(), dataAt, fixups: p.fixups };
    });
    if (opts.dense) {
      w.u8(0x15).u16(18).u8(0).u8(0).u8(0).u64(4096).u64(8192);
    } else {
      for (const m of attrMessages) {
        w.u8(0x0c).u16(m.bytes.length).u8(0);
        const at = w.length;
        w.bytes(m.bytes);
        for (const f of m.fixups) fixups.push({ at: at + m.dataAt, f });
      }
    }
    w.setU32(sizeAt, w.length - body);
    w.u32(0); // checksum (not verified)
    if (opts.dense) {
      // Stand-in for the fractal heap direct block: the attribute messages one after another.
      w.bytes('FHDB');
      for (const m of attrMessages) {
        const at = w.length;
        w.bytes(m.bytes);
        for (const f of m.fixups) fixups.push({ at: at + m.dataAt, f });
      }
    }
  }
  if (heap.length) {
    w.pad8();
    heapAt = w.length - ub;
    const objs = new W();
    heap.forEach((s, i) => {
      const b = enc(s);
      objs.u16(i + 1).u16(1).u32(0).u64(b.length).bytes(b).pad8();
    });
    const size = Math.max(4096, 16 + objs.length + 16);
    w.bytes('GCOL').u8(1).zeros(3).u64(size).bytes(objs.out());
    // free-space object (index 0) filling the rest of the collection
    const rest = size - 16 - objs.length;
    w.u16(0).u16(0).u32(0).u64(rest - 16).zeros(rest - 16);
  }
  if (opts.tail) w.bytes(opts.tail);
  for (const x of fixups) x.f(w, x.at);
  w.setU64(eofField, w.length - ub);
  return w.out();
}
