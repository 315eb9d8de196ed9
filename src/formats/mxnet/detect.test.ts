import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mxnet } from './index.js';
import { Probe } from '../../identify/probe.js';
import { BytesSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { identify } from '../../identify/identify.js';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const probeOf = (bytes: Uint8Array, name: string): Probe => new Probe(new BytesSource(bytes, name), name);
const treeOf = (files: Record<string, Uint8Array>): MemoryTree =>
  new MemoryTree('m', Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new BytesSource(v, k)])));
const inTree = (files: Record<string, Uint8Array>, path: string): Probe => new Probe(new BytesSource(files[path]!, path), path, treeOf(files), path);

/** An NDArray list as NDArray::Save writes it: list magic, reserved, arrays, then names. */
function params(layout: 'V0' | 'V1' | 'V2' | 'V3', arrays: { shape: number[]; data: number }[], names: string[]): Uint8Array {
  const out: number[] = [];
  const u32 = (v: number): void => {
    out.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
  };
  const u64 = (v: number): void => {
    u32(v % 0x1_0000_0000);
    u32(Math.floor(v / 0x1_0000_0000));
  };
  u64(0x112);
  u64(0);
  u64(arrays.length);
  for (const a of arrays) {
    if (layout === 'V0') {
      u32(a.shape.length);
      a.shape.forEach(u32);
    } else {
      u32({ V1: 0xf993fac8, V2: 0xf993fac9, V3: 0xf993faca }[layout]);
      if (layout !== 'V1') u32(0); // storage type: default
      u32(a.shape.length);
      a.shape.forEach(u64);
    }
    u32(1); // dev_type cpu
    u32(0); // dev_id
    u32(0); // type flag f32
    for (let i = 0; i < a.data; i++) u32(0x3f800000);
  }
  u64(names.length);
  for (const n of names) {
    const b = new TextEncoder().encode(n);
    u64(b.length);
    out.push(...b);
  }
  return new Uint8Array(out);
}

const symbol = {
  nodes: [
    { op: 'null', name: 'data', inputs: [] },
    { op: 'null', name: 'fc1_weight', attrs: { num_hidden: '4' }, inputs: [] },
    { op: 'FullyConnected', name: 'fc1', attrs: { num_hidden: '4' }, inputs: [[0, 0, 0], [1, 0, 0]] },
  ],
  arg_nodes: [0, 1],
  node_row_ptr: [0, 1, 2, 3],
  heads: [[2, 0, 0]],
  attrs: { mxnet_version: ['int', 10600] },
};
const preNnvm = {
  nodes: [
    { op: 'null', param: {}, name: 'data', inputs: [], backward_source_id: -1 },
    { op: 'Convolution', param: { kernel: '(3,3)' }, name: 'conv1', inputs: [[0, 0]], backward_source_id: -1 },
  ],
  arg_nodes: [0],
  heads: [[1, 0]],
};

describe('mxnet detect: params', () => {
  for (const layout of ['V0', 'V1', 'V2', 'V3'] as const) {
    it(`NDArray list, ${layout} arrays, names from the tail`, async () => {
      const d = await mxnet.detect!(probeOf(params(layout, [{ shape: [2, 3], data: 6 }, { shape: [3], data: 3 }], ['arg:fc1_weight', 'arg:fc1_bias']), 'm-0000.params'));
      assert.equal(d?.format.variant, 'ndarray-list');
      assert.equal(d?.confidence, 'high');
      assert.equal(d?.details?.arrayCount, 2);
      assert.equal(d?.details?.arrayLayout, layout);
      assert.ok(d?.evidence[0]!.includes('first array f32 [2, 3]'));
      assert.ok(d?.evidence[0]!.includes('names arg:fc1_weight, arg:fc1_bias'));
    });
  }

  it('names absent (a list saved without names)', async () => {
    const d = await mxnet.detect!(probeOf(params('V2', [{ shape: [1], data: 1 }], []), 'x.params'));
    assert.equal(d?.format.variant, 'ndarray-list');
    assert.ok(d?.evidence[0]!.includes('names not in the tail window'));
  });

  it('near misses: wrong reserved word, absurd count, bad first array', async () => {
    const good = params('V2', [{ shape: [1], data: 1 }], ['a']);
    const r = good.slice();
    r[8] = 1;
    assert.equal(await mxnet.detect!(probeOf(r, 'x.params')), undefined);
    const c = good.slice();
    new DataView(c.buffer).setUint32(16, 0x7fffffff, true);
    assert.equal(await mxnet.detect!(probeOf(c, 'x.params')), undefined);
    const v0 = params('V0', [{ shape: [1], data: 1 }], ['a']);
    new DataView(v0.buffer).setUint32(24 + 8, 99, true); // dev_type
    assert.equal(await mxnet.detect!(probeOf(v0, 'x.params')), undefined);
  });
});

describe('mxnet detect: symbol', () => {
  it('symbol alone: symbol-json with the MXNet version', async () => {
    const d = await mxnet.detect!(probeOf(enc(symbol), 'net-symbol.json'));
    assert.equal(d?.format.variant, 'symbol-json');
    assert.equal(d?.format.version, '1.6.0');
    assert.equal(d?.details?.nodes, 3);
  });

  it('pre-NNVM symbol', async () => {
    const d = await mxnet.detect!(probeOf(enc(preNnvm), 'det-symbol.json'));
    assert.equal(d?.format.variant, 'symbol-json');
    assert.ok(d?.evidence[0]!.includes('pre-NNVM'));
    assert.equal(d?.format.version, null);
  });

  it('symbol + params pair: the latest epoch, both files listed', async () => {
    const files = {
      'net-symbol.json': enc(symbol),
      'net-0001.params': params('V2', [{ shape: [4], data: 4 }], ['arg:fc1_weight']),
      'net-0010.params': params('V2', [{ shape: [4], data: 4 }], ['arg:fc1_weight']),
      'other-0001.params': params('V2', [{ shape: [4], data: 4 }], ['x']),
    };
    const d = await mxnet.detect!(inTree(files, 'net-symbol.json'));
    assert.equal(d?.format.variant, 'symbol+params');
    assert.deepEqual(d?.files?.map((f) => [f.path, f.role]), [
      ['net-symbol.json', 'symbol'],
      ['net-0010.params', 'weights'],
    ]);
    assert.ok(d?.evidence.some((e) => e.includes('1 other epoch')));
    const r = await identify(treeOf({ 'net-symbol.json': files['net-symbol.json'], 'net-0000.params': files['net-0001.params'] }), { name: 'm' });
    assert.equal(r.format?.variant, 'symbol+params');
  });

  it('near misses: TVM graph JSON, plain JSON, package.json, nodes without ops', async () => {
    const tvm = { ...symbol, attrs: { dltype: ['list_str', ['float32']], storage_id: ['list_int', [0]] } };
    const tvmOp = { ...symbol, nodes: [...symbol.nodes, { op: 'tvm_op', name: 'f', inputs: [] }] };
    for (const j of [tvm, tvmOp, { a: 1 }, { name: 'pkg', version: '1.0.0' }, { nodes: [{ name: 'x' }], arg_nodes: [], heads: [] }]) {
      assert.equal(await mxnet.detect!(probeOf(enc(j), 'x.json')), undefined, JSON.stringify(j).slice(0, 80));
    }
  });
});
