import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hdf5File } from './hdf5.js';
import { groupLinks, isDataset, objectAttributes, resolvePath, walkObjects } from './hdf5-group.js';
import { datasetInfo } from './hdf5-dataset.js';
import { readDataset, toLittleEndian } from './hdf5-read.js';
import { BytesSource } from '../io/source.js';
import { ModelwiseError } from '../errors.js';
import { buildHdf5Tree, type H5Group } from '../../test/helpers/hdf5-tree-writer.js';

const open = (b: Uint8Array): Promise<Hdf5File> => Hdf5File.open(new BytesSource(b, 't.h5'));
const f32 = (a: number[]): Uint8Array => new Uint8Array(new Float32Array(a).buffer);
const sha = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex').slice(0, 12);

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e instanceof ModelwiseError ? e.code : `not a ModelwiseError: ${e}`;
  }
}

/** Every dataset: path → [dtype, shape, data as little-endian bytes]. */
async function dump(h5: Hdf5File): Promise<Map<string, [string, number[], Uint8Array | string]>> {
  const out = new Map<string, [string, number[], Uint8Array | string]>();
  await walkObjects(h5, h5.superblock.rootObjectHeader, async (o) => {
    if (!isDataset(o.header)) return;
    const i = datasetInfo(h5, o.header);
    let data: Uint8Array | string;
    try {
      data = toLittleEndian(await readDataset(h5, i, o.path), i.datatype);
    } catch (e) {
      data = (e as ModelwiseError).code;
    }
    out.set(o.path, [i.dtype, i.shape, data]);
  });
  return out;
}

const kernel = Array.from({ length: 35 }, (_, i) => i * 0.5 - 3);
const TREE: H5Group = {
  attrs: { epochs: 12, seed: -3 },
  members: {
    model_weights: {
      members: {
        dense: {
          members: {
            'kernel:0': { dtype: 'f32', shape: [7, 5], data: f32(kernel) },
            'bias:0': { dtype: 'f64', shape: [3], data: new Uint8Array(new Float64Array([1.5, -2, 3]).buffer), bigEndian: true },
          },
        },
      },
    },
    gz: { dtype: 'f32', shape: [9, 7], data: f32(Array.from({ length: 63 }, (_, i) => Math.sin(i))), chunks: [4, 3], filters: ['shuffle', 'deflate'] },
    fl: { dtype: 'i16', shape: [5, 6], data: new Uint8Array(new Int16Array(Array.from({ length: 30 }, (_, i) => i - 10)).buffer), chunks: [2, 4], filters: ['fletcher32'], bigEndian: true },
    mask: { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
    c: { dtype: 'c64', shape: [2], data: f32([1, 2, -3.5, -4]), bigEndian: true },
    s: { dtype: 'S4', shape: [2], data: new TextEncoder().encode('abcdxy\0\0') },
    scalar: { dtype: 'i64', shape: [], data: new Uint8Array(new BigInt64Array([-5n]).buffer) },
  },
};

describe('hdf5 groups and datasets (written in code)', () => {
  for (const [label, opts, dense] of [
    ['superblock 0: symbol tables, v1 headers', { superblock: 0 as const }, false],
    ['superblock 2: OHDR, link messages', { superblock: 2 as const }, false],
    ['superblock 2: dense links and attributes (fractal heap + v2 B-tree)', { superblock: 2 as const }, true],
  ] as const) {
    it(label, async () => {
      const tree: H5Group = { ...TREE, dense, members: { ...TREE.members, model_weights: { ...(TREE.members.model_weights as H5Group), dense } } };
      const h5 = await open(buildHdf5Tree(tree, opts).bytes);
      const d = await dump(h5);
      assert.deepEqual([...d.keys()], ['c', 'fl', 'gz', 'mask', 'model_weights/dense/bias:0', 'model_weights/dense/kernel:0', 's', 'scalar']);
      assert.deepEqual(d.get('model_weights/dense/kernel:0')!.slice(0, 2), ['f32', [7, 5]]);
      assert.deepEqual(d.get('model_weights/dense/kernel:0')![2], f32(kernel));
      assert.deepEqual(d.get('model_weights/dense/bias:0')![2], new Uint8Array(new Float64Array([1.5, -2, 3]).buffer));
      assert.deepEqual(d.get('gz')![2], f32(Array.from({ length: 63 }, (_, i) => Math.sin(i))));
      assert.deepEqual(d.get('fl')![2], new Uint8Array(new Int16Array(Array.from({ length: 30 }, (_, i) => i - 10)).buffer));
      assert.deepEqual(d.get('mask')!.slice(0, 2), ['bool', [3]]);
      assert.deepEqual(d.get('c')!.slice(0, 3), ['c64', [2], f32([1, 2, -3.5, -4])]);
      assert.deepEqual(d.get('s')!.slice(0, 2), ['bytes4', [2]]);
      assert.deepEqual(d.get('scalar')!.slice(0, 2), ['i64', []]);
      const attrs = await objectAttributes(h5, await h5.objectHeader(h5.superblock.rootObjectHeader));
      const values = Object.fromEntries(await Promise.all(attrs.map(async (a) => [a.name, await h5.attributeValue(a)])));
      assert.deepEqual(values, { epochs: 12, seed: -3 });
      const found = await resolvePath(h5, h5.superblock.rootObjectHeader, 'model_weights/dense/kernel:0');
      assert.ok(found && isDataset(found.header));
      assert.equal(await resolvePath(h5, h5.superblock.rootObjectHeader, 'model_weights/nope'), undefined);
    });
  }
});

describe('hdf5 hostile inputs', () => {
  const small: H5Group = { members: { a: { members: { x: { dtype: 'f32', shape: [2], data: f32([1, 2]) } } } } };

  it('a group B-tree whose child is itself is refused, not looped', async () => {
    const { bytes } = buildHdf5Tree(small);
    const b = bytes.slice();
    // Make the root's group B-tree a level-1 node pointing at itself.
    const at = Buffer.from(b).lastIndexOf(Buffer.from('TREE'));
    b[at + 5] = 1;
    new DataView(b.buffer).setBigUint64(at + 24 + 8, BigInt(at), true);
    const h5 = await open(b);
    assert.equal(await codeOf(walkObjects(h5, h5.superblock.rootObjectHeader, () => {})), 'MALFORMED');
  });

  it('a hard link back to an ancestor is visited once', async () => {
    const { bytes, addresses } = buildHdf5Tree(small, { superblock: 2 });
    const b = bytes.slice();
    // Point the link to dataset x at group a (a cycle a → a).
    const dv = new DataView(b.buffer);
    for (let i = 0; i + 8 <= b.length; i++) if (dv.getBigUint64(i, true) === BigInt(addresses['a/x']!) && b[i - 1] === 0x78) dv.setBigUint64(i, BigInt(addresses.a!), true);
    const h5 = await open(b);
    const seen: string[] = [];
    await walkObjects(h5, h5.superblock.rootObjectHeader, (o) => void seen.push(o.path));
    assert.deepEqual(seen, ['a']);
  });

  it('lying sizes and counts are errors, not allocations', async () => {
    const { bytes } = buildHdf5Tree(small);
    const snod = Buffer.from(bytes).indexOf(Buffer.from('SNOD'));
    const b = bytes.slice();
    new DataView(b.buffer).setUint16(snod + 6, 0xffff, true); // 65535 symbols
    const h5 = await open(b);
    assert.match((await codeOf(walkObjects(h5, h5.superblock.rootObjectHeader, () => {}))) ?? '', /UNEXPECTED_EOF|MALFORMED/);
    const heap = Buffer.from(bytes).indexOf(Buffer.from('HEAP'));
    const c = bytes.slice();
    new DataView(c.buffer).setBigUint64(heap + 8, 1n << 40n, true); // a 1 TB local heap
    const h5c = await open(c);
    assert.equal(await codeOf(walkObjects(h5c, h5c.superblock.rootObjectHeader, () => {})), 'LIMIT_EXCEEDED');
  });

  it('a dataset claiming a huge shape is refused before reading', async () => {
    const h5 = await open(buildHdf5Tree({ members: { x: { dtype: 'f32', shape: [2], data: f32([1, 2]) } } }).bytes);
    const o = (await resolvePath(h5, h5.superblock.rootObjectHeader, 'x'))!;
    const info = { ...datasetInfo(h5, o.header), shape: [1 << 20, 1 << 20] };
    assert.equal(await codeOf(readDataset(h5, info)), 'LIMIT_EXCEEDED');
  });

  it('corrupt deflate data is MALFORMED; an unknown filter is UNSUPPORTED', async () => {
    const { bytes } = buildHdf5Tree({ members: { z: { dtype: 'f32', shape: [8], data: f32([1, 2, 3, 4, 5, 6, 7, 8]), chunks: [4], filters: ['deflate'] } } });
    const b = bytes.slice();
    const zat = b.indexOf(0x78, 96); // zlib header of the first chunk
    b.fill(0xee, zat + 2, zat + 8);
    const h5 = await open(b);
    const o = (await resolvePath(h5, h5.superblock.rootObjectHeader, 'z'))!;
    assert.equal(await codeOf(readDataset(h5, datasetInfo(h5, o.header))), 'MALFORMED');
    const info = datasetInfo(h5, o.header);
    assert.equal(await codeOf(readDataset(h5, { ...info, filters: [{ id: 32001, optional: false, clientData: [] }] })), 'UNSUPPORTED');
  });

  it('a fractal heap ID outside its block is MALFORMED', async () => {
    const { bytes } = buildHdf5Tree({ dense: true, members: { x: { dtype: 'u8', shape: [1] } } }, { superblock: 2 });
    const b = bytes.slice();
    const leaf = Buffer.from(b).indexOf(Buffer.from('BTLF'));
    new DataView(b.buffer).setUint32(leaf + 6 + 4 + 1, 1 << 30, true); // the record's heap offset
    const h5 = await open(b);
    assert.equal(await codeOf(groupLinks(h5, await h5.objectHeader(h5.superblock.rootObjectHeader))), 'MALFORMED');
  });
});

describe('hdf5 files written by h5py (test/fixtures/hdf5)', () => {
  const fixture = (n: string): Promise<Hdf5File> => open(new Uint8Array(readFileSync(join(import.meta.dirname, '../../test/fixtures/hdf5', n))));

  it('latest.h5: superblock 3, dense links with an indirect root block, dense attributes with a huge object, every v4 chunk index', async () => {
    const h5 = await fixture('latest.h5');
    assert.equal(h5.superblock.version, 3);
    const root = await h5.objectHeader(h5.superblock.rootObjectHeader);
    const attrs = await objectAttributes(h5, root);
    assert.equal(attrs.length, 13);
    const big = attrs.find((a) => a.name === 'big')!;
    assert.equal(await h5.attributeValue(big, 10_000), 'x'.repeat(5000));
    const g = (await resolvePath(h5, h5.superblock.rootObjectHeader, 'g'))!;
    const links = (await groupLinks(h5, g.header))!;
    assert.equal(links.length, 122);
    assert.equal(links.filter((l) => l.soft === '/g/x').length, 120);
    const d = await dump(h5);
    assert.deepEqual([...d.keys()].sort(), ['bt2', 'extensible', 'extensible_gz', 'g/alias', 'paged', 'single']); // g/x is g/alias, visited once
    const hashes = Object.fromEntries([...d].map(([k, v]) => [k, typeof v[2] === 'string' ? v[2] : sha(v[2])]));
    // sha1 of h5py's f[name][()].tobytes() (see generate.py)
    assert.deepEqual(hashes, { bt2: '2744b3b23a85', extensible: 'b49aa2f7511e', extensible_gz: 'bb7fb87dbd74', 'g/alias': '2613304e943c', paged: '75aa005ebb0b', single: 'cff9611cb9aa' });
  });

  it('earliest.h5: big-endian, bool, complex, gzip+shuffle, fletcher32, fill value, lzf (unsupported)', async () => {
    const d = await dump(await fixture('earliest.h5'));
    const got = Object.fromEntries([...d].map(([k, v]) => [k, [v[0], v[1], typeof v[2] === 'string' ? v[2] : sha(v[2])]]));
    assert.deepEqual(got, {
      c: ['c64', [2], '7844df2a8d38'],
      fill: ['i32', [3], '75a785eef98f'],
      fl: ['i32', [5, 6], '1f9f318b5650'],
      gz: ['f32', [9, 7], '7cd9ef5dfc17'],
      lzf: ['f32', [64], 'UNSUPPORTED'],
      'model_weights/dense/kernel:0': ['f32', [5, 3], '01e2cfb7f226'],
      'model_weights/dense/mask': ['bool', [3], 'c42ac1c46f1d'],
    });
  });
});
