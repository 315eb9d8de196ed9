/**
 * HDF5 groups and attributes as h5py shows them (spec IV.A.2.g symbol table, IV.A.2.c link info,
 * IV.A.2.q link, IV.A.2.v attribute info; https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html):
 *   - old-style groups: a symbol table message → v1 B-tree of "SNOD" nodes + local heap of names;
 *   - new-style groups: link messages in the header (compact), or a link info message pointing to a
 *     fractal heap of link messages indexed by a v2 B-tree (dense);
 *   - attributes: in the header, or dense (attribute info message → fractal heap + v2 B-tree).
 * `walkObjects` visits every object reachable by hard links once (like H5Ovisit / h5py visititems),
 * members in name order, with caps on objects and depth. Soft and external links are not followed.
 */
import { ModelwiseError } from '../errors.js';
import { decodeUtf8, startsWith, view } from '../io/bytes.js';
import { walkBTree2, walkBTreeV1 } from './hdf5-btree.js';
import { FractalHeap, LocalHeap } from './hdf5-heap.js';
import { UNDEF, malformed, parseAttribute, parseAttributeInfo, readUint, type Attribute, type Hdf5File, type ObjectHeader } from './hdf5.js';

export const GROUP_LIMITS = {
  /** Objects visited in one walk (Keras files hold thousands; a million is far beyond any model). */
  objects: 1_000_000,
  /** Group nesting followed. */
  depth: 256,
  /** Members listed in one group. */
  members: 1_000_000,
} as const;

export interface Hdf5Link {
  name: string;
  /** Object header address of a hard link. */
  address?: number;
  /** Target path of a soft link. */
  soft?: string;
  external?: boolean;
}

/** Message types (spec IV.A.2). */
export const MSG = {
  Dataspace: 0x01,
  LinkInfo: 0x02,
  Datatype: 0x03,
  FillValueOld: 0x04,
  FillValue: 0x05,
  Link: 0x06,
  DataLayout: 0x08,
  GroupInfo: 0x0a,
  FilterPipeline: 0x0b,
  Attribute: 0x0c,
  SymbolTable: 0x11,
  AttributeInfo: 0x15,
} as const;

const has = (oh: ObjectHeader, type: number): boolean => oh.messages.some((m) => m.type === type);

export function isGroup(oh: ObjectHeader): boolean {
  return has(oh, MSG.SymbolTable) || has(oh, MSG.LinkInfo) || has(oh, MSG.Link) || has(oh, MSG.GroupInfo);
}

export function isDataset(oh: ObjectHeader): boolean {
  return has(oh, MSG.Dataspace) && has(oh, MSG.DataLayout);
}

/** Link message (0x0006), version 1. */
export function parseLink(d: Uint8Array, so: number, file: string): Hdf5Link {
  try {
    if (d[0] !== 1) throw malformed(file, `link message version ${d[0]}`);
    const flags = d[1]!;
    let p = 2;
    let type = 0;
    if (flags & 0x08) type = d[p++]!;
    if (flags & 0x04) p += 8; // creation order
    if (flags & 0x10) p += 1; // name character set
    const lenSize = 1 << (flags & 3);
    const nameLength = readUint(d, p, lenSize);
    p += lenSize;
    if (nameLength === UNDEF || p + nameLength > d.length) throw malformed(file, 'link name overruns its message');
    const name = decodeUtf8(d.subarray(p, p + nameLength));
    p += nameLength;
    if (type === 0) return { name, address: readUint(d, p, so) };
    if (type === 1) {
      const n = readUint(d, p, 2);
      return { name, soft: decodeUtf8(d.subarray(p + 2, p + 2 + n)) };
    }
    return { name, external: true };
  } catch (e) {
    if (e instanceof RangeError) throw malformed(file, 'link message truncated');
    throw e;
  }
}

/** The members of a group, sorted by name (undefined when the object is not a group). */
export async function groupLinks(file: Hdf5File, oh: ObjectHeader): Promise<Hdf5Link[] | undefined> {
  const so = file.superblock.sizeOfOffsets;
  const sl = file.superblock.sizeOfLengths;
  const links: Hdf5Link[] = [];
  const push = (l: Hdf5Link): void => {
    if (links.length >= GROUP_LIMITS.members) throw new ModelwiseError('LIMIT_EXCEEDED', `HDF5: a group with more than ${GROUP_LIMITS.members} members`, { file: file.name });
    links.push(l);
  };
  let group = false;
  for (const m of oh.messages) {
    if (m.type === MSG.SymbolTable) {
      group = true;
      if (m.data.length < 2 * so) throw malformed(file.name, 'symbol table message truncated');
      const btree = readUint(m.data, 0, so);
      const heap = await LocalHeap.open(file, readUint(m.data, so, so));
      const entrySize = 2 * so + 24;
      await walkBTreeV1(file, btree, 0, sl, async (snod) => {
        const head = await file.read(snod, 8, 'symbol table node');
        if (!startsWith(head, 'SNOD')) throw malformed(file.name, 'symbol table node without SNOD signature', snod);
        const n = view(head).getUint16(6, true);
        const body = await file.read(snod + 8, n * entrySize, 'symbol table node entries');
        for (let i = 0; i < n; i++) {
          const e = i * entrySize;
          const name = heap.string(readUint(body, e, so));
          const address = readUint(body, e + so, so);
          const cache = readUint(body, e + 2 * so, 4);
          if (cache === 2) push({ name, soft: heap.string(readUint(body, e + 2 * so + 8, 4)) });
          else push({ name, address });
        }
      });
    } else if (m.type === MSG.Link) {
      group = true;
      push(parseLink(m.data, so, file.name));
    } else if (m.type === MSG.LinkInfo) {
      group = true;
      const d = m.data;
      if (d[0] !== 0) throw malformed(file.name, `link info message version ${d[0]}`);
      const p = 2 + (d[1]! & 1 ? 8 : 0);
      const heapAt = readUint(d, p, so);
      const nameIndex = readUint(d, p + so, so);
      if (heapAt !== UNDEF && nameIndex !== UNDEF) {
        const heap = await FractalHeap.open(file, heapAt);
        const ids: Uint8Array[] = [];
        await walkBTree2(file, nameIndex, (r, t) => {
          if (t === 5) ids.push(r.slice(4, 11));
          else throw malformed(file.name, `link name index of record type ${t} (expected 5)`, nameIndex);
        });
        for (const id of ids) push(parseLink(await heap.object(id), so, file.name));
      }
    } else if (m.type === MSG.GroupInfo) {
      group = true;
    }
  }
  if (!group) return undefined;
  return links.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Every attribute of an object: those in its header and, when stored densely, those in its fractal
 * heap. `maxDenseBytes` cuts densely stored attribute messages (their values then read truncated).
 */
export async function objectAttributes(file: Hdf5File, oh: ObjectHeader, maxDenseBytes?: number): Promise<Attribute[]> {
  const out: Attribute[] = [];
  for (const m of oh.messages) {
    if (m.type === MSG.Attribute && (m.flags & 0x02) === 0) {
      const a = parseAttribute(m.data, file.superblock);
      if (a) out.push(a);
    } else if (m.type === MSG.AttributeInfo) {
      const info = parseAttributeInfo(m.data, file.superblock.sizeOfOffsets);
      if (!info || info.nameIndexAddress === UNDEF) continue;
      const heap = await FractalHeap.open(file, info.fractalHeapAddress);
      const ids: Uint8Array[] = [];
      await walkBTree2(file, info.nameIndexAddress, (r, t) => {
        if (t === 8 && (r[8]! & 0x02) === 0) ids.push(r.slice(0, 8));
      });
      for (const id of ids) {
        const a = parseAttribute(await heap.object(id, maxDenseBytes), file.superblock);
        if (a) out.push(a);
      }
    }
  }
  return out;
}

export interface WalkedObject {
  /** Path from the walk's start, members joined by '/'. */
  path: string;
  address: number;
  header: ObjectHeader;
}

/**
 * Visit every object below the group at `address` once, depth first, members in name order
 * (h5py `visititems` order). `onObject` sees groups and datasets alike (check with isDataset).
 */
export async function walkObjects(file: Hdf5File, address: number, onObject: (o: WalkedObject) => void | Promise<void>): Promise<{ objects: number; softLinks: number; externalLinks: number }> {
  const seen = new Set<number>([address]);
  const stats = { objects: 0, softLinks: 0, externalLinks: 0 };
  const visit = async (addr: number, header: ObjectHeader, prefix: string, depth: number): Promise<void> => {
    const links = await groupLinks(file, header);
    if (!links) return;
    if (depth > GROUP_LIMITS.depth) throw new ModelwiseError('LIMIT_EXCEEDED', `HDF5: groups nested deeper than ${GROUP_LIMITS.depth}`, { file: file.name, offset: addr });
    for (const l of links) {
      if (l.soft !== undefined) stats.softLinks++;
      if (l.external) stats.externalLinks++;
      if (l.address === undefined || l.address === UNDEF || seen.has(l.address)) continue;
      seen.add(l.address);
      if (++stats.objects > GROUP_LIMITS.objects) throw new ModelwiseError('LIMIT_EXCEEDED', `HDF5: more than ${GROUP_LIMITS.objects} objects`, { file: file.name });
      const child = await file.objectHeader(l.address);
      const path = prefix ? `${prefix}/${l.name}` : l.name;
      await onObject({ path, address: l.address, header: child });
      await visit(l.address, child, path, depth + 1);
    }
  };
  await visit(address, await file.objectHeader(address), '', 0);
  return stats;
}

/** Resolve a '/'-separated path of hard links from the group at `address`; undefined when absent. */
export async function resolvePath(file: Hdf5File, address: number, path: string): Promise<{ address: number; header: ObjectHeader } | undefined> {
  let addr = address;
  let header = await file.objectHeader(addr);
  for (const part of path.split('/').filter(Boolean)) {
    const links = await groupLinks(file, header);
    const l = links?.find((x) => x.name === part);
    if (!l || l.address === undefined || l.address === UNDEF) return undefined;
    addr = l.address;
    header = await file.objectHeader(addr);
  }
  return { address: addr, header };
}
