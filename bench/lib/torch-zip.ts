/**
 * A PyTorch checkpoint as torch.save writes it since 1.6: a zip64 archive of stored members,
 * `archive/data.pkl` (pickle protocol 2 of an OrderedDict of tensors whose storages are persistent
 * ids), `archive/byteorder`, `archive/data/0..N-1` (the storages, 64-byte aligned by an "FB"
 * padding extra field), `archive/version`. Storages are holes; every local header is real and sits
 * at its offset, the CRCs are right (crc32OfZeros), and the central directory is at the end.
 */
import { ByteWriter, crc32, crc32OfZeros } from './bytes.js';
import type { Piece } from './sparse.js';

/** Pickle protocol 2 of `OrderedDict(name -> _rebuild_tensor_v2(storage pid, 0, shape, stride, False, OrderedDict()))`. */
export function statePickle(tensors: { name: string; shape: number[] }[], storageType = 'HalfStorage'): Uint8Array {
  const w = new ByteWriter();
  const unicode = (s: string) => {
    const b = new TextEncoder().encode(s);
    w.u8(0x58).u32(b.length).bytes(b); // BINUNICODE
  };
  const int = (v: number) => {
    if (v >= 0 && v < 256) w.u8(0x4b).u8(v); // BININT1
    else w.u8(0x4a).i32(v); // BININT
  };
  const global = (mod: string, name: string) => w.u8(0x63).bytes(`${mod}\n${name}\n`); // GLOBAL
  let memo = 0;
  const put = () => w.u8(0x71).u8(memo++ & 0xff); // BINPUT
  w.u8(0x80).u8(2); // PROTO 2
  global('collections', 'OrderedDict');
  put();
  w.u8(0x29).u8(0x52); // EMPTY_TUPLE REDUCE
  put();
  w.u8(0x28); // MARK
  tensors.forEach((t, i) => {
    unicode(t.name);
    global('torch._utils', '_rebuild_tensor_v2');
    w.u8(0x28); // MARK (args)
    w.u8(0x28); // MARK (persistent id)
    unicode('storage');
    global('torch', storageType);
    unicode(String(i));
    unicode('cpu');
    int(t.shape.reduce((a, b) => a * b, 1));
    w.u8(0x74).u8(0x51); // TUPLE BINPERSID
    int(0); // storage_offset
    w.u8(0x28);
    for (const d of t.shape) int(d);
    w.u8(0x74); // size
    w.u8(0x28);
    let stride = 1;
    const strides: number[] = [];
    for (let k = t.shape.length - 1; k >= 0; k--) {
      strides.unshift(stride);
      stride *= t.shape[k]!;
    }
    for (const s of strides) int(s);
    w.u8(0x74); // stride
    w.u8(0x89); // NEWFALSE (requires_grad)
    global('collections', 'OrderedDict');
    w.u8(0x29).u8(0x52); // backward_hooks = OrderedDict()
    w.u8(0x74).u8(0x52); // TUPLE REDUCE
  });
  w.u8(0x75).u8(0x2e); // SETITEMS STOP
  return w.build();
}

interface Member {
  name: string;
  offset: number; // local header
  size: number;
  crc: number;
  bytes?: Uint8Array; // undefined: a hole
}

const ALIGN = 64;

function localHeader(name: string, size: number, crc: number, at: number): Uint8Array {
  const n = new TextEncoder().encode(name);
  const fixed = 30 + n.length + 20; // + zip64 extra
  const pad = (ALIGN - ((at + fixed + 4) % ALIGN)) % ALIGN; // + "FB" extra header (4) + padding
  const w = new ByteWriter()
    .u32(0x04034b50)
    .u16(45)
    .u16(0)
    .u16(0) // stored
    .u16(0)
    .u16(0x21)
    .u32(crc)
    .u32(0xffffffff)
    .u32(0xffffffff)
    .u16(n.length)
    .u16(20 + 4 + pad)
    .bytes(n)
    .u16(0x0001)
    .u16(16)
    .u64(size)
    .u64(size)
    .u16(0x4246) // "FB": torch's alignment padding
    .u16(pad)
    .zeros(pad);
  return w.build();
}

export function torchZipLayout(
  targetSize: number,
  tensorCount = 300,
): { size: number; pieces: Piece[]; tensors: number; pickleBytes: number; members: { name: string; dataOffset: number; size: number }[] } {
  const cols = 8192;
  const rows = Math.floor(targetSize / tensorCount / 2 / cols);
  const per = cols * rows * 2;
  const tensors = Array.from({ length: tensorCount }, (_, i) => ({
    name: `model.layers.${Math.floor(i / 3)}.${['self_attn.qkv_proj', 'mlp.up_proj', 'mlp.down_proj'][i % 3]}.weight`,
    shape: [rows, cols],
  }));
  const pkl = statePickle(tensors);
  const enc = new TextEncoder();
  const members: Member[] = [];
  const pieces: Piece[] = [];
  let pos = 0;
  const add = (name: string, size: number, bytes?: Uint8Array, crc?: number) => {
    const full = `archive/${name}`;
    const crcValue = crc ?? (bytes ? crc32(bytes) : crc32OfZeros(size));
    const lh = localHeader(full, size, crcValue, pos);
    pieces.push({ offset: pos, bytes: lh });
    members.push({ name: full, offset: pos, size, crc: crcValue, ...(bytes ? { bytes } : {}) });
    if (bytes) pieces.push({ offset: pos + lh.length, bytes });
    pos += lh.length + size;
  };
  add('data.pkl', pkl.length, pkl);
  add('byteorder', 6, enc.encode('little'));
  const zerosCrc = crc32OfZeros(per);
  for (let i = 0; i < tensorCount; i++) add(`data/${i}`, per, undefined, zerosCrc);
  add('version', 2, enc.encode('3\n'));
  add('.data/serialization_id', 20, enc.encode('13298428174829746512'.slice(0, 20)));

  const cdOffset = pos;
  const cd = new ByteWriter();
  for (const m of members) {
    const n = enc.encode(m.name);
    cd.u32(0x02014b50)
      .u16((3 << 8) | 45)
      .u16(45)
      .u16(0)
      .u16(0)
      .u16(0)
      .u16(0x21)
      .u32(m.crc)
      .u32(0xffffffff)
      .u32(0xffffffff)
      .u16(n.length)
      .u16(28)
      .u16(0)
      .u16(0)
      .u16(0)
      .u32((0o100644 << 16) >>> 0)
      .u32(0xffffffff)
      .bytes(n)
      .u16(0x0001)
      .u16(24)
      .u64(m.size)
      .u64(m.size)
      .u64(m.offset);
  }
  const cdBytes = cd.build();
  const eocd64At = cdOffset + cdBytes.length;
  const end = new ByteWriter()
    .bytes(cdBytes)
    .u32(0x06064b50)
    .u64(44)
    .u16((3 << 8) | 45)
    .u16(45)
    .u32(0)
    .u32(0)
    .u64(members.length)
    .u64(members.length)
    .u64(cdBytes.length)
    .u64(cdOffset)
    .u32(0x07064b50)
    .u32(0)
    .u64(eocd64At)
    .u32(1)
    .u32(0x06054b50)
    .u16(0)
    .u16(0)
    .u16(0xffff)
    .u16(0xffff)
    .u32(0xffffffff)
    .u32(0xffffffff)
    .u16(0)
    .build();
  pieces.push({ offset: cdOffset, bytes: end });
  return {
    size: cdOffset + end.length,
    pieces,
    tensors: tensorCount,
    pickleBytes: pkl.length,
    members: members.map((m) => ({ name: m.name, dataOffset: m.offset + localHeader(m.name, m.size, m.crc, m.offset).length, size: m.size })),
  };
}
