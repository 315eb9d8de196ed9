/**
 * HDF5 B-trees, walked in full (modelwise never searches them by key: it lists every group member
 * or every chunk). Spec: https://support.hdfgroup.org/documentation/hdf5/latest/_f_m_t3.html
 *   - version 1 "TREE" nodes (III.A.1): group nodes (type 0, keys = local heap name offsets) and raw
 *     data chunk nodes (type 1, keys = chunk size, filter mask and chunk offsets);
 *   - version 2 "BTHD" / "BTIN" / "BTLF" (III.A.2): dense link and attribute name indexes, huge
 *     fractal heap objects, chunk indexes of layout version 4.
 * Every node address is checked (no revisits, depth strictly decreasing) and the number of nodes
 * read is capped, so a hostile file cannot loop or fan out without bound.
 */
import { ModelwiseError } from '../errors.js';
import { startsWith, view } from '../io/bytes.js';
import { HDF5_LIMITS, UNDEF, malformed, readUint, type Hdf5File } from './hdf5.js';

/** Nodes read from one B-tree, and its depth. */
export const BTREE_LIMITS = { nodes: 1_000_000, depth: 64 } as const;

/**
 * Every leaf-level child of a version 1 B-tree, left to right, with the key to its left.
 * `keySize`: sizeOfLengths for group nodes; 8 + 8 × dimensionality for chunk nodes.
 */
export async function walkBTreeV1(
  file: Hdf5File,
  address: number,
  nodeType: 0 | 1,
  keySize: number,
  visit: (child: number, leftKey: Uint8Array) => void | Promise<void>,
): Promise<void> {
  const so = file.superblock.sizeOfOffsets;
  const seen = new Set<number>();
  const walk = async (addr: number, expectLevel: number | undefined): Promise<void> => {
    if (seen.has(addr)) throw malformed(file.name, 'B-tree node visited twice (a cycle)', addr);
    if (seen.size >= BTREE_LIMITS.nodes) throw new ModelwiseError('LIMIT_EXCEEDED', `HDF5: more than ${BTREE_LIMITS.nodes} B-tree nodes`, { file: file.name });
    seen.add(addr);
    const head = await file.read(addr, 8 + 2 * so, 'B-tree node header');
    if (!startsWith(head, 'TREE')) throw malformed(file.name, 'B-tree node without TREE signature', addr);
    if (head[4] !== nodeType) throw malformed(file.name, `B-tree node of type ${head[4]} (expected ${nodeType})`, addr);
    const level = head[5]!;
    if (expectLevel !== undefined && level !== expectLevel) throw malformed(file.name, `B-tree node at level ${level} (expected ${expectLevel})`, addr);
    if (level > BTREE_LIMITS.depth) throw malformed(file.name, `B-tree of depth ${level}`, addr);
    const used = view(head).getUint16(6, true);
    const body = await file.read(addr + 8 + 2 * so, (used + 1) * keySize + used * so, 'B-tree node entries');
    for (let i = 0; i < used; i++) {
      const k = i * (keySize + so);
      const child = readUint(body, k + keySize, so);
      if (child === UNDEF) throw malformed(file.name, 'B-tree child at an undefined address', addr);
      if (level > 0) await walk(child, level - 1);
      else await visit(child, body.subarray(k, k + keySize));
    }
  };
  await walk(address, undefined);
}

/** A version 2 B-tree header (III.A.2 "BTHD"). */
export interface BTree2Header {
  type: number;
  nodeSize: number;
  recordSize: number;
  depth: number;
  root: number;
  rootRecords: number;
  totalRecords: number;
}

/** floor(log2(n)) / 8 + 1: bytes to store values up to n (H5VM_limit_enc_size). */
function encSize(n: number): number {
  return Math.floor(Math.log2(Math.max(1, n)) / 8) + 1;
}

const PREFIX = 4 + 1 + 1 + 4; // signature, version, type, checksum

export async function readBTree2Header(file: Hdf5File, address: number): Promise<BTree2Header> {
  const so = file.superblock.sizeOfOffsets;
  const sl = file.superblock.sizeOfLengths;
  const b = await file.read(address, 16 + so + 2 + sl + 4, 'v2 B-tree header');
  if (!startsWith(b, 'BTHD')) throw malformed(file.name, 'v2 B-tree header without BTHD signature', address);
  const dv = view(b);
  const h: BTree2Header = {
    type: b[5]!,
    nodeSize: dv.getUint32(6, true),
    recordSize: dv.getUint16(10, true),
    depth: dv.getUint16(12, true),
    root: readUint(b, 16, so),
    rootRecords: dv.getUint16(16 + so, true),
    totalRecords: readUint(b, 18 + so, sl),
  };
  if (h.recordSize === 0 || h.nodeSize < PREFIX + h.recordSize || h.nodeSize > HDF5_LIMITS.objectHeaderBytes || h.depth > BTREE_LIMITS.depth) {
    throw malformed(file.name, `v2 B-tree with node size ${h.nodeSize}, record size ${h.recordSize}, depth ${h.depth}`, address);
  }
  return h;
}

/**
 * Every record of a version 2 B-tree, in key order (type-specific bytes of `recordSize`).
 * Internal nodes hold child pointers whose field widths follow from the node size (H5B2__hdr_init).
 */
export async function walkBTree2(file: Hdf5File, address: number, visit: (record: Uint8Array, type: number) => void | Promise<void>): Promise<BTree2Header> {
  const h = await readBTree2Header(file, address);
  if (h.root === UNDEF || h.totalRecords === 0) return h;
  const so = file.superblock.sizeOfOffsets;
  // Per depth: max records in a node, cumulative max records below, and the bytes to encode that.
  const maxNrec: number[] = [Math.floor((h.nodeSize - PREFIX) / h.recordSize)];
  const cumMax: number[] = [maxNrec[0]!];
  const cumSize: number[] = [0];
  const nrecSize = encSize(maxNrec[0]!);
  for (let d = 1; d <= h.depth; d++) {
    const ptr = so + nrecSize + cumSize[d - 1]!;
    const n = Math.floor((h.nodeSize - (PREFIX + ptr)) / (h.recordSize + ptr));
    if (n < 1) throw malformed(file.name, 'v2 B-tree internal node holds no record', address);
    maxNrec.push(n);
    cumMax.push((n + 1) * cumMax[d - 1]! + n);
    cumSize.push(encSize(cumMax[d]!));
  }
  let nodes = 0;
  const node = async (addr: number, depth: number, nrec: number): Promise<void> => {
    if (++nodes > BTREE_LIMITS.nodes) throw new ModelwiseError('LIMIT_EXCEEDED', `HDF5: more than ${BTREE_LIMITS.nodes} v2 B-tree nodes`, { file: file.name });
    if (nrec > maxNrec[depth]!) throw malformed(file.name, `v2 B-tree node with ${nrec} records (at most ${maxNrec[depth]})`, addr);
    const b = await file.read(addr, h.nodeSize, 'v2 B-tree node');
    const sig = depth === 0 ? 'BTLF' : 'BTIN';
    if (!startsWith(b, sig)) throw malformed(file.name, `v2 B-tree node without ${sig} signature`, addr);
    if (b[5] !== h.type) throw malformed(file.name, `v2 B-tree node of type ${b[5]} in a tree of type ${h.type}`, addr);
    const rec = (i: number): Uint8Array => b.subarray(6 + i * h.recordSize, 6 + (i + 1) * h.recordSize);
    if (depth === 0) {
      for (let i = 0; i < nrec; i++) await visit(rec(i), h.type);
      return;
    }
    const ptrSize = so + nrecSize + (depth > 1 ? cumSize[depth - 1]! : 0);
    let p = 6 + nrec * h.recordSize;
    const children: { addr: number; nrec: number }[] = [];
    for (let i = 0; i <= nrec; i++, p += ptrSize) {
      if (p + ptrSize > b.length) throw malformed(file.name, 'v2 B-tree internal node overruns its size', addr);
      children.push({ addr: readUint(b, p, so), nrec: readUint(b, p + so, nrecSize) });
    }
    for (let i = 0; i <= nrec; i++) {
      const c = children[i]!;
      if (c.addr === UNDEF) throw malformed(file.name, 'v2 B-tree child at an undefined address', addr);
      await node(c.addr, depth - 1, c.nrec);
      if (i < nrec) await visit(rec(i), h.type);
    }
  };
  await node(h.root, h.depth, h.rootRecords);
  return h;
}
