import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesSource, CountingSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { inspectSource, inspectTree, locateSource, locateTree, openModel } from '../../inspect/inspect.js';
import { isModelwiseError } from '../../errors.js';
import { buildHdf5Tree, type H5Group } from '../../../test/helpers/hdf5-tree-writer.js';
import { Bytes, buildZip, crc32 } from '../../../test/helpers/zip-writer.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { kerasTopology } from './topology.js';

const f32 = (a: number[]): Uint8Array => new Uint8Array(new Float32Array(a).buffer);
const GB = 1024 ** 3;

const SEQ = {
  class_name: 'Sequential',
  config: {
    name: 'seq',
    layers: [
      { class_name: 'Dense', config: { name: 'dense', batch_input_shape: [null, 3], dtype: 'float32' } },
      { class_name: 'Dense', config: { name: 'dense_1' } },
    ],
  },
};
const FUNCTIONAL = {
  class_name: 'Functional',
  config: {
    name: 'model',
    layers: [
      { class_name: 'InputLayer', name: 'inp', config: { name: 'inp', batch_shape: [null, 4], dtype: 'float32' } },
      { class_name: 'Sequential', config: { name: 'inner', layers: [{ class_name: 'Dense', config: { name: 'd' } }, { class_name: 'Lambda', config: { name: 'lam' } }] } },
      { class_name: 'Dense', config: { name: 'head' } },
    ],
    input_layers: [['inp', 0, 0]],
    output_layers: ['head', 0, 0],
  },
};

const weightsTree = (extra: Record<string, H5Group> = {}): H5Group => ({
  members: {
    dense: { members: { dense: { members: { 'kernel:0': { dtype: 'f32', shape: [3, 2], data: f32([1, 2, 3, 4, 5, 6]) }, 'bias:0': { dtype: 'f32', shape: [2] } } } } },
    dense_1: { members: { dense_1: { members: { 'kernel:0': { dtype: 'f32', shape: [2, 1], bigEndian: true, data: f32([7, 8]) } } } } },
    ...extra,
  },
});

describe('keras topology', () => {
  it('Sequential without InputLayer: implicit <first layer>_input, last layer out', () => {
    const t = kerasTopology(SEQ);
    assert.deepEqual(t.graph, { inputs: [{ name: 'dense_input', dtype: 'f32', shape: ['?', 3] }], outputs: [{ name: 'dense_1', dtype: null, shape: null }], ops: { Dense: 2 } });
  });
  it('Functional: InputLayer shapes, unwrapped output_layers, nested models counted, Lambda noted', () => {
    const t = kerasTopology(FUNCTIONAL);
    assert.deepEqual(t.graph?.inputs, [{ name: 'inp', dtype: 'f32', shape: ['?', 4] }]);
    assert.deepEqual(t.graph?.outputs.map((o) => o.name), ['head']);
    assert.deepEqual(t.graph?.ops, { InputLayer: 1, Sequential: 1, Dense: 2, Lambda: 1 });
    assert.deepEqual(t.lambdaLayers, ['lam']);
  });
  it('a subclassed model has no graph; junk is tolerated', () => {
    assert.equal(kerasTopology({ class_name: 'MyModel', config: { units: 3 } }).graph, undefined);
    assert.equal(kerasTopology('nope').graph, undefined);
    let deep: Record<string, unknown> = { class_name: 'Dense', config: {} };
    for (let i = 0; i < 1000; i++) deep = { class_name: 'Sequential', config: { layers: [deep] } };
    assert.ok(kerasTopology(deep).graph); // nesting is cut, no stack overflow
  });
});

describe('keras inspect: legacy .h5', () => {
  const h5 = buildHdf5Tree({
    attrs: { keras_version: '2.13.1', backend: 'tensorflow', model_config: JSON.stringify(SEQ), training_config: JSON.stringify({ loss: 'mse', optimizer_config: { class_name: 'Adam', config: { learning_rate: 0.001 } } }) },
    members: { model_weights: weightsTree(), optimizer_weights: { members: { 'iter:0': { dtype: 'i64', shape: [] } } } },
  }).bytes;

  it('tensors under /model_weights, graph from model_config, producer and training config', async () => {
    const r = await inspectSource(new BytesSource(h5, 'm.h5'), { path: 'm.h5' });
    assert.equal(r.format.variant, 'keras-h5');
    assert.equal(r.format.version, '2.13.1');
    assert.equal(r.producer, 'Keras 2.13.1 (backend tensorflow)');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [
      ['dense/dense/bias:0', 'f32', [2]],
      ['dense/dense/kernel:0', 'f32', [3, 2]],
      ['dense_1/dense_1/kernel:0', 'f32', [2, 1]],
    ]);
    assert.equal(r.parameters.total, 10);
    assert.deepEqual(r.graph?.ops, { Dense: 2 });
    assert.deepEqual(r.details?.training, { optimizer: 'Adam', learningRate: 0.001, loss: 'mse' });
    assert.ok(r.details?.optimizerWeights);
    assert.deepEqual(Object.keys(r.metadata).sort(), ['backend', 'keras_version', 'model_config', 'training_config']);
  });

  it('readTensor: contiguous data, big-endian swapped', async () => {
    const { id, probe } = await locateSource(new BytesSource(h5, 'm.h5'), { path: 'm.h5' });
    const m = await openModel(id, probe, undefined);
    const ins = await m.impl.inspect!(m.input);
    const k = ins.tensors.find((t) => t.name === 'dense/dense/kernel:0')!;
    assert.deepEqual(await m.impl.readTensor!(m.input, k), f32([1, 2, 3, 4, 5, 6]));
    assert.deepEqual(await m.impl.readTensor!(m.input, ins.tensors.find((t) => t.name === 'dense_1/dense_1/kernel:0')!), f32([7, 8]));
  });

  it('a bad model_config is a diagnostic; a truncated file an error code', async () => {
    const bad = buildHdf5Tree({ attrs: { keras_version: '2.4.0', model_config: '{not json' }, members: { model_weights: weightsTree() } }).bytes;
    const r = await inspectSource(new BytesSource(bad, 'b.h5'), { path: 'b.h5' });
    assert.deepEqual(r.diagnostics.map((d) => d.code), ['KERAS_BAD_JSON']);
    assert.equal(r.tensors.count, 3);
    const cut = h5.slice(0, Math.floor(h5.length * 0.6));
    await assert.rejects(inspectSource(new BytesSource(cut, 'c.h5'), { path: 'c.h5' }), (e) => isModelwiseError(e) && ['UNEXPECTED_EOF', 'MALFORMED', 'UNKNOWN_FORMAT'].includes(e.code));
  });

  it('a 50 GB file inspects reading a few KiB (dataset data is never read)', async () => {
    const bytes = buildHdf5Tree({
      attrs: { keras_version: '2.15.0', backend: 'tensorflow', model_config: JSON.stringify(SEQ) },
      members: { model_weights: { members: { dense: { members: { 'kernel:0': { dtype: 'f32', shape: [100_000, 50_000], at: 1 * GB }, 'bias:0': { dtype: 'f32', shape: [50_000], at: 21 * GB } } } } } },
    }).bytes;
    const src = new SparseSource(50 * GB, 'big.h5').write(0, bytes);
    const r = await inspectSource(src, { path: 'big.h5' });
    assert.equal(r.tensors.count, 2);
    assert.equal(r.parameters.total, 5_000_050_000);
    assert.equal(r.tensors.items.find((t) => t.name === 'dense/kernel:0')!.offset, 1 * GB);
    assert.ok(src.bytesRead < 2 * 1024 * 1024, `read ${src.bytesRead} bytes`);
  });
});

/** A stored zip64 archive whose members are `{name, head, size}`: `head` written, the rest sparse. */
function sparseZip(members: { name: string; head: Uint8Array; size: number }[]): SparseSource {
  const regions: [number, Uint8Array][] = [];
  const central = new Bytes();
  let at = 0;
  for (const m of members) {
    const name = new TextEncoder().encode(m.name);
    const crc = m.head.length === m.size ? crc32(m.head) : 0;
    const local = new Bytes().u32(0x04034b50).u16(45).u16(0).u16(0).u32(0).u32(crc).u32(0xffffffff).u32(0xffffffff).u16(name.length).u16(20).bytes(name);
    local.u16(1).u16(16).u64(m.size).u64(m.size);
    regions.push([at, local.build()], [at + local.length, m.head]);
    central.u32(0x02014b50).u16(45).u16(45).u16(0).u16(0).u32(0).u32(crc).u32(0xffffffff).u32(0xffffffff).u16(name.length).u16(28).u16(0).u16(0).u16(0).u32(0).u32(0xffffffff).bytes(name);
    central.u16(1).u16(24).u64(m.size).u64(m.size).u64(at);
    at += local.length + m.size;
  }
  const cd = central.build();
  const tail = new Bytes()
    .u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(members.length).u64(members.length).u64(cd.length).u64(at)
    .u32(0x07064b50).u32(0).u64(at + cd.length).u32(1)
    .u32(0x06054b50).u16(0).u16(0).u16(0xffff).u16(0xffff).u32(0xffffffff).u32(0xffffffff).u16(0)
    .build();
  const src = new SparseSource(at + cd.length + tail.length, 'big.keras');
  for (const [o, b] of regions) src.write(o, b);
  return src.write(at, cd).write(at + cd.length, tail);
}

describe('keras inspect: .keras v3 and JSON + weights', () => {
  it('a 40 GB .keras (stored zip64 member) inspects reading a few hundred KiB', async () => {
    const h5 = buildHdf5Tree({ members: { layers: { members: { dense: { members: { vars: { members: { '0': { dtype: 'f32', shape: [100_000, 100_000], at: 4096 } } } } } } } } }).bytes;
    const text = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
    const meta = text({ keras_version: '3.7.0' });
    const cfg = text(SEQ);
    const src = sparseZip([
      { name: 'metadata.json', head: meta, size: meta.length },
      { name: 'config.json', head: cfg, size: cfg.length },
      { name: 'model.weights.h5', head: h5, size: 4096 + 40e9 },
    ]);
    const r = await inspectSource(src, { path: 'big.keras' });
    assert.equal(r.format.variant, 'keras-v3');
    assert.equal(r.parameters.total, 1e10);
    assert.ok(src.bytesRead < 512 * 1024, `read ${src.bytesRead}`);
  });

  const weights = buildHdf5Tree({
    members: {
      layers: { members: { dense: { members: { vars: { members: { '0': { dtype: 'f32', shape: [3, 2], data: f32([1, 2, 3, 4, 5, 6]) }, '1': { dtype: 'f32', shape: [2] } } } } } } },
      optimizer: { members: { vars: { members: { '0': { dtype: 'i64', shape: [] }, '1': { dtype: 'f32', shape: [3, 2] } } } } },
    },
  }, { superblock: 2 }).bytes;
  const keras = buildZip([
    { name: 'metadata.json', data: JSON.stringify({ keras_version: '3.5.0', date_saved: '2024-09-01@10:00:00' }) },
    { name: 'config.json', data: JSON.stringify({ ...FUNCTIONAL, compile_config: { optimizer: { class_name: 'Adam' }, loss: 'mse' } }) },
    { name: 'model.weights.h5', data: weights },
  ]).bytes;

  it('.keras: every dataset of model.weights.h5 (optimizer included), offsets into the zip', async () => {
    const r = await inspectSource(new BytesSource(keras, 'm.keras'), { path: 'm.keras' });
    assert.equal(r.format.variant, 'keras-v3');
    assert.equal(r.producer, 'Keras 3.5.0');
    assert.deepEqual(r.tensors.items.map((t) => t.name).sort(), ['layers/dense/vars/0', 'layers/dense/vars/1', 'optimizer/vars/0', 'optimizer/vars/1']);
    assert.equal(r.parameters.total, 6 + 2 + 1 + 6);
    assert.deepEqual(r.details?.weightGroups, { layers: { tensors: 2, parameters: 8 }, optimizer: { tensors: 2, parameters: 7 } });
    assert.deepEqual(r.graph?.inputs, [{ name: 'inp', dtype: 'f32', shape: ['?', 4] }]);
    assert.deepEqual(r.metadata, { keras_version: '3.5.0', date_saved: '2024-09-01@10:00:00' });
    assert.ok(r.diagnostics.some((d) => d.code === 'KERAS_LAMBDA_LAYER'));
    const k = r.tensors.items.find((t) => t.name === 'layers/dense/vars/0')!;
    assert.deepEqual(keras.subarray(k.offset as number, (k.offset as number) + 24), f32([1, 2, 3, 4, 5, 6]));
    const { id, probe } = await locateSource(new BytesSource(keras, 'm.keras'), { path: 'm.keras' });
    const m = await openModel(id, probe, undefined);
    assert.deepEqual(await m.impl.readTensor!(m.input, k), f32([1, 2, 3, 4, 5, 6]));
  });

  it('JSON + weights folder: every dataset of the weights file, graph from the JSON', async () => {
    const files = {
      'model.json': new TextEncoder().encode(JSON.stringify({ ...SEQ, keras_version: '2.4.0', backend: 'tensorflow' })),
      'weights.h5': buildHdf5Tree({ attrs: { keras_version: '2.4.0', backend: 'tensorflow', layer_names: ['dense', 'dense_1'] }, ...weightsTree() }).bytes,
    };
    const counted = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new CountingSource(new BytesSource(v, k))]));
    const tree = new MemoryTree('m', counted);
    const r = await inspectTree(tree, 'm');
    assert.equal(r.format.variant, 'keras-json+h5');
    assert.equal(r.tensors.count, 3);
    assert.ok(r.tensors.items.every((t) => t.file === 'weights.h5'));
    assert.deepEqual(r.graph?.inputs.map((i) => i.name), ['dense_input']);
    assert.deepEqual(Object.keys(r.metadata).sort(), ['backend', 'keras_version', 'layer_names']);
    const loc = await locateTree(tree, 'm');
    const m = await openModel(loc.id, loc.probe, loc.tree);
    const ins = await m.impl.inspect!(m.input);
    assert.deepEqual(await m.impl.readTensor!(m.input, ins.tensors.find((t) => t.name === 'dense/dense/kernel:0')!), f32([1, 2, 3, 4, 5, 6]));
  });
});
