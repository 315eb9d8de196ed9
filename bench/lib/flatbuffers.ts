/**
 * A minimal FlatBuffers writer (https://flatbuffers.dev/internals/) for synthetic models: tables,
 * vectors and strings are described as a tree and laid out front to back (every child after its
 * parent, so every uoffset is positive), each value aligned to its size from the buffer start, as
 * the FlatBuffers verifier requires. Unions are two fields (type u8, then the table).
 */

export type ScalarType = 'u8' | 'i8' | 'bool' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'f32' | 'f64';
export interface FbScalar {
  kind: 'scalar';
  t: ScalarType;
  v: number;
}
export interface FbTable {
  kind: 'table';
  fields: (FbScalar | FbNode | undefined)[];
}
export interface FbString {
  kind: 'string';
  s: string;
}
export interface FbScalarVector {
  kind: 'svector';
  t: ScalarType;
  items: number[];
}
export interface FbNodeVector {
  kind: 'nvector';
  items: FbNode[];
}
export type FbNode = FbTable | FbString | FbScalarVector | FbNodeVector;

const SIZE: Record<ScalarType, number> = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8, f32: 4, f64: 8 };

export const fb = {
  table: (...fields: (FbScalar | FbNode | undefined)[]): FbTable => ({ kind: 'table', fields }),
  str: (s: string): FbString => ({ kind: 'string', s }),
  vec: (t: ScalarType, items: number[]): FbScalarVector => ({ kind: 'svector', t, items }),
  vecOf: (items: FbNode[]): FbNodeVector => ({ kind: 'nvector', items }),
  u8: (v: number): FbScalar => ({ kind: 'scalar', t: 'u8', v }),
  i8: (v: number): FbScalar => ({ kind: 'scalar', t: 'i8', v }),
  bool: (v: boolean): FbScalar => ({ kind: 'scalar', t: 'bool', v: v ? 1 : 0 }),
  u32: (v: number): FbScalar => ({ kind: 'scalar', t: 'u32', v }),
  i32: (v: number): FbScalar => ({ kind: 'scalar', t: 'i32', v }),
  u64: (v: number): FbScalar => ({ kind: 'scalar', t: 'u64', v }),
  i64: (v: number): FbScalar => ({ kind: 'scalar', t: 'i64', v }),
};

class Buf {
  bytes = new Uint8Array(1 << 16);
  dv = new DataView(this.bytes.buffer);
  end = 0;
  room(n: number): void {
    if (this.end + n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.end + n));
    next.set(this.bytes);
    this.bytes = next;
    this.dv = new DataView(next.buffer);
  }
  align(a: number, extra = 0): void {
    const pad = (a - ((this.end + extra) % a)) % a;
    this.room(pad);
    this.end += pad;
  }
  scalar(t: ScalarType, v: number, at: number): void {
    const d = this.dv;
    switch (t) {
      case 'u8': case 'bool': d.setUint8(at, v); break;
      case 'i8': d.setInt8(at, v); break;
      case 'u16': d.setUint16(at, v, true); break;
      case 'i16': d.setInt16(at, v, true); break;
      case 'u32': d.setUint32(at, v >>> 0, true); break;
      case 'i32': d.setInt32(at, v, true); break;
      case 'u64': d.setBigUint64(at, BigInt(v), true); break;
      case 'i64': d.setBigInt64(at, BigInt(v), true); break;
      case 'f32': d.setFloat32(at, v, true); break;
      case 'f64': d.setFloat64(at, v, true); break;
    }
  }
}

/**
 * Serialise `root` with a file identifier; `reserve` bytes after the identifier are left for a
 * header the caller fills (ExecuTorch's extended header).
 */
export function finishFlatbuffer(root: FbTable, identifier: string, reserve = 0): Uint8Array {
  const b = new Buf();
  b.room(8 + reserve);
  b.end = 8 + reserve;
  new TextEncoder().encodeInto(identifier, b.bytes.subarray(4, 8));
  const queue: [number, FbNode][] = [[0, root]]; // [position of the uoffset to patch, node]
  for (let q = 0; q < queue.length; q++) {
    const [ref, node] = queue[q]!;
    const at = place(b, node, queue);
    b.dv.setUint32(ref, at - ref, true);
  }
  return b.bytes.slice(0, b.end);
}

function place(b: Buf, node: FbNode, queue: [number, FbNode][]): number {
  switch (node.kind) {
    case 'string': {
      const s = new TextEncoder().encode(node.s);
      b.align(4);
      const at = b.end;
      b.room(4 + s.length + 1);
      b.dv.setUint32(at, s.length, true);
      b.bytes.set(s, at + 4);
      b.bytes[at + 4 + s.length] = 0;
      b.end += 4 + s.length + 1;
      return at;
    }
    case 'svector': {
      const size = SIZE[node.t];
      b.align(Math.max(4, size), 4);
      const at = b.end;
      b.room(4 + size * node.items.length);
      b.dv.setUint32(at, node.items.length, true);
      node.items.forEach((v, i) => b.scalar(node.t, v, at + 4 + i * size));
      b.end += 4 + size * node.items.length;
      return at;
    }
    case 'nvector': {
      b.align(4);
      const at = b.end;
      b.room(4 + 4 * node.items.length);
      b.dv.setUint32(at, node.items.length, true);
      b.end += 4 + 4 * node.items.length;
      node.items.forEach((n, i) => queue.push([at + 4 + 4 * i, n]));
      return at;
    }
    case 'table': {
      const n = node.fields.length;
      b.align(2);
      const vt = b.end;
      b.room(4 + 2 * n);
      b.end += 4 + 2 * n;
      const maxAlign = Math.max(4, ...node.fields.map((f) => (f?.kind === 'scalar' ? SIZE[f.t] : 4)));
      b.align(maxAlign);
      const tbl = b.end;
      b.room(4);
      b.dv.setInt32(tbl, tbl - vt, true);
      b.end += 4;
      node.fields.forEach((f, i) => {
        let slot = 0;
        if (f?.kind === 'scalar') {
          const size = SIZE[f.t];
          b.align(size);
          b.room(size);
          slot = b.end - tbl;
          b.scalar(f.t, f.v, b.end);
          b.end += size;
        } else if (f) {
          b.align(4);
          b.room(4);
          slot = b.end - tbl;
          queue.push([b.end, f]);
          b.end += 4;
        }
        b.dv.setUint16(vt + 4 + 2 * i, slot, true);
      });
      b.dv.setUint16(vt, 4 + 2 * n, true);
      b.dv.setUint16(vt + 2, b.end - tbl, true);
      return tbl;
    }
  }
}
