/**
 * A tiny 7z writer for tests (7zFormat.txt): one or more folders, each a single coder (Copy, or a
 * given coder id with properties and pre-encoded data), optional BCJ-style second coder, solid
 * folders with several files (sub-streams), empty files, plain or "encoded" (Copy-packed) headers.
 * It lets tests lie (declared sizes, CRCs) to build hostile archives.
 */
import { crc32 } from '../../src/codecs/crc32.js';

/** 7z variable-length UINT64. */
export function num(v: number): number[] {
  for (let i = 0; i < 8; i++) {
    if (v < 2 ** (7 * (i + 1))) {
      const high = Math.floor(v / 2 ** (8 * i));
      const out = [((0xff << (8 - i)) & 0xff) | high];
      for (let j = 0; j < i; j++) out.push(Math.floor(v / 2 ** (8 * j)) & 0xff);
      return out;
    }
  }
  const out = [0xff];
  for (let j = 0; j < 8; j++) out.push(Math.floor(v / 2 ** (8 * j)) & 0xff);
  return out;
}

export interface SzFolder {
  /** Files of this folder with their (unpacked) contents, in order. */
  files: { name: string; data: Uint8Array | string; unixMode?: number }[];
  /** Coder id as hex ('00' Copy by default) and properties; `packed` replaces the packed bytes. */
  coder?: string;
  props?: Uint8Array;
  packed?: Uint8Array;
  /** A second coder (filter) applied after the first when decoding, e.g. '03030103' (BCJ). */
  filter?: string;
  /** Declared unpack size override (to lie). */
  unpackSize?: number;
}

export interface SzOptions {
  emptyFiles?: string[];
  /** Pack the header with a Copy coder behind kEncodedHeader. */
  encodeHeader?: boolean;
  /** Corrupt the header CRC. */
  badHeaderCrc?: boolean;
}

const enc = (s: string | Uint8Array) => (typeof s === 'string' ? new TextEncoder().encode(s) : s);
const hex = (h: string) => h.match(/../g)!.map((x) => parseInt(x, 16));
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const u64 = (v: number) => [...u32(v >>> 0), ...u32(Math.floor(v / 2 ** 32))];

function utf16(names: string[]): number[] {
  const out: number[] = [];
  for (const n of names) {
    for (let i = 0; i < n.length; i++) out.push(n.charCodeAt(i) & 0xff, n.charCodeAt(i) >> 8);
    out.push(0, 0);
  }
  return out;
}

function coder(id: string, props?: Uint8Array): number[] {
  const idb = hex(id);
  return [idb.length | (props ? 0x20 : 0), ...idb, ...(props ? [...num(props.length), ...props] : [])];
}

function streamsInfo(packPos: number, folders: { packedSize: number; unpack: number[]; coders: number[][]; bindPairs: [number, number][] }[], sub?: { counts: number[]; sizes: number[][]; crcs: number[] }): number[] {
  const b: number[] = [0x06, ...num(packPos), ...num(folders.length), 0x09];
  for (const f of folders) b.push(...num(f.packedSize));
  b.push(0x00, 0x07, 0x0b, ...num(folders.length), 0x00);
  for (const f of folders) {
    b.push(...num(f.coders.length));
    for (const c of f.coders) b.push(...c);
    for (const [i, o] of f.bindPairs) b.push(...num(i), ...num(o));
  }
  b.push(0x0c);
  for (const f of folders) for (const u of f.unpack) b.push(...num(u));
  b.push(0x00);
  if (sub) {
    b.push(0x08, 0x0d, ...sub.counts.flatMap((c) => num(c)), 0x09);
    sub.sizes.forEach((s) => s.slice(0, -1).forEach((x) => b.push(...num(x))));
    b.push(0x0a, 0x01, ...sub.crcs.flatMap(u32), 0x00);
  }
  b.push(0x00);
  return b;
}

export function build7z(folders: SzFolder[], opts: SzOptions = {}): Uint8Array {
  const packs: Uint8Array[] = [];
  const infos: { packedSize: number; unpack: number[]; coders: number[][]; bindPairs: [number, number][] }[] = [];
  const names: string[] = [];
  const modes: (number | undefined)[] = [];
  const counts: number[] = [];
  const sizes: number[][] = [];
  const crcs: number[] = [];
  for (const f of folders) {
    const datas = f.files.map((x) => enc(x.data));
    const total = datas.reduce((s, d) => s + d.length, 0);
    const joined = new Uint8Array(total);
    let o = 0;
    for (const d of datas) {
      joined.set(d, o);
      o += d.length;
    }
    const packed = f.packed ?? joined;
    packs.push(packed);
    const size = f.unpackSize ?? total;
    const coders = [coder(f.coder ?? '00', f.props)];
    const unpack = [size];
    const bindPairs: [number, number][] = [];
    if (f.filter) {
      // coder 0 = filter (final output), coder 1 = codec reading the pack stream; filter input 0 ← codec output 1
      coders.unshift(coder(f.filter));
      unpack.unshift(size);
      bindPairs.push([0, 1]);
    }
    infos.push({ packedSize: packed.length, unpack, coders, bindPairs });
    counts.push(f.files.length);
    sizes.push(datas.map((d) => d.length));
    for (const [i, x] of f.files.entries()) {
      names.push(x.name);
      modes.push(x.unixMode);
      crcs.push(crc32(datas[i]!));
    }
  }
  const empty = opts.emptyFiles ?? [];
  const all = [...names, ...empty];
  const header: number[] = [0x01, 0x04, ...streamsInfo(0, infos, { counts, sizes, crcs }), 0x05, ...num(all.length)];
  if (empty.length) {
    const bits = all.map((_, i) => i >= names.length);
    const bytes: number[] = [];
    for (let i = 0; i < bits.length; i += 8) bytes.push(bits.slice(i, i + 8).reduce((a, b, j) => a | (b ? 0x80 >> j : 0), 0));
    header.push(0x0e, ...num(bytes.length), ...bytes);
    const ef = Array.from({ length: Math.ceil(empty.length / 8) }, (_, i) => empty.slice(i * 8, i * 8 + 8).reduce((a, _x, j) => a | (0x80 >> j), 0));
    header.push(0x0f, ...num(ef.length), ...ef);
  }
  const nameBytes = [0x00, ...utf16(all)];
  header.push(0x11, ...num(nameBytes.length), ...nameBytes);
  if (modes.some((m) => m !== undefined)) {
    const attrs = [0x01, 0x00, ...all.flatMap((_, i) => u32(modes[i] !== undefined ? ((modes[i]! << 16) | 0x8000) >>> 0 : 0x20))];
    header.push(0x15, ...num(attrs.length), ...attrs);
  }
  header.push(0x00, 0x00);
  let headerBytes = Uint8Array.from(header);
  const packTotal = packs.reduce((s, p) => s + p.length, 0);
  if (opts.encodeHeader) {
    packs.push(headerBytes);
    const enc2 = [0x17, ...streamsInfo(packTotal, [{ packedSize: headerBytes.length, unpack: [headerBytes.length], coders: [coder('00')], bindPairs: [] }])];
    headerBytes = Uint8Array.from(enc2);
  }
  const body = packs.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(32 + body + headerBytes.length);
  out.set([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]);
  let p = 32;
  for (const pk of packs) {
    out.set(pk, p);
    p += pk.length;
  }
  out.set(headerBytes, p);
  const next = [...u64(body), ...u64(headerBytes.length), ...u32(opts.badHeaderCrc ? crc32(headerBytes) ^ 1 : crc32(headerBytes))];
  out.set(next, 12);
  out.set(u32(crc32(Uint8Array.from(next))), 8);
  return out;
}
