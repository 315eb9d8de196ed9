/**
 * Tiny writers for TensorFlow test fixtures built in code: a raw-snappy compressor, LevelDB-format
 * tables (TF checkpoint indexes), BundleEntryProto / BundleHeaderProto / SavedTensorSlices, and
 * SavedModel / MetaGraphDef / SignatureDef messages. Enough for tests, not a general writer.
 */
import { pb } from '../../src/codecs/protobuf.js';

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (k: Uint8Array | string) => (typeof k === 'string' ? enc(k) : k);

/** Raw snappy: greedy 4-byte matches as 2-byte-offset copies, the rest as literals. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const out: number[] = [...pb.rawVarint(input.length)];
  const literal = (from: number, to: number) => {
    for (let s = from; s < to; ) {
      const len = Math.min(to - s, 65536);
      if (len <= 60) out.push((len - 1) << 2);
      else if (len <= 256) out.push(60 << 2, len - 1);
      else out.push(61 << 2, (len - 1) & 0xff, (len - 1) >> 8);
      for (let i = 0; i < len; i++) out.push(input[s + i]!);
      s += len;
    }
  };
  const table = new Map<number, number>();
  let i = 0;
  let lit = 0;
  while (i + 4 <= input.length) {
    const key = input[i]! | (input[i + 1]! << 8) | (input[i + 2]! << 16) | (input[i + 3]! << 24);
    const cand = table.get(key);
    table.set(key, i);
    if (cand !== undefined && i - cand <= 65535) {
      let len = 4;
      while (i + len < input.length && input[cand + len] === input[i + len] && len < 64) len++;
      literal(lit, i);
      out.push(((len - 1) << 2) | 2, (i - cand) & 0xff, (i - cand) >> 8);
      i += len;
      lit = i;
      continue;
    }
    i++;
  }
  literal(lit, input.length);
  return new Uint8Array(out);
}

function block(entries: [Uint8Array, Uint8Array][], restartInterval = 4): Uint8Array {
  const parts: Uint8Array[] = [];
  const restarts: number[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  let size = 0;
  entries.forEach(([k, v], i) => {
    let shared = 0;
    if (i % restartInterval === 0) restarts.push(size);
    else while (shared < prev.length && shared < k.length && prev[shared] === k[shared]) shared++;
    const e = pb.concat(pb.rawVarint(shared), pb.rawVarint(k.length - shared), pb.rawVarint(v.length), k.subarray(shared), v);
    parts.push(e);
    size += e.length;
    prev = k;
  });
  if (restarts.length === 0) restarts.push(0);
  const tail = new Uint8Array(4 * restarts.length + 4);
  const dv = new DataView(tail.buffer);
  restarts.forEach((r, i) => dv.setUint32(4 * i, r, true));
  dv.setUint32(4 * restarts.length, restarts.length, true);
  return pb.concat(...parts, tail);
}

/** A LevelDB-format table of sorted (key, value) pairs; `perBlock` entries per data block. */
export function buildTable(entries: [Uint8Array | string, Uint8Array][], opts: { snappy?: boolean; perBlock?: number } = {}): Uint8Array {
  const all = entries.map(([k, v]) => [bytes(k), v] as [Uint8Array, Uint8Array]);
  const per = opts.perBlock ?? 1000;
  const out: Uint8Array[] = [];
  let offset = 0;
  const write = (contents: Uint8Array, compress: boolean) => {
    const stored = compress ? snappyCompress(contents) : contents;
    const handle = { offset, size: stored.length };
    out.push(stored, new Uint8Array([compress ? 1 : 0, 0, 0, 0, 0]));
    offset += stored.length + 5;
    return handle;
  };
  const index: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < all.length || i === 0; i += per) {
    const chunk = all.slice(i, i + per);
    const h = write(block(chunk), opts.snappy ?? false);
    index.push([chunk.at(-1)?.[0] ?? new Uint8Array(0), pb.concat(pb.rawVarint(h.offset), pb.rawVarint(h.size))]);
    if (all.length === 0) break;
  }
  const meta = write(block([]), false);
  const idx = write(block(index, 1), false);
  const footer = new Uint8Array(48);
  footer.set(pb.concat(pb.rawVarint(meta.offset), pb.rawVarint(meta.size), pb.rawVarint(idx.offset), pb.rawVarint(idx.size)));
  footer.set([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb], 40);
  return pb.concat(...out, footer);
}

/** TensorShapeProto: -1 for an unknown dim; `null` = unknown rank. */
export const shapeProto = (dims: number[] | null) => (dims === null ? pb.varint(3, 1) : pb.concat(...dims.map((d) => pb.message(2, pb.varint(1, d)))));

export const bundleHeader = (numShards = 1, bigEndian = false) => pb.concat(pb.varint(1, numShards), pb.varint(2, bigEndian ? 1 : 0), pb.message(3, pb.varint(1, 1)));

export const bundleEntry = (e: { dtype: number; shape: number[] | null; shard?: number; offset: number; size: number; slices?: number }) =>
  pb.concat(pb.varint(1, e.dtype), pb.bytes(2, shapeProto(e.shape)), ...(e.shard ? [pb.varint(3, e.shard)] : []), pb.varint(4, e.offset), pb.varint(5, e.size), pb.fixed32(6, 0x1234), ...Array.from({ length: e.slices ?? 0 }, () => pb.message(7, pb.message(1, pb.varint(1, 0)))));

/** A V2 bundle index: header entry "" then the entries sorted by key. */
export function bundleIndex(entries: Record<string, Parameters<typeof bundleEntry>[0]>, opts: { snappy?: boolean; numShards?: number; bigEndian?: boolean; perBlock?: number } = {}): Uint8Array {
  const sorted = Object.keys(entries).sort();
  return buildTable([['', bundleHeader(opts.numShards, opts.bigEndian)], ...sorted.map((k) => [k, bundleEntry(entries[k]!)] as [string, Uint8Array])], opts);
}

/** The "" entry of a V1 checkpoint: SavedTensorSlices { meta { tensor { name, shape, type } } }. */
export const savedTensorSlices = (tensors: { name: string; dtype: number; shape: number[] }[]) =>
  pb.message(1, ...tensors.map((t) => pb.message(1, pb.string(1, t.name), pb.bytes(2, shapeProto(t.shape)), pb.varint(3, t.dtype), pb.message(4))), pb.message(2, pb.varint(1, 1)));

/** NodeDef { name = 1, op = 2, attr = 5 }. */
export const nodeDef = (name: string, op: string, ...attrs: Uint8Array[]) => pb.concat(pb.string(1, name), pb.string(2, op), ...attrs);

/** A Const node with attr "value" = TensorProto { dtype, tensor_shape, tensor_content }. */
export const constNode = (name: string, dtype: number, shape: number[], content: Uint8Array) =>
  nodeDef(name, 'Const', pb.message(5, pb.string(1, 'dtype'), pb.message(2, pb.varint(6, dtype))), pb.message(5, pb.string(1, 'value'), pb.message(2, pb.message(8, pb.varint(1, dtype), pb.bytes(2, shapeProto(shape)), pb.bytes(4, content)))));

export const graphDef = (nodes: Uint8Array[], functions: { name: string; nodes: Uint8Array[] }[] = [], producer = 1087) =>
  pb.concat(...nodes.map((n) => pb.bytes(1, n)), ...(functions.length ? [pb.message(2, ...functions.map((f) => pb.message(1, pb.message(1, pb.string(1, f.name)), ...f.nodes.map((n) => pb.bytes(3, n)))))] : []), pb.message(4, pb.varint(1, producer)));

/** map<string, TensorInfo> entry { key, TensorInfo { name = 1, dtype = 2, tensor_shape = 3 } }. */
const tensorInfo = (key: string, name: string, dtype: number, shape: number[] | null) => pb.concat(pb.string(1, key), pb.message(2, pb.string(1, name), pb.varint(2, dtype), pb.bytes(3, shapeProto(shape))));

export interface SigSpec {
  key: string;
  method?: string;
  inputs?: [string, string, number, number[] | null][];
  outputs?: [string, string, number, number[] | null][];
}

export const signatureEntry = (s: SigSpec) =>
  pb.message(5, pb.string(1, s.key), pb.message(2, ...(s.inputs ?? []).map((i) => pb.bytes(1, tensorInfo(...i))), ...(s.outputs ?? []).map((o) => pb.bytes(2, tensorInfo(...o))), pb.string(3, s.method ?? 'tensorflow/serving/predict')));

export function metaGraph(o: { tags?: string[]; tf?: string; git?: string; graph?: Uint8Array; signatures?: SigSpec[]; collections?: string[]; assets?: string[]; objectGraph?: boolean }): Uint8Array {
  return pb.concat(
    pb.message(1, pb.string(1, ''), pb.message(2, pb.message(1, pb.string(1, 'Const'))), ...(o.tags ?? ['serve']).map((t) => pb.string(4, t)), pb.string(5, o.tf ?? '2.14.0'), pb.string(6, o.git ?? 'unknown')),
    pb.bytes(2, o.graph ?? graphDef([nodeDef('x', 'Placeholder')])),
    pb.message(3, pb.string(1, 'save/Const:0')),
    ...(o.collections ?? []).map((c) => pb.message(4, pb.string(1, c), pb.message(2))),
    ...(o.signatures ?? []).map(signatureEntry),
    ...(o.assets ?? []).map((a) => pb.message(6, pb.message(1, pb.string(1, `asset_${a}:0`)), pb.string(2, a))),
    ...(o.objectGraph ? [pb.message(7, pb.message(1, pb.message(1)), pb.message(1, pb.message(1)), pb.message(2, pb.string(1, 'f'), pb.message(2)))] : []),
  );
}

export const savedModel = (...metas: Uint8Array[]) => pb.concat(pb.varint(1, 1), ...metas.map((m) => pb.bytes(2, m)));
