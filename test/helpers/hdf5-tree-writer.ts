/**
 * A small HDF5 writer for tests of groups and datasets (https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html),
 * in the two layouts h5py writes:
 *   - superblock 0 (libver "earliest"): version-1 object headers, old-style groups (symbol table →
 *     v1 B-tree → SNOD + local heap), datasets with dataspace v1, layout v3, filter pipeline v1;
 *   - superblock 2 (libver "latest"): "OHDR" headers, link messages, or dense links (link info →
 *     fractal heap with a root direct block + v2 B-tree leaf); dense attributes likewise.
 * Datasets: contiguous, or chunked (v1 B-tree of chunks) with deflate / shuffle / fletcher32.
 * Addresses are relative to the superblock; checksums are zeros (the reader does not verify them).
 */
import { zlibSync } from 'fflate';

export type H5Dtype = 'f16' | 'f32' | 'f64' | 'i8' | 'i16' | 'i32' | 'i64' | 'u8' | 'bool' | 'c64' | 'S4';
export interface H5Dataset {
  dtype: H5Dtype;
  shape: number[];
  /** Element bytes, little-endian (zeros when absent). */
  data?: Uint8Array;
  bigEndian?: boolean;
  chunks?: number[];
  filters?: ('deflate' | 'shuffle' | 'fletcher32')[];
  /** Contiguous data claimed at this address (nothing written): for sparse multi-GB files. */
  at?: number;
}
export interface H5Group {
  members: Record<string, H5Group | H5Dataset>;
  /** Attributes: numbers as i64 scalars, strings as fixed-length strings, string arrays as 1-D ones. */
  attrs?: Record<string, number | string | string[]>;
  /** Superblock 2 only: links (and attributes) in a fractal heap. */
  dense?: boolean;
}

const SIZE: Record<H5Dtype, number> = { f16: 2, f32: 4, f64: 8, i8: 1, i16: 2, i32: 4, i64: 8, u8: 1, bool: 1, c64: 8, S4: 4 };
const UNDEF = -1;

class W {
  b = new Uint8Array(4096);
  n = 0;
  grow(k: number): void {
    if (this.n + k <= this.b.length) return;
    const x = new Uint8Array(Math.max(this.b.length * 2, this.n + k));
    x.set(this.b.subarray(0, this.n));
    this.b = x;
  }
  u8(v: number): this {
    this.grow(1);
    this.b[this.n++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  u64(v: number): this {
    if (v === UNDEF) return this.u32(0xffffffff).u32(0xffffffff);
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }
  bytes(x: Uint8Array | string): this {
    const y = typeof x === 'string' ? new TextEncoder().encode(x) : x;
    this.grow(y.length);
    this.b.set(y, this.n);
    this.n += y.length;
    return this;
  }
  zeros(k: number): this {
    this.grow(k);
    this.b.fill(0, this.n, this.n + k);
    this.n += k;
    return this;
  }
  pad8(): this {
    return this.zeros((8 - (this.n % 8)) % 8);
  }
  out(): Uint8Array {
    return this.b.slice(0, this.n);
  }
}

/** A NUL-terminated name padded to a multiple of 8 bytes of its own length (enum and compound v1/v2). */
function name8(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array((b.length + 1 + 7) & ~7);
  out.set(b);
  return out;
}

function datatype(dt: H5Dtype, be: boolean): Uint8Array {
  const w = new W();
  const bo = be ? 1 : 0;
  const float = (size: number, sign: number, expLoc: number, expSize: number, mantSize: number, bias: number): void => {
    w.u8(0x11).u8(0x20 | bo).u8(sign).u8(0).u32(size).u16(0).u16(size * 8).u8(expLoc).u8(expSize).u8(0).u8(mantSize).u32(bias);
  };
  if (dt === 'f16') float(2, 15, 10, 5, 10, 15);
  else if (dt === 'f32') float(4, 31, 23, 8, 23, 127);
  else if (dt === 'f64') float(8, 63, 52, 11, 52, 1023);
  else if (dt === 'bool') {
    w.u8(0x18).u16(2).u8(0).u32(1).u8(0x10).u8(0x08).u16(0).u32(1).u16(0).u16(8);
    w.bytes(name8('FALSE')).bytes(name8('TRUE')).u8(0).u8(1);
  } else if (dt === 'c64') {
    w.u8(0x26).u16(2).u8(0).u32(8); // compound version 2: names padded to 8, 4-byte offsets
    for (const [name, off] of [['r', 0], ['i', 4]] as const) {
      w.bytes(name8(name)).u32(off);
      w.bytes(datatype('f32', be));
    }
  } else if (dt === 'S4') w.u8(0x13).u8(0).u16(0).u32(4);
  else {
    const size = SIZE[dt];
    w.u8(0x10).u8((dt.startsWith('i') ? 0x08 : 0) | bo).u16(0).u32(size).u16(0).u16(size * 8);
  }
  return w.out();
}

function dataspace(shape: number[], v: 1 | 2): Uint8Array {
  const w = new W();
  if (v === 1) w.u8(1).u8(shape.length).u8(0).u8(0).u32(0);
  else w.u8(2).u8(shape.length).u8(0).u8(shape.length ? 1 : 0);
  for (const d of shape) w.u64(d);
  return w.out();
}

function filterPipeline(filters: H5Dataset['filters'], es: number, v: 1 | 2): Uint8Array {
  const ids = { deflate: 1, shuffle: 2, fletcher32: 3 } as const;
  const w = new W().u8(v).u8(filters!.length);
  if (v === 1) w.zeros(6);
  for (const f of filters!) {
    const values = f === 'deflate' ? [6] : f === 'shuffle' ? [es] : [];
    w.u16(ids[f]);
    if (v === 1) w.u16(0);
    w.u16(0).u16(values.length);
    for (const x of values) w.u32(x);
    if (v === 1 && values.length % 2) w.u32(0);
  }
  return w.out();
}

function shuffle(d: Uint8Array, es: number): Uint8Array {
  const n = Math.floor(d.length / es);
  const out = new Uint8Array(d.length);
  for (let i = 0; i < n; i++) for (let b = 0; b < es; b++) out[b * n + i] = d[i * es + b]!;
  return out;
}

const prod = (a: number[]): number => a.reduce((x, y) => x * y, 1);

/** The bytes of the chunk at `origin` (edge chunks padded with zeros). */
function chunkBytes(data: Uint8Array, shape: number[], chunk: number[], origin: number[], es: number): Uint8Array {
  const out = new Uint8Array(prod(chunk) * es);
  const idx = new Array<number>(chunk.length).fill(0);
  for (let k = 0; k < prod(chunk); k++) {
    let rem = k;
    for (let i = chunk.length - 1; i >= 0; i--) {
      idx[i] = rem % chunk[i]!;
      rem = Math.floor(rem / chunk[i]!);
    }
    if (idx.every((x, i) => origin[i]! + x < shape[i]!)) {
      let src = 0;
      for (let i = 0; i < shape.length; i++) src = src * shape[i]! + origin[i]! + idx[i]!;
      out.set(data.subarray(src * es, src * es + es), k * es);
    }
  }
  return out;
}

/** Build a whole file; returns the bytes and the relative addresses of every object by path. */
export function buildHdf5Tree(root: H5Group, opts: { superblock?: 0 | 2 } = {}): { bytes: Uint8Array; addresses: Record<string, number> } {
  const v2 = opts.superblock === 2;
  const base = v2 ? 48 : 96;
  const w = new W().zeros(base);
  const addresses: Record<string, number> = {};
  const at = (): number => w.n;

  const header = (msgs: { type: number; data: Uint8Array }[]): number => {
    const a = at();
    if (v2) {
      const body = new W();
      for (const m of msgs) body.u8(m.type).u16(m.data.length).u8(0).bytes(m.data);
      w.bytes('OHDR').u8(2).u8(0x02).u32(body.n).bytes(body.out()).u32(0);
    } else {
      const body = new W();
      for (const m of msgs) {
        const d = new W().bytes(m.data).pad8().out();
        body.u16(m.type).u16(d.length).u8(0).zeros(3).bytes(d);
      }
      w.u8(1).u8(0).u16(msgs.length).u32(1).u32(body.n).zeros(4).bytes(body.out());
    }
    w.pad8();
    return a;
  };

  const writeDataset = (d: H5Dataset): number => {
    const es = SIZE[d.dtype];
    const n = prod(d.shape);
    let data = d.data ?? new Uint8Array(d.at !== undefined ? 0 : n * es);
    if (d.bigEndian) {
      data = data.slice();
      const unit = d.dtype === 'c64' ? 4 : es;
      for (let i = 0; i < data.length; i += unit) data.subarray(i, i + unit).reverse();
    }
    const msgs = [
      { type: 0x01, data: dataspace(d.shape, v2 ? 2 : 1) },
      { type: 0x03, data: datatype(d.dtype, !!d.bigEndian) },
    ];
    if (d.at !== undefined) {
      msgs.push({ type: 0x08, data: new W().u8(3).u8(1).u64(d.at).u64(n * es).out() });
    } else if (!d.chunks) {
      const addr = at();
      w.bytes(data).pad8();
      msgs.push({ type: 0x08, data: new W().u8(3).u8(1).u64(addr).u64(n * es).out() });
    } else {
      const chunk = d.chunks;
      const grid = d.shape.map((s, i) => Math.ceil(s / chunk[i]!));
      const entries: { origin: number[]; addr: number; size: number }[] = [];
      for (let k = 0; k < prod(grid); k++) {
        let rem = k;
        const origin = new Array<number>(grid.length);
        for (let i = grid.length - 1; i >= 0; i--) {
          origin[i] = (rem % grid[i]!) * chunk[i]!;
          rem = Math.floor(rem / grid[i]!);
        }
        let c = chunkBytes(data, d.shape, chunk, origin, es);
        for (const f of d.filters ?? []) {
          if (f === 'shuffle') c = shuffle(c, es);
          else if (f === 'deflate') c = zlibSync(c);
          else c = new W().bytes(c).u32(0).out();
        }
        const addr = at();
        w.bytes(c).pad8();
        entries.push({ origin, addr, size: c.length });
      }
      const btree = at();
      w.bytes('TREE').u8(1).u8(0).u16(entries.length).u64(UNDEF).u64(UNDEF);
      const key = (size: number, origin: number[]): void => {
        w.u32(size).u32(0);
        for (const o of origin) w.u64(o);
        w.u64(0);
      };
      for (const e of entries) {
        key(e.size, e.origin);
        w.u64(e.addr);
      }
      key(0, d.shape);
      w.pad8();
      const layout = new W().u8(3).u8(2).u8(chunk.length + 1).u64(btree);
      for (const c of chunk) layout.u32(c);
      layout.u32(es);
      msgs.push({ type: 0x08, data: layout.out() });
      if (d.filters?.length) msgs.push({ type: 0x0b, data: filterPipeline(d.filters, es, v2 ? 2 : 1) });
    }
    return header(msgs);
  };

  const attrMessage = (name: string, value: number | string | string[]): Uint8Array => {
    const nm = new TextEncoder().encode(name + '\0');
    let dt = datatype('i64', false);
    let ds = dataspace([], v2 ? 2 : 1);
    let raw = new W().u64(typeof value === 'number' ? value : 0).out();
    if (typeof value !== 'number') {
      const items = (Array.isArray(value) ? value : [value]).map((x) => new TextEncoder().encode(x));
      const size = Math.max(1, ...items.map((x) => x.length));
      dt = new W().u8(0x13).u8(0).u16(0).u32(size).out();
      if (Array.isArray(value)) ds = dataspace([items.length], v2 ? 2 : 1);
      raw = new Uint8Array(size * items.length);
      items.forEach((x, i) => raw.set(x, i * size));
    }
    const m = new W();
    if (v2) m.u8(3).u8(0).u16(nm.length).u16(dt.length).u16(ds.length).u8(0).bytes(nm).bytes(dt).bytes(ds);
    else m.u8(1).u8(0).u16(nm.length).u16(dt.length).u16(ds.length).bytes(nm).pad8().bytes(dt).pad8().bytes(ds).pad8();
    return m.bytes(raw).out();
  };

  /** Fractal heap (root direct block) + v2 B-tree leaf over `objects`; returns [heap, btree]. */
  const denseStore = (objects: Uint8Array[], recordType: 5 | 8): [number, number] => {
    const idLen = recordType === 5 ? 7 : 8;
    const head = 4 + 1 + 8 + 4;
    let block = 512;
    const total = head + objects.reduce((a, o) => a + o.length, 0);
    while (block < total) block *= 2;
    const heap = at();
    const rootAt = heap + 200; // the header fits in 200 bytes
    w.bytes('FRHP').u8(0).u16(idLen).u16(0).u8(0).u32(4096);
    w.u64(0).u64(UNDEF).u64(0).u64(UNDEF).u64(block).u64(block).u64(total).u64(objects.length);
    w.u64(0).u64(0).u64(0).u64(0);
    w.u16(4).u64(block).u64(65536).u16(32).u16(1).u64(rootAt).u16(0).u32(0);
    w.zeros(rootAt - at());
    w.bytes('FHDB').u8(0).u64(heap).u32(0);
    const ids: Uint8Array[] = [];
    let off = head;
    for (const o of objects) {
      ids.push(new W().u8(0).u32(off).u16(o.length).zeros(idLen - 7).out());
      w.bytes(o);
      off += o.length;
    }
    w.zeros(block - (off));
    const leaf = at();
    const recSize = recordType === 5 ? 11 : 17;
    const nodeSize = Math.max(512, 10 + ids.length * recSize);
    w.bytes('BTLF').u8(0).u8(recordType);
    ids.forEach((id, i) => {
      if (recordType === 5) w.u32(i).bytes(id);
      else w.bytes(id).u8(0).u32(i).u32(i);
    });
    w.u32(0).zeros(nodeSize - 10 - ids.length * recSize);
    const bt = at();
    w.bytes('BTHD').u8(0).u8(recordType).u32(nodeSize).u16(recSize).u16(0).u8(100).u8(40).u64(leaf).u16(ids.length).u64(ids.length).u32(0);
    w.pad8();
    return [heap, bt];
  };

  const writeGroup = (g: H5Group, path: string): number => {
    const kids: [string, number][] = [];
    for (const [name, m] of Object.entries(g.members)) {
      const p = path ? `${path}/${name}` : name;
      const a = 'members' in m ? writeGroup(m, p) : writeDataset(m);
      addresses[p] = a;
      kids.push([name, a]);
    }
    const msgs: { type: number; data: Uint8Array }[] = [];
    const attrs = Object.entries(g.attrs ?? {}).map(([k, v]) => attrMessage(k, v));
    if (v2) {
      const links = kids.map(([name, a]) => new W().u8(1).u8(0).u8(name.length).bytes(name).u64(a).out());
      if (g.dense) {
        const [heap, bt] = denseStore(links, 5);
        msgs.push({ type: 0x02, data: new W().u8(0).u8(0).u64(heap).u64(bt).out() });
        msgs.push({ type: 0x0a, data: new W().u8(0).u8(0).out() });
        if (attrs.length) {
          const [aheap, abt] = denseStore(attrs, 8);
          msgs.push({ type: 0x15, data: new W().u8(0).u8(0).u64(aheap).u64(abt).out() });
        }
      } else {
        msgs.push({ type: 0x02, data: new W().u8(0).u8(0).u64(UNDEF).u64(UNDEF).out() });
        msgs.push({ type: 0x0a, data: new W().u8(0).u8(0).out() });
        for (const l of links) msgs.push({ type: 0x06, data: l });
        for (const a of attrs) msgs.push({ type: 0x0c, data: a });
      }
    } else {
      const names = new W().u8(0).pad8();
      const offs = kids.map(([name]) => {
        const o = names.n;
        names.bytes(name + '\0').pad8();
        return o;
      });
      const heapData = at();
      w.bytes(names.out());
      const heap = at();
      w.bytes('HEAP').u8(0).zeros(3).u64(names.n).u64(UNDEF).u64(heapData);
      const snod = at();
      w.bytes('SNOD').u8(1).u8(0).u16(kids.length);
      kids.forEach(([, a], i) => w.u64(offs[i]!).u64(a).u32(0).u32(0).zeros(16));
      w.pad8();
      const btree = at();
      w.bytes('TREE').u8(0).u8(0).u16(1).u64(UNDEF).u64(UNDEF).u64(0).u64(snod).u64(offs[offs.length - 1] ?? 0);
      w.pad8();
      msgs.push({ type: 0x11, data: new W().u64(btree).u64(heap).out() });
      for (const a of attrs) msgs.push({ type: 0x0c, data: a });
    }
    return header(msgs);
  };

  const rootAddr = writeGroup(root, '');
  const b = w.out();
  const sb = new W().bytes(new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
  if (v2) sb.u8(2).u8(8).u8(8).u8(0).u64(0).u64(UNDEF).u64(b.length).u64(rootAddr).u32(0);
  else sb.u8(0).u8(0).u8(0).u8(0).u8(0).u8(8).u8(8).u8(0).u16(4).u16(16).u32(0).u64(0).u64(UNDEF).u64(b.length).u64(UNDEF).u64(0).u64(rootAddr).u32(0).u32(0).zeros(16);
  b.set(sb.out());
  return { bytes: b, addresses };
}
