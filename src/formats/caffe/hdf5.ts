/**
 * Just enough HDF5 (https://docs.hdfgroup.org/hdf5/latest/_f_m_t1.html) to list the members of a
 * group in files written with the default (version 0/1) superblock and old-style groups, which is
 * what Caffe's Net::ToHDF5 produces: the root symbol-table entry caches the group's B-tree and local
 * heap addresses, the B-tree (v1, type 0) points at symbol-table nodes (SNOD), and link names live
 * in the local heap (HEAP). Every address is checked against the file size; node counts are capped.
 */
import { u64le, view } from '../../io/bytes.js';
import type { Probe } from '../../identify/probe.js';

export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export interface GroupMember {
  name: string;
  /** 1 = a group (scratch pad holds its B-tree and heap), 0 = anything else (a dataset). */
  cacheType: number;
  btree?: number;
  heap?: number;
}

interface Ctx {
  probe: Probe;
  base: number;
  /** Bytes read so far (bounded). */
  read: number;
}

const MAX_READ = 512 * 1024;
const MAX_MEMBERS = 4096;

async function bytes(ctx: Ctx, at: number, len: number): Promise<Uint8Array | undefined> {
  const abs = ctx.base + at;
  if (at < 0 || abs + len > ctx.probe.size || ctx.read + len > MAX_READ) return undefined;
  ctx.read += len;
  const b = await ctx.probe.bytes(abs, len);
  return b.length === len ? b : undefined;
}

function addr(dv: DataView, at: number): number | undefined {
  const v = u64le(dv, at);
  return v === undefined || v === 0xffffffffffff ? undefined : v;
}

/** The root group of a v0/v1 superblock with 8-byte offsets and lengths; undefined otherwise. */
export async function rootGroup(probe: Probe): Promise<{ ctx: Ctx; btree: number; heap: number } | undefined> {
  const head = await probe.head();
  if (head.length < 96) return undefined;
  for (let i = 0; i < 8; i++) if (head[i] !== HDF5_SIGNATURE[i]) return undefined;
  const version = head[8]!;
  if (version > 1 || head[13] !== 8 || head[14] !== 8) return undefined;
  const dv = view(head);
  let p = 24 + (version === 1 ? 4 : 0);
  const base = u64le(dv, p);
  if (base === undefined || base !== 0) return undefined;
  p += 32; // base, free-space, end-of-file, driver info addresses
  const rootEntry = p;
  if (rootEntry + 40 > head.length) return undefined;
  const cacheType = dv.getUint32(rootEntry + 16, true);
  if (cacheType !== 1) return undefined;
  const btree = addr(dv, rootEntry + 24);
  const heap = addr(dv, rootEntry + 32);
  if (btree === undefined || heap === undefined) return undefined;
  return { ctx: { probe, base, read: 0 }, btree, heap };
}

/** Members of an old-style group given its B-tree and local heap addresses. */
export async function groupMembers(ctx: Ctx, btree: number, heap: number): Promise<GroupMember[] | undefined> {
  const h = await bytes(ctx, heap, 32);
  if (!h || String.fromCharCode(...h.subarray(0, 4)) !== 'HEAP') return undefined;
  const hv = view(h);
  const dataSize = u64le(hv, 8);
  const dataAddr = addr(hv, 24);
  if (dataSize === undefined || dataAddr === undefined || dataSize > 256 * 1024) return undefined;
  const names = await bytes(ctx, dataAddr, dataSize);
  if (!names) return undefined;
  const nameAt = (off: number): string | undefined => {
    if (off >= names.length) return undefined;
    const end = names.indexOf(0, off);
    if (end < 0 || end - off > 1024) return undefined;
    return new TextDecoder().decode(names.subarray(off, end));
  };
  const out: GroupMember[] = [];
  const queue = [btree];
  let nodes = 0;
  while (queue.length > 0 && nodes++ < 256 && out.length < MAX_MEMBERS) {
    const at = queue.shift()!;
    const sig = await bytes(ctx, at, 8);
    if (!sig) return undefined;
    const tag = String.fromCharCode(...sig.subarray(0, 4));
    if (tag === 'TREE') {
      const hdr = await bytes(ctx, at, 24);
      if (!hdr || hdr[4] !== 0) return undefined;
      const used = view(hdr).getUint16(6, true);
      if (used > 1024) return undefined;
      // keys (8 bytes) and children (8 bytes) alternate after the 24-byte header: key0 child0 key1 …
      const body = await bytes(ctx, at + 24, used * 16 + 8);
      if (!body) return undefined;
      const bv = view(body);
      for (let i = 0; i < used; i++) {
        const child = addr(bv, 8 + i * 16);
        if (child === undefined) return undefined;
        queue.push(child);
      }
    } else if (tag === 'SNOD') {
      const count = view(sig).getUint16(6, true);
      if (count > 1024) return undefined;
      const body = await bytes(ctx, at + 8, count * 40);
      if (!body) return undefined;
      const bv = view(body);
      for (let i = 0; i < count; i++) {
        const e = i * 40;
        const nameOff = u64le(bv, e);
        const name = nameOff === undefined ? undefined : nameAt(nameOff);
        if (name === undefined) return undefined;
        const ct = bv.getUint32(e + 16, true);
        const m: GroupMember = { name, cacheType: ct };
        if (ct === 1) {
          m.btree = addr(bv, e + 24);
          m.heap = addr(bv, e + 32);
        }
        out.push(m);
      }
    } else return undefined;
  }
  return out;
}
