import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesSource, CountingSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { inspectSource, inspectTree, locateTree, openModel } from '../../inspect/inspect.js';
import { isModelwiseError } from '../../errors.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { readParams } from './params.js';
import { parseShapeAttr } from './symbol.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const GB = 1024 ** 3;

/** Little-endian byte builder for NDArray lists. */
class B {
  parts: number[] = [];
  u32(v: number): this {
    for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff);
    return this;
  }
  i32(v: number): this {
    return this.u32(v >>> 0);
  }
  u64(v: number): this {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }
  bytes(b: Uint8Array): this {
    this.parts.push(...b);
    return this;
  }
  shape(dims: number[]): this {
    this.i32(dims.length);
    for (const d of dims) this.u64(d);
    return this;
  }
  out(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}

const f32 = (a: number[]): Uint8Array => new Uint8Array(new Float32Array(a).buffer);

/** One of each layout: V0 (u32 dims), V1, V2 dense, V2 row_sparse, V2 none, V3 scalar. */
function params(): Uint8Array {
  const b = new B().u64(0x112).u64(0).u64(6);
  b.u32(2).u32(2).u32(1).i32(1).i32(0).i32(0).bytes(f32([1, 2])); // V0: ndim 2, dims 2×1, cpu, f32
  b.u32(0xf993fac8).shape([3]).i32(1).i32(0).i32(6).bytes(new Uint8Array(24)); // V1 i64[3]
  b.u32(0xf993fac9).i32(0).shape([2, 2]).i32(1).i32(0).i32(2).bytes(new Uint8Array(8)); // V2 f16[2,2]
  b.u32(0xf993fac9).i32(1).shape([1, 4]).shape([5, 4]).i32(1).i32(0).i32(0).i32(6).shape([1]).bytes(new Uint8Array(16 + 8)); // row_sparse
  b.u32(0xf993fac9).i32(0).shape([]); // none
  b.u32(0xf993faca).i32(0).shape([]).i32(1).i32(0).i32(0).bytes(f32([7])); // V3 scalar
  const names = ['arg:fc_weight', 'arg:fc_bias', 'aux:bn_moving_mean', 'arg:emb_weight', 'arg:none', 'arg:scale'];
  b.u64(names.length);
  for (const n of names) b.u64(n.length).bytes(enc(n));
  return b.out();
}

const symbol = {
  nodes: [
    { op: 'null', name: 'data', inputs: [], attrs: { __shape__: '(1, 3, 0)', __dtype__: '0' } },
    { op: 'null', name: 'fc_weight', inputs: [] },
    { op: 'null', name: 'fc_bias', inputs: [] },
    { op: 'FullyConnected', name: 'fc', inputs: [[0, 0, 0], [1, 0, 0], [2, 0, 0]] },
    { op: 'null', name: 'softmax_label', inputs: [] },
    { op: 'SoftmaxOutput', name: 'softmax', inputs: [[3, 0, 0], [4, 0, 0]] },
  ],
  arg_nodes: [0, 1, 2, 4],
  heads: [[5, 0, 0]],
  attrs: { mxnet_version: ['int', 10600] },
};

describe('mxnet params', () => {
  it('reads every layout V0–V3 with names, skipping data; none arrays dropped', async () => {
    const p = await readParams(new BytesSource(params(), 'm.params'));
    assert.deepEqual(p.tensors.map((t) => [t.name, t.dtype, t.shape, t.storage ?? 'dense']), [
      ['arg:fc_weight', 'f32', [2, 1], 'dense'],
      ['arg:fc_bias', 'i64', [3], 'dense'],
      ['aux:bn_moving_mean', 'f16', [2, 2], 'dense'],
      ['arg:emb_weight', 'f32', [5, 4], 'row_sparse'],
      ['arg:scale', 'f32', [], 'dense'],
    ]);
    assert.deepEqual(p.layouts, { V0: 1, V1: 1, V2: 3, V3: 1 });
    assert.equal(p.end, params().length);
    assert.deepEqual(p.diagnostics, []);
  });

  it('a damaged array keeps the arrays before it (partial report); lying counts are MALFORMED', async () => {
    const b = params();
    const bad = b.slice();
    const at = 24 + 4 + 4 * 2 + 8; // V0 array's type flag
    new DataView(bad.buffer).setInt32(at, 99, true);
    const p = await readParams(new BytesSource(bad, 'bad.params'));
    assert.equal(p.tensors.length, 0);
    assert.deepEqual(p.diagnostics.map((d) => d.code), ['MXNET_ARRAY_UNREADABLE']);
    const cut = await readParams(new BytesSource(b.slice(0, 120), 'cut.params'));
    assert.deepEqual(cut.diagnostics.map((d) => d.code), ['TRUNCATED']);
    assert.deepEqual(cut.tensors.map((t) => t.name), ['0', '1']); // names are at the end: unknown
    const lying = b.slice();
    new DataView(lying.buffer).setUint32(16, 0xffffffff, true);
    await assert.rejects(readParams(new BytesSource(lying, 'l.params')), (e) => isModelwiseError(e) && e.code === 'MALFORMED');
  });

  it('a 20 GB params file inspects reading a few KiB', async () => {
    const b = new B().u64(0x112).u64(0).u64(2);
    b.u32(0xf993fac9).i32(0).shape([50_000, 100_000]).i32(1).i32(0).i32(0);
    const first = b.out();
    const second = new B().u32(0xf993fac9).i32(0).shape([1000]).i32(1).i32(0).i32(0).out();
    const dataEnd = first.length + 50_000 * 100_000 * 4;
    const tail = new B().u64(2).u64(5).bytes(enc('arg:w')).u64(5).bytes(enc('arg:b')).out();
    const size = dataEnd + second.length + 4000 + tail.length;
    const src = new SparseSource(size, 'big.params').write(0, first).write(dataEnd, second).write(dataEnd + second.length + 4000, tail);
    const r = await inspectSource(src, { path: 'big.params' });
    assert.equal(r.format.variant, 'ndarray-list');
    assert.deepEqual(r.tensors.items.map((t) => t.name), ['arg:w', 'arg:b']);
    assert.equal(r.parameters.total, 5_000_001_000);
    assert.ok(src.bytesRead < 1024 * 1024, `read ${src.bytesRead}`);
    assert.ok(size > 20 * GB * 0.9);
  });
});

describe('mxnet inspect: symbol', () => {
  it('symbol + params: inputs are variables not in the params, heads are outputs, ops without null', async () => {
    const files = { 'net-symbol.json': enc(JSON.stringify(symbol)), 'net-0003.params': params() };
    const tree = new MemoryTree('m', Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new CountingSource(new BytesSource(v, k))])));
    const r = await inspectTree(tree, 'm');
    assert.equal(r.format.variant, 'symbol+params');
    assert.equal(r.producer, 'MXNet 1.6.0');
    assert.equal(r.tensors.count, 5);
    assert.deepEqual(r.graph, {
      inputs: [{ name: 'data', dtype: 'f32', shape: [1, 3, '?'] }, { name: 'softmax_label', dtype: null, shape: null }],
      outputs: [{ name: 'softmax', dtype: null, shape: null }],
      ops: { FullyConnected: 1, SoftmaxOutput: 1 },
    });
    const loc = await locateTree(tree, 'm');
    const m = await openModel(loc.id, loc.probe, loc.tree);
    const ins = await m.impl.inspect!(m.input);
    assert.deepEqual(await m.impl.readTensor!(m.input, ins.tensors[0]!), f32([1, 2]));
    await assert.rejects(m.impl.readTensor!(m.input, ins.tensors[3]!), (e) => isModelwiseError(e) && e.code === 'UNSUPPORTED');
  });

  it('a symbol alone: inputs guessed by name, no tensors', async () => {
    const r = await inspectSource(new BytesSource(enc(JSON.stringify(symbol)), 'net-symbol.json'), { path: 'net-symbol.json' });
    assert.equal(r.format.variant, 'symbol-json');
    assert.equal(r.tensors.count, 0);
    assert.deepEqual(r.graph?.inputs.map((i) => i.name), ['data', 'softmax_label']);
  });

  it('shape attributes', () => {
    assert.deepEqual(parseShapeAttr('(1, 3, 224, 224)'), [1, 3, 224, 224]);
    assert.deepEqual(parseShapeAttr('[0,5L]'), ['?', 5]);
    assert.deepEqual(parseShapeAttr('()'), []);
    assert.equal(parseShapeAttr('junk'), null);
  });
});
