/**
 * Byte builders for the PyTorch / TorchScript inspect tests: tensor-rebuild pickles (as torch.save
 * writes them), torch zip archives, legacy streams, and a sparse multi-GB zip whose payloads are
 * never written. Named *.test.ts so the build leaves it out; it holds no tests itself.
 */
import { PickleBuilder, pickle } from '../../../test/helpers/pickle-builder.js';
import { Bytes } from '../../../test/helpers/zip-writer.js';
import type { SparseSource } from '../../../test/helpers/sparse-source.js';

export { pickle, PickleBuilder };

/** Push an integer of any size (BININT1/BININT, LONG1 past 2^31). */
export function num(b: PickleBuilder, n: number): PickleBuilder {
  if (n >= 0 && n < 2 ** 31) return b.int(n);
  const le = new Bytes().u64(n).build();
  return b.raw(0x8a, 8, ...le);
}

export interface TensorSpec {
  key: string;
  storage?: string;
  /** Elements in the storage (defaults to the tensor's). */
  numel?: number;
  offset?: number;
  shape: number[];
  stride?: number[];
  location?: string;
}

const contiguous = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/** The persistent id tuple ('storage', torch.<Storage>, key, location, numel), BINPERSID. */
export function persid(b: PickleBuilder, t: TensorSpec): PickleBuilder {
  b.mark().str('storage').global('torch', t.storage ?? 'FloatStorage').str(t.key).str(t.location ?? 'cpu');
  num(b, t.numel ?? t.shape.reduce((a, c) => a * c, 1));
  return b.tuple().binpersid();
}

function ints(b: PickleBuilder, xs: number[]): PickleBuilder {
  b.mark();
  for (const x of xs) num(b, x);
  return b.tuple();
}

/** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
export function tensor(b: PickleBuilder, t: TensorSpec): PickleBuilder {
  b.global('torch._utils', '_rebuild_tensor_v2').mark();
  persid(b, t);
  num(b, t.offset ?? 0);
  ints(b, t.shape);
  ints(b, t.stride ?? contiguous(t.shape));
  b.raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce();
  return b.tuple().reduce();
}

/** torch._utils._rebuild_parameter(tensor, True, OrderedDict()). */
export function parameter(b: PickleBuilder, t: TensorSpec): PickleBuilder {
  b.global('torch._utils', '_rebuild_parameter').mark();
  tensor(b, t);
  b.raw(0x88).global('collections', 'OrderedDict').emptyTuple().reduce();
  return b.tuple().reduce();
}

/** `OrderedDict()` filled by SETITEMS with (name, value) pairs pushed by `items`. */
export function orderedDict(b: PickleBuilder, items: (b: PickleBuilder) => void): PickleBuilder {
  b.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  items(b);
  return b.setitems();
}

/** A whole state_dict pickle: `{name: tensor}` as an OrderedDict. */
export function stateDictPickle(entries: [string, TensorSpec][]): Uint8Array {
  const b = pickle().proto(2);
  orderedDict(b, (x) => {
    for (const [n, t] of entries) tensor(x.str(n), t);
  });
  return b.stop().build_();
}

/** One member of a sparse zip: `data` is written, otherwise `size` zero bytes are implied. */
export interface SparseMember {
  name: string;
  data?: Uint8Array;
  size?: number;
}

/**
 * Lay out a stored zip64 archive over a SparseSource (local headers, central directory, end
 * records written; payloads of `size`-only members never exist). Returns each member's data offset.
 */
export function sparseZip(src: SparseSource, members: SparseMember[]): Map<string, number> {
  const enc = new TextEncoder();
  const at = new Map<string, number>();
  const central: Uint8Array[] = [];
  let pos = 0;
  for (const m of members) {
    const name = enc.encode(m.name);
    const size = m.data?.length ?? m.size ?? 0;
    const extra = new Bytes().u16(1).u16(16).u64(size).u64(size).build();
    const local = new Bytes().u32(0x04034b50).u16(45).u16(0x800).u16(0).u16(0).u16(0x21).u32(0).u32(0xffffffff).u32(0xffffffff).u16(name.length).u16(extra.length).bytes(name).bytes(extra).build();
    src.write(pos, local);
    const dataAt = pos + local.length;
    if (m.data) src.write(dataAt, m.data);
    at.set(m.name, dataAt);
    const cdExtra = new Bytes().u16(1).u16(24).u64(size).u64(size).u64(pos).build();
    central.push(
      new Bytes().u32(0x02014b50).u16(63).u16(45).u16(0x800).u16(0).u16(0).u16(0x21).u32(0).u32(0xffffffff).u32(0xffffffff)
        .u16(name.length).u16(cdExtra.length).u16(0).u16(0).u16(0).u32(0).u32(0xffffffff).bytes(name).bytes(cdExtra).build(),
    );
    pos = dataAt + size;
  }
  const cdLen = central.reduce((s, c) => s + c.length, 0);
  const tail = new Bytes();
  for (const c of central) tail.bytes(c);
  const eocd64 = pos + cdLen;
  tail.u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(members.length).u64(members.length).u64(cdLen).u64(pos);
  tail.u32(0x07064b50).u32(0).u64(eocd64).u32(1);
  tail.u32(0x06054b50).u16(0).u16(0).u16(0xffff).u16(0xffff).u32(0xffffffff).u32(0xffffffff).u16(0);
  const t = tail.build();
  if (pos + t.length !== src.size) throw new Error(`sparse zip needs a source of ${pos + t.length} bytes, got ${src.size}`);
  src.write(pos, t);
  return at;
}

/** Total bytes a sparse zip of these members occupies (to size the SparseSource). */
export function sparseZipSize(members: SparseMember[]): number {
  const enc = new TextEncoder();
  let n = 0;
  for (const m of members) {
    const name = enc.encode(m.name).length;
    n += 30 + name + 20 + (m.data?.length ?? m.size ?? 0) + 46 + name + 28;
  }
  return n + 56 + 20 + 22;
}
