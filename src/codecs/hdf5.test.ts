import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Hdf5File, findSignature, readRootAttributes } from './hdf5.js';
import { BytesSource } from '../io/source.js';
import { ModelwiseError } from '../errors.js';
import { buildHdf5, type H5Attribute } from '../../test/helpers/hdf5-writer.js';

const open = (b: Uint8Array): Promise<Hdf5File> => Hdf5File.open(new BytesSource(b, 't.h5'));
const attrs: H5Attribute[] = [
  { name: 'fixed', value: { fixed: 'abc' } },
  { name: 'vlen', value: { vlen: 'héllo' } },
  { name: 'list', value: { fixedArray: ['a', 'bb', 'ccc'] } },
  { name: 'n', value: { int64: -1 } },
];
const expected = { fixed: 'abc', vlen: 'héllo', list: ['a', 'bb', 'ccc'], n: -1 };

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e instanceof ModelwiseError ? e.code : 'not a ModelwiseError';
  }
}

describe('hdf5 codec', () => {
  for (const [label, opts] of [
    ['superblock v0, v1 object header', {}],
    ['superblock v0, continuation chunk', { continuation: true }],
    ['superblock v0 after a 1024-byte user block', { userblock: 1024 }],
    ['superblock v2, OHDR object header', { superblock: 2 }],
  ] as const) {
    it(`reads root attributes: ${label}`, async () => {
      const f = await open(buildHdf5(attrs, opts));
      const r = await readRootAttributes(f);
      assert.deepEqual(r.names, ['fixed', 'vlen', 'list', 'n']);
      assert.deepEqual(r.values, expected);
      assert.equal(r.dense, false);
    });
  }

  it('reports dense attribute storage without reading it', async () => {
    const r = await readRootAttributes(await open(buildHdf5(attrs, { superblock: 2, dense: true })));
    assert.deepEqual(r.names, []);
    assert.equal(r.dense, true);
  });

  it('finds the signature at 0, 512, 1024, 2048 only', () => {
    const b = new Uint8Array(4096);
    b.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], 2048);
    assert.equal(findSignature(b), 2048);
    const c = new Uint8Array(4096);
    c.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], 100);
    assert.equal(findSignature(c), -1);
  });

  it('errors are coded ModelwiseErrors', async () => {
    assert.equal(await codeOf(open(new TextEncoder().encode('{"not": "hdf5"}'))), 'MALFORMED');
    const v9 = buildHdf5(attrs);
    v9[8] = 9;
    assert.equal(await codeOf(open(v9)), 'UNSUPPORTED');
    const big = buildHdf5(attrs);
    new DataView(big.buffer).setUint32(96 + 8, 0x7fffffff, true); // object header size
    // Over the header budget: reported as truncated, nothing allocated.
    const r = await readRootAttributes(await open(big), { maxHeaderBytes: 4096 });
    assert.equal(r.truncated, true);
    assert.deepEqual(r.names, []);
    assert.equal(await codeOf((await open(big)).read(0, 1 << 30, 'x')), 'LIMIT_EXCEEDED');
    const cut = buildHdf5(attrs).slice(0, 140);
    assert.equal(await codeOf(readRootAttributes(await open(cut))), 'UNEXPECTED_EOF');
  });
});
