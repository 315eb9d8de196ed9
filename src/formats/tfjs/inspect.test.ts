import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesSource, CountingSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { inspectTree, locateTree, openModel } from '../../inspect/inspect.js';
import { isModelwiseError } from '../../errors.js';
import { pb } from '../../codecs/protobuf.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { dequantizeTfjs, halfToFloat } from './manifest.js';
import type { TensorInfo } from '../../types.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const f32 = (a: number[]): Uint8Array => new Uint8Array(new Float32Array(a).buffer);
const cat = (...p: Uint8Array[]): Uint8Array => pb.concat(...p);
const GB = 1024 ** 3;

function folder(files: Record<string, Uint8Array | ByteSource>) {
  const counted = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new CountingSource(v instanceof Uint8Array ? new BytesSource(v, k) : v)]));
  return { tree: new MemoryTree('m', counted), read: () => Object.values(counted).reduce((s, c) => s + c.bytesRead, 0) };
}

const LAYERS_TOPOLOGY = {
  class_name: 'Sequential',
  config: { name: 'seq', layers: [{ class_name: 'Dense', config: { name: 'dense_Dense1', batch_input_shape: [null, 3], dtype: 'float32' } }] },
  keras_version: 'tfjs-layers 4.0.0',
  backend: 'tensor_flow.js',
};

// Group 1: kernel f32 [3,2] (24 bytes) + bias uint8-quantized [2] (2 bytes) split over two shards (20 + 6).
// Group 2: a float16-quantized [2] weight (4 bytes).
const kernel = f32([1, 2, 3, 4, 5, 6]);
const g1 = cat(kernel, new Uint8Array([0, 255]));
const half = new Uint8Array([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0
const layersModel = {
  format: 'layers-model',
  generatedBy: 'TensorFlow.js tfjs-layers v4.0.0',
  convertedBy: null,
  modelTopology: LAYERS_TOPOLOGY,
  weightsManifest: [
    {
      paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
      weights: [
        { name: 'dense_Dense1/kernel', shape: [3, 2], dtype: 'float32' },
        { name: 'dense_Dense1/bias', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', min: -1, scale: 0.01 } },
      ],
    },
    { paths: ['group2-shard1of1.bin'], weights: [{ name: 'h', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } }] },
  ],
};
const layersFiles = {
  'model.json': enc(JSON.stringify(layersModel)),
  'group1-shard1of2.bin': g1.slice(0, 20),
  'group1-shard2of2.bin': g1.slice(20),
  'group2-shard1of1.bin': half,
};

async function open(files: Record<string, Uint8Array | ByteSource>) {
  const { tree } = folder(files);
  const loc = await locateTree(tree, 'm');
  const m = await openModel(loc.id, loc.probe, loc.tree);
  const ins = await m.impl.inspect!(m.input);
  const t = (n: string): TensorInfo => ins.tensors.find((x) => x.name === n)!;
  return { m, ins, t, read: (n: string) => m.impl.readTensor!(m.input, t(n)) };
}

describe('tfjs inspect: layers model', () => {
  it('manifest weights with the entry dtype, quantization parameters, shard offsets; Keras graph', async () => {
    const r = await inspectTree(folder(layersFiles).tree, 'm');
    assert.equal(r.format.variant, 'tfjs-layers');
    assert.equal(r.producer, 'generatedBy: TensorFlow.js tfjs-layers v4.0.0');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape, t.byteLength, t.file, t.offset]), [
      ['dense_Dense1/kernel', 'f32', [3, 2], 24, 'group1-shard1of2.bin', 0],
      ['dense_Dense1/bias', 'f32', [2], 2, 'group1-shard2of2.bin', 4],
      ['h', 'f32', [2], 4, 'group2-shard1of1.bin', 0],
    ]);
    assert.deepEqual(r.tensors.items[1]!.quantization, { scheme: 'affine', storedDtype: 'u8', bits: 8, scale: 0.01, min: -1 });
    assert.match(r.quantization?.summary ?? '', /2 of 3 weights stored quantized as uint8, float16/);
    assert.deepEqual(r.graph, { inputs: [{ name: 'dense_Dense1_input', dtype: 'f32', shape: ['?', 3] }], outputs: [{ name: 'dense_Dense1', dtype: null, shape: null }], ops: { Dense: 1 } });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(Object.keys(r.metadata), ['format', 'generatedBy', 'convertedBy']);
  });

  it('readTensor: across shards; quantized weights come back dequantized (bytes in the tensor dtype)', async () => {
    const { read, t } = await open(layersFiles);
    assert.deepEqual(await read('dense_Dense1/kernel'), kernel);
    const q = await read('dense_Dense1/bias');
    const asF32 = (b: Uint8Array) => [...new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))];
    assert.deepEqual(asF32(q).map((x) => Math.round(x * 1e4) / 1e4), [-1, 1.55]);
    assert.deepEqual(asF32(await read('h')), [1, -2]);
    assert.deepEqual([...dequantizeTfjs(t('h'), new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer))], [1, -2]);
    assert.equal(halfToFloat(0x7c00), Infinity);
  });

  it('missing and short shards are diagnostics', async () => {
    const { 'group1-shard2of2.bin': _, ...missing } = layersFiles;
    const r = await inspectTree(folder(missing).tree, 'm');
    assert.deepEqual(r.diagnostics.map((d) => d.code), ['SHARD_MISSING']);
    const r2 = await inspectTree(folder({ ...layersFiles, 'group2-shard1of1.bin': half.slice(0, 2) }).tree, 'm');
    assert.deepEqual(r2.diagnostics.map((d) => d.code), ['TENSOR_OUT_OF_BOUNDS']);
    const { read } = await open({ ...layersFiles, 'group2-shard1of1.bin': half.slice(0, 2) });
    await assert.rejects(read('h'), (e) => isModelwiseError(e) && e.code === 'UNEXPECTED_EOF');
  });

  it('string weights: variable length; the weights after one are found by their length prefixes', async () => {
    const shard = cat(new Uint8Array([2, 0, 0, 0]), enc('ab'), new Uint8Array([1, 0, 0, 0]), enc('c'), f32([9, 8]));
    const model = { modelTopology: LAYERS_TOPOLOGY, weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 's', shape: [2], dtype: 'string' }, { name: 'after', shape: [2], dtype: 'float32' }] }] };
    const { ins, read } = await open({ 'model.json': enc(JSON.stringify(model)), 'w.bin': shard });
    assert.deepEqual(ins.tensors.map((t) => [t.name, t.dtype, t.offset]), [['s', 'string', 0], ['after', 'f32', null]]);
    assert.deepEqual(await read('after'), f32([9, 8]));
    await assert.rejects(read('s'), (e) => isModelwiseError(e) && e.code === 'UNSUPPORTED');
  });

  it('a 10 GB shard set inspects without reading the shards', async () => {
    const shards: Record<string, ByteSource> = {};
    const weights = [];
    for (let i = 1; i <= 5; i++) {
      shards[`group1-shard${i}of5.bin`] = new SparseSource(2 * GB, `s${i}`);
      weights.push({ name: `w${i}`, shape: [GB / 2], dtype: 'float32' });
    }
    const model = { format: 'layers-model', modelTopology: LAYERS_TOPOLOGY, weightsManifest: [{ paths: Object.keys(shards), weights }] };
    const f = folder({ 'model.json': enc(JSON.stringify(model)), ...shards });
    const r = await inspectTree(f.tree, 'm');
    assert.equal(r.tensors.count, 5);
    assert.equal(r.parameters.total, 5 * (GB / 2));
    assert.deepEqual(r.diagnostics, []);
    assert.ok(f.read() < 1024 * 1024, `read ${f.read()} bytes`);
  });

  it('a malformed manifest is MALFORMED', async () => {
    const bad = { modelTopology: LAYERS_TOPOLOGY, weightsManifest: [{ paths: 'x', weights: 3 }] };
    await assert.rejects(open({ 'model.json': enc(JSON.stringify(bad)) }), (e) => isModelwiseError(e) && (e.code === 'MALFORMED' || e.code === 'UNKNOWN_FORMAT'));
  });
});

describe('tfjs inspect: graph models', () => {
  const nodes = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } },
    { name: 'w', op: 'Const', attr: {} },
    { name: 'mm', op: 'MatMul', input: ['x', 'w:0'] },
    { name: 'out', op: 'Identity', input: ['mm', '^w'] },
  ];
  const manifest = [{ paths: ['g.bin'], weights: [{ name: 'w', shape: [4, 2], dtype: 'float32' }] }];
  it('signature inputs/outputs keyed by signature names', async () => {
    const model = {
      format: 'graph-model',
      convertedBy: 'TensorFlow.js Converter v3.6.0',
      signature: { inputs: { 'x:0': { name: 'x:0', dtype: 'DT_INT64', tensorShape: { dim: [{ size: '-1' }] } } }, outputs: { 'out:0': { name: 'out:0', dtype: 'DT_FLOAT', tensorShape: { unknownRank: true } } } },
      modelTopology: { node: nodes, versions: { producer: 1 } },
      weightsManifest: manifest,
    };
    const r = await inspectTree(folder({ 'model.json': enc(JSON.stringify(model)), 'g.bin': new Uint8Array(32) }).tree, 'm');
    assert.equal(r.format.variant, 'tfjs-graph');
    assert.deepEqual(r.graph, { inputs: [{ name: 'x:0', dtype: 'i64', shape: ['?'] }], outputs: [{ name: 'out:0', dtype: 'f32', shape: null }], ops: { Placeholder: 1, Const: 1, MatMul: 1, Identity: 1 } });
  });
  it('no signature: Placeholders in, unconsumed nodes out', async () => {
    const model = { format: 'graph-model', modelTopology: { node: nodes }, weightsManifest: manifest };
    const r = await inspectTree(folder({ 'model.json': enc(JSON.stringify(model)), 'g.bin': new Uint8Array(32) }).tree, 'm');
    assert.deepEqual(r.graph?.inputs, [{ name: 'x', dtype: 'f32', shape: ['?', 4] }]);
    assert.deepEqual(r.graph?.outputs.map((o) => o.name), ['out']);
  });
  it('a bare weights manifest next to tensorflowjs_model.pb (tfjs-converter 0.x)', async () => {
    const node = (name: string, op: string) => pb.message(1, pb.string(1, name), pb.string(2, op));
    const graph = cat(node('x', 'Placeholder'), node('w', 'Const'), node('y', 'MatMul'), pb.message(4, pb.varint(1, 27)));
    const r = await inspectTree(folder({ 'weights_manifest.json': enc(JSON.stringify(manifest)), 'tensorflowjs_model.pb': graph, 'g.bin': new Uint8Array(32) }).tree, 'm');
    assert.equal(r.format.variant, 'tfjs-weights-manifest');
    assert.equal(r.tensors.count, 1);
    assert.deepEqual(r.graph?.ops, { Placeholder: 1, Const: 1, MatMul: 1 });
  });
});
