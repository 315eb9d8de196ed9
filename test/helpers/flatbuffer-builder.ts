/**
 * A tiny FlatBuffers writer for tests (no schema compiler): tables, strings, scalar vectors, vectors
 * of tables/strings, raw byte vectors. Objects are laid out after the header in breadth-first order,
 * so every uoffset points forward, as the format requires; vtables sit just before their tables.
 * Tests can lie by patching the returned bytes (`positions` gives where each node landed).
 */

export type Scalar = 'u8' | 'i8' | 'bool' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'u64' | 'i64' | 'f64';
const SIZE: Record<Scalar, number> = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8 };

export type Field = { scalar: Scalar; value: number | bigint } | { ref: FbNode } | undefined;

export type FbNode =
  | { kind: 'table'; fields: Field[] }
  | { kind: 'string'; value: string }
  | { kind: 'scalars'; scalar: Scalar; values: (number | bigint)[] }
  | { kind: 'refs'; items: FbNode[] }
  | { kind: 'bytes'; value: Uint8Array };

export const table = (...fields: Field[]): FbNode => ({ kind: 'table', fields });
export const str = (value: string): FbNode => ({ kind: 'string', value });
export const scalars = (scalar: Scalar, values: (number | bigint)[]): FbNode => ({ kind: 'scalars', scalar, values });
export const refs = (items: FbNode[]): FbNode => ({ kind: 'refs', items });
export const bytes = (value: Uint8Array): FbNode => ({ kind: 'bytes', value });
export const s = (scalar: Scalar, value: number | bigint): Field => ({ scalar, value });
export const ref = (node: FbNode): Field => ({ ref: node });

function writeScalar(dv: DataView, at: number, k: Scalar, v: number | bigint): void {
  switch (k) {
    case 'u8': case 'bool': dv.setUint8(at, Number(v)); break;
    case 'i8': dv.setInt8(at, Number(v)); break;
    case 'u16': dv.setUint16(at, Number(v), true); break;
    case 'i16': dv.setInt16(at, Number(v), true); break;
    case 'u32': dv.setUint32(at, Number(v), true); break;
    case 'i32': dv.setInt32(at, Number(v), true); break;
    case 'f32': dv.setFloat32(at, Number(v), true); break;
    case 'f64': dv.setFloat64(at, Number(v), true); break;
    case 'u64': dv.setBigUint64(at, BigInt(v), true); break;
    case 'i64': dv.setBigInt64(at, BigInt(v), true); break;
  }
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Inline layout of a table: field offsets from the table start, and its size. */
function tableLayout(fields: Field[]): { offsets: number[]; size: number } {
  let p = 4;
  const offsets: number[] = [];
  for (const f of fields) {
    if (!f) {
      offsets.push(0);
      continue;
    }
    const n = 'ref' in f ? 4 : SIZE[f.scalar];
    p = align(p, n);
    offsets.push(p);
    p += n;
  }
  return { offsets, size: align(Math.max(p, 4), 4) };
}

/**
 * Serialize `root` with the 4-byte `ident`; `headerBytes` (e.g. an ExecuTorch extended header)
 * are written from offset 8, before any object.
 */
export function buildFlatbuffer(root: FbNode, ident = '', headerBytes?: Uint8Array): { bytes: Uint8Array; positions: Map<FbNode, number> } {
  // Breadth-first order: every child after its parent.
  const order: FbNode[] = [];
  const seen = new Set<FbNode>();
  const queue: FbNode[] = [root];
  while (queue.length) {
    const n = queue.shift()!;
    if (seen.has(n)) continue;
    seen.add(n);
    order.push(n);
    if (n.kind === 'table') for (const f of n.fields) if (f && 'ref' in f) queue.push(f.ref);
    if (n.kind === 'refs') queue.push(...n.items);
  }
  const positions = new Map<FbNode, number>();
  const vtables = new Map<FbNode, number>();
  let p = 8 + (headerBytes?.length ?? 0);
  for (const n of order) {
    if (n.kind === 'table') {
      const { offsets } = tableLayout(n.fields);
      const vtLen = 4 + 2 * offsets.length;
      p = align(p, 2);
      vtables.set(n, p);
      p += vtLen;
      p = align(p, 8);
      positions.set(n, p);
      p += tableLayout(n.fields).size;
    } else if (n.kind === 'scalars') {
      const es = SIZE[n.scalar];
      p = align(p + 4, Math.max(es, 4)) - 4;
      positions.set(n, p);
      p += 4 + es * n.values.length;
    } else {
      p = align(p, 4);
      positions.set(n, p);
      const len = n.kind === 'string' ? Buffer.byteLength(n.value) + 1 : n.kind === 'bytes' ? n.value.length : 4 * n.items.length;
      p += 4 + len;
    }
  }
  const out = new Uint8Array(align(p, 8));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, positions.get(root)!, true);
  for (let i = 0; i < 4 && i < ident.length; i++) out[4 + i] = ident.charCodeAt(i);
  if (headerBytes) out.set(headerBytes, 8);
  for (const n of order) {
    const at = positions.get(n)!;
    if (n.kind === 'table') {
      const { offsets, size } = tableLayout(n.fields);
      const vt = vtables.get(n)!;
      dv.setUint16(vt, 4 + 2 * offsets.length, true);
      dv.setUint16(vt + 2, size, true);
      offsets.forEach((o, i) => dv.setUint16(vt + 4 + 2 * i, o, true));
      dv.setInt32(at, at - vt, true);
      n.fields.forEach((f, i) => {
        if (!f) return;
        const fa = at + offsets[i]!;
        if ('ref' in f) dv.setUint32(fa, positions.get(f.ref)! - fa, true);
        else writeScalar(dv, fa, f.scalar, f.value);
      });
    } else if (n.kind === 'string') {
      const b = Buffer.from(n.value, 'utf8');
      dv.setUint32(at, b.length, true);
      out.set(b, at + 4);
    } else if (n.kind === 'bytes') {
      dv.setUint32(at, n.value.length, true);
      out.set(n.value, at + 4);
    } else if (n.kind === 'scalars') {
      dv.setUint32(at, n.values.length, true);
      n.values.forEach((v, i) => writeScalar(dv, at + 4 + SIZE[n.scalar] * i, n.scalar, v));
    } else {
      dv.setUint32(at, n.items.length, true);
      n.items.forEach((it, i) => dv.setUint32(at + 4 + 4 * i, positions.get(it)! - (at + 4 + 4 * i), true));
    }
  }
  return { bytes: out, positions };
}
