/**
 * Writers for Caffe test files: binary NetParameter pieces (caffe.proto) and an HDF5 file laid out
 * like Net::ToHDF5 (superblock v0, version-1 object headers, old-style groups with symbol tables,
 * contiguous little-endian float datasets). Not used by the library itself.
 */
import { pb } from '../../codecs/protobuf.js';

const packed = (vs: number[]) => pb.concat(...vs.map((v) => pb.rawVarint(v)));

/** BlobProto: `shape` (BlobShape) or legacy num/channels/height/width; packed float `data` or `double_data`. */
export function blobProto(o: { shape?: number[]; legacy?: [number, number, number, number]; data?: number[]; doubles?: number[]; unpacked?: boolean }): Uint8Array {
  const parts: Uint8Array[] = [];
  if (o.legacy) o.legacy.forEach((v, i) => parts.push(pb.varint(i + 1, v)));
  if (o.data) {
    if (o.unpacked) parts.push(...o.data.map((v) => pb.float(5, v)));
    else parts.push(pb.bytes(5, new Uint8Array(new Float32Array(o.data).buffer)));
  }
  if (o.shape) parts.push(pb.message(7, pb.bytes(1, packed(o.shape))));
  if (o.doubles) parts.push(pb.bytes(8, new Uint8Array(new Float64Array(o.doubles).buffer)));
  return parts.length ? pb.concat(...parts) : new Uint8Array(0);
}

/** LayerParameter { name = 1; type = 2; bottom = 3; top = 4; blobs = 7 } as NetParameter field 100. */
export const layer = (name: string, type: string, bottoms: string[], tops: string[], blobs: Uint8Array[] = []) =>
  pb.message(100, pb.string(1, name), pb.string(2, type), ...bottoms.map((b) => pb.string(3, b)), ...tops.map((t) => pb.string(4, t)), ...blobs.map((b) => pb.message(7, b)));

/** V1LayerParameter { bottom = 2; top = 3; name = 4; type = 5; blobs = 6 } as NetParameter field 2. */
export const layerV1 = (name: string, type: number, bottoms: string[], tops: string[], blobs: Uint8Array[] = []) =>
  pb.message(2, ...bottoms.map((b) => pb.string(2, b)), ...tops.map((t) => pb.string(3, t)), pb.string(4, name), pb.varint(5, type), ...blobs.map((b) => pb.message(6, b)));

export const netHeader = (name: string, inputs: string[] = [], inputDims: number[] = []) =>
  pb.concat(pb.string(1, name), ...inputs.map((i) => pb.string(3, i)), ...inputDims.map((d) => pb.varint(4, d)));

/* ------------------------------------------------------------------------------------------------ */

class Buf {
  bytes: number[] = [];
  get at(): number {
    return this.bytes.length;
  }
  u8(...v: number[]): this {
    this.bytes.push(...v.map((x) => x & 0xff));
    return this;
  }
  u16(v: number): this {
    return this.u8(v, v >> 8);
  }
  u32(v: number): this {
    return this.u8(v, v >> 8, v >> 16, v >> 24);
  }
  u64(v: number): this {
    if (v < 0) return this.u8(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }
  pad8(): this {
    while (this.bytes.length % 8) this.bytes.push(0);
    return this;
  }
  set64(at: number, v: number): void {
    const b = new Buf().u64(v).bytes;
    for (let i = 0; i < 8; i++) this.bytes[at + i] = b[i]!;
  }
}

const msg = (type: number, body: number[]) => {
  const b = [...body];
  while (b.length % 8) b.push(0);
  return { type, body: b };
};

/** A version-1 object header holding `messages`; returns its address. */
function objectHeader(f: Buf, messages: { type: number; body: number[] }[]): number {
  f.pad8();
  const at = f.at;
  const size = messages.reduce((s, m) => s + 8 + m.body.length, 0);
  f.u8(1, 0).u16(messages.length).u32(1).u32(size).u32(0);
  for (const m of messages) f.u16(m.type).u16(m.body.length).u8(0, 0, 0, 0).u8(...m.body);
  return at;
}

export type H5Tree = { [name: string]: H5Tree | { shape: number[]; data: Float32Array | Float64Array } };
const isData = (v: H5Tree[string]): v is { shape: number[]; data: Float32Array | Float64Array } => 'shape' in v && 'data' in v;

/** An old-style HDF5 file with nested groups and float datasets (Caffe's Net::ToHDF5 layout). */
export function hdf5File(tree: H5Tree): Uint8Array {
  const f = new Buf();
  f.bytes = Array(96).fill(0);
  type G = { oh: number; btree?: number; heap?: number };
  const group = (node: H5Tree): Required<G> => {
    const names = Object.keys(node).sort();
    const children = names.map((n): G => {
      const v = node[n]!;
      if (!isData(v)) return group(v);
      f.pad8();
      const dataAt = f.at;
      f.u8(...new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
      const double = v.data instanceof Float64Array;
      const space = new Buf().u8(1, v.shape.length, 0, 0).u32(0);
      for (const d of v.shape) space.u64(d);
      const dtype = new Buf().u8(0x11).u8(0x20, double ? 63 : 31, 0).u32(double ? 8 : 4).u16(0).u16(double ? 64 : 32).u8(double ? 52 : 23, double ? 11 : 8, 0, double ? 52 : 23).u32(double ? 1023 : 127);
      const layout = new Buf().u8(3, 1).u64(dataAt).u64(v.data.byteLength);
      return { oh: objectHeader(f, [msg(0x01, space.bytes), msg(0x03, dtype.bytes), msg(0x08, layout.bytes)]) };
    });
    // local heap: offset 0 = "", then each name
    f.pad8();
    const heapData = new Buf().u64(0);
    const offsets = names.map((n) => {
      const at = heapData.at;
      heapData.u8(...new TextEncoder().encode(n), 0).pad8();
      return at;
    });
    const dataAt = f.at;
    f.u8(...heapData.bytes);
    const heapAt = f.at;
    f.u8(...new TextEncoder().encode('HEAP'), 0, 0, 0, 0).u64(heapData.at).u64(-1).u64(dataAt);
    const snodAt = f.at;
    f.u8(...new TextEncoder().encode('SNOD'), 1, 0).u16(names.length);
    names.forEach((_, i) => {
      const c = children[i]!;
      // groups cache their B-tree and heap in the entry's scratch pad (cache type 1), as the library writes them
      f.u64(offsets[i]!).u64(c.oh).u32(c.btree !== undefined ? 1 : 0).u32(0).u64(c.btree ?? 0).u64(c.heap ?? 0);
    });
    const btreeAt = f.at;
    f.u8(...new TextEncoder().encode('TREE'), 0, 0).u16(names.length ? 1 : 0).u64(-1).u64(-1);
    f.u64(0).u64(snodAt).u64(offsets[offsets.length - 1] ?? 0);
    return { oh: objectHeader(f, [msg(0x11, new Buf().u64(btreeAt).u64(heapAt).bytes)]), btree: btreeAt, heap: heapAt };
  };
  const root = group(tree);
  const sb = new Buf().u8(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0, 0, 8, 8, 0).u16(4).u16(16).u32(0);
  sb.u64(0).u64(-1).u64(f.at).u64(-1);
  sb.u64(0).u64(root.oh).u32(1).u32(0).u64(root.btree).u64(root.heap);
  f.bytes.splice(0, 96, ...sb.bytes);
  return Uint8Array.from(f.bytes);
}
