import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { BytesSource, CountingSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { inspectSource, inspectTree, locateSource, locateTree, openModel } from '../../inspect/inspect.js';
import { isModelwiseError } from '../../errors.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';

const enc = (s: string) => new TextEncoder().encode(s);
const GB = 1024 ** 3;
const floats = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const packed = (...v: number[]) => pb.concat(...v.map((x) => pb.rawVarint(x)));

function tree(files: Record<string, Uint8Array | ByteSource>) {
  const counted: Record<string, CountingSource> = {};
  for (const [k, v] of Object.entries(files)) counted[k] = new CountingSource(v instanceof Uint8Array ? new BytesSource(v, k) : v);
  return { tree: new MemoryTree('m', counted), counted, read: () => Object.values(counted).reduce((s, c) => s + c.bytesRead, 0) };
}

/** FeatureDescription { name = 1, type = 3 (FeatureType) }. */
const feature = (field: number, name: string, type: Uint8Array) => pb.message(field, pb.string(1, name), pb.bytes(3, type));
const metadata = pb.message(100, pb.string(1, 'a test model'), pb.string(3, 'me'), pb.string(4, 'MIT'), pb.message(100, pb.string(1, 'com.github.apple.coremltools.version'), pb.string(2, '7.2')));
const description = pb.message(
  2,
  feature(1, 'image', pb.message(4, pb.varint(1, 224), pb.varint(2, 112), pb.varint(3, 20))),
  feature(1, 'arr', pb.message(5, pb.varint(2, 65568))),
  feature(1, 'arr16', pb.message(5, pb.bytes(1, packed(1, 3)), pb.varint(2, 65552), pb.message(31, pb.message(1, pb.varint(1, 1), pb.varint(2, 10))))),
  feature(1, 'dict', pb.message(6, pb.message(1))),
  feature(10, 'label', pb.message(3)),
  feature(10, 'tokens', pb.message(7, pb.message(3))),
  feature(10, 'count', pb.message(1)),
  feature(10, 'score', pb.message(2)),
  metadata,
);

const W = (...parts: Uint8Array[]) => pb.concat(...parts); // WeightParams fields
const layer = (name: string, kind: number, params: Uint8Array) => pb.message(1, pb.string(1, name), pb.string(2, 'in'), pb.string(3, 'out'), pb.bytes(kind, params));
const lstmWeights = (v: number) => pb.message(20, pb.message(1, pb.bytes(1, floats(v, v))));
const nnLayers = [
  layer('conv1', 100, pb.concat(pb.varint(1, 2), pb.message(90, pb.bytes(1, floats(1, 2, 3, 4, 5, 6))), pb.message(91, pb.bytes(2, new Uint8Array(8))))),
  layer('act', 130, pb.message(25, pb.message(1, pb.bytes(1, floats(0.1, 0.2, 0.3))))),
  layer('ip', 140, pb.concat(pb.message(20, W(pb.bytes(30, new Uint8Array(12)), pb.message(40, pb.varint(1, 4), pb.message(102, pb.bytes(1, new Uint8Array(64)))))), pb.message(21, W(pb.bytes(31, new Uint8Array(5)), pb.message(40, pb.varint(1, 8), pb.message(101, pb.bytes(1, floats(0.5)))))))),
  layer('lstm', 430, pb.concat(lstmWeights(1), lstmWeights(2))),
  layer('custom', 500, pb.concat(pb.string(10, 'MyLayer'), pb.message(20, pb.bytes(30, new Uint8Array(7))), pb.message(20, pb.bytes(1, floats(9))))),
  layer('loop', 615, pb.message(4, layer('inner', 140, pb.message(20, pb.bytes(1, floats(1, 1, 1)))))),
  layer('bn', 160, pb.message(15, pb.float(1, 1), pb.float(1, 2))),
  layer('soft', 175, new Uint8Array(0)),
];
const nnModel = pb.concat(pb.varint(1, 4), description, pb.message(500, ...nnLayers));

describe('coreml inspect: .mlmodel', () => {
  it('reads features, metadata, layer histogram and every WeightParams by location', async () => {
    const r = await inspectSource(new BytesSource(nnModel, 'net.mlmodel'), { path: 'net.mlmodel' });
    assert.equal(r.format.variant, 'mlmodel');
    assert.equal(r.format.version, '4');
    assert.equal(r.producer, 'coremltools 7.2');
    assert.equal(r.architecture, 'neuralNetwork');
    assert.deepEqual(r.metadata, { shortDescription: 'a test model', author: 'me', license: 'MIT', 'com.github.apple.coremltools.version': '7.2' });
    assert.deepEqual(r.graph?.inputs.map((i) => [i.name, i.dtype, i.shape]), [['image', 'image:RGB', [112, 224]], ['arr', 'f32', null], ['arr16', 'f16', [1, 3]], ['dict', 'dict(i64,f64)', null]]);
    assert.deepEqual(r.graph?.outputs.map((i) => [i.name, i.dtype, i.shape]), [['label', 'string', []], ['tokens', 'seq(stringType)', null], ['count', 'i64', []], ['score', 'f64', []]]);
    assert.deepEqual(r.graph?.ops, { convolution: 1, activation: 1, innerProduct: 2, biDirectionalLSTM: 1, custom: 1, loop: 1, batchnorm: 1, softmax: 1 });
    const t = Object.fromEntries(r.tensors.items.map((x) => [x.name, [x.dtype, x.shape, x.byteLength]]));
    assert.deepEqual(t, {
      'conv1.weights': ['f32', [6], 24],
      'conv1.bias': ['f16', [4], 8],
      'act.PReLU.alpha': ['f32', [3], 12],
      'ip.weights': ['q4', [24], 12],
      'ip.bias': ['i8', [5], 5],
      'lstm.weightParams[0].inputGateWeightMatrix': ['f32', [2], 8],
      'lstm.weightParams[1].inputGateWeightMatrix': ['f32', [2], 8],
      'custom.weights[0]': ['raw_bytes', [7], 7],
      'custom.weights[1]': ['f32', [1], 4],
      'loop.bodyNetwork/inner.weights': ['f32', [3], 12],
      'bn.gamma': ['f32', [2], 8],
    });
    const ip = r.tensors.items.find((x) => x.name === 'ip.weights')!;
    assert.equal(ip.quantization?.scheme, 'lookup-table');
    assert.equal(ip.quantization?.lutSize, 16);
    assert.match(r.quantization!.summary, /2 of 11 weights quantized \(q4, i8\), 1 palettized/);
    // readTensor: the packed floats as stored; scattered floats have no single range
    const loc = await locateSource(new BytesSource(nnModel, 'net.mlmodel'), { path: 'net.mlmodel' });
    const o = await openModel(loc.id, loc.probe, undefined);
    const conv = r.tensors.items.find((x) => x.name === 'conv1.weights')!;
    assert.deepEqual(new Float32Array((await o.impl.readTensor!(o.input, conv)).slice().buffer), Float32Array.from([1, 2, 3, 4, 5, 6]));
    await assert.rejects(o.impl.readTensor!(o.input, r.tensors.items.find((x) => x.name === 'bn.gamma')!), (e: unknown) => isModelwiseError(e) && e.code === 'UNSUPPORTED');
  });

  it('locates 3 GB of inline floatValue without reading it', async () => {
    const n = 3 * GB;
    const wp = pb.concat(pb.tag(1, 2), pb.rawVarint(n)); // WeightParams { floatValue (packed) }
    const params = pb.concat(pb.varint(1, 8), pb.tag(90, 2), pb.rawVarint(wp.length + n), wp);
    const lay = pb.concat(pb.string(1, 'big'), pb.tag(100, 2), pb.rawVarint(params.length + n), params);
    const tail = layer('fc', 140, pb.message(20, pb.bytes(1, floats(1, 2))));
    const nn = pb.concat(pb.tag(1, 2), pb.rawVarint(lay.length + n), lay);
    const head = pb.concat(pb.varint(1, 4), description, pb.tag(500, 2), pb.rawVarint(nn.length + n + tail.length), nn);
    const src = new SparseSource(head.length + n + tail.length, 'huge.mlmodel').write(0, head).write(head.length + n, tail);
    const r = await inspectSource(src, { path: 'huge.mlmodel' });
    assert.deepEqual(r.tensors.items.map((x) => [x.name, x.dtype, x.shape, x.offset]), [['big.weights', 'f32', [n / 4], head.length], ['fc.weights', 'f32', [2], head.length + n + tail.length - 8]]);
    assert.ok(src.bytesRead < 512 * 1024, `read ${src.bytesRead}`);
  });

  it('recurses pipelines: sub-model kinds as ops, network weights prefixed models[i]/', async () => {
    const sub1 = pb.concat(pb.varint(1, 1), pb.message(2), pb.message(600, pb.varint(10, 1)));
    const sub2 = pb.concat(pb.varint(1, 1), pb.message(2), pb.message(403, layer('fc', 140, pb.message(20, pb.bytes(2, new Uint8Array(6))))));
    const model = pb.concat(pb.varint(1, 3), description, pb.message(200, pb.message(1, pb.bytes(1, sub1), pb.bytes(1, sub2))));
    const r = await inspectSource(new BytesSource(model, 'p.mlmodel'), { path: 'p.mlmodel' });
    assert.deepEqual(r.graph?.ops, { oneHotEncoder: 1, innerProduct: 1 });
    assert.deepEqual(r.tensors.items.map((x) => [x.name, x.dtype, x.shape]), [['models[1]/fc.weights', 'f16', [3]]]);
    assert.deepEqual((r.details as { model: string[] }).model, ['pipelineClassifier of 2 models', 'models[0]=oneHotEncoder', 'models[1]/neuralNetworkClassifier (1 layers)']);
  });

  it('gives a partial report for damage past the first 64 KiB and bounds nesting', async () => {
    const big = layer('big', 140, pb.message(20, pb.bytes(1, new Uint8Array(80_000))));
    const damaged = layer('bad', 140, pb.concat(pb.message(20, pb.bytes(1, floats(1))), new Uint8Array([0x0f, 0xff])));
    const model = pb.concat(pb.varint(1, 4), description, pb.message(500, big, damaged, ...nnLayers));
    const r = await inspectSource(new BytesSource(model, 'dmg.mlmodel'), { path: 'dmg.mlmodel' });
    assert.ok(r.diagnostics.some((d) => d.code === 'MALFORMED' && /read partially/.test(d.message)), JSON.stringify(r.diagnostics));
    assert.equal(r.tensors.count, 13);
    let deep = layer('x', 175, new Uint8Array(0));
    for (let i = 0; i < 150; i++) deep = layer(`l${i}`, 615, pb.bytes(4, deep));
    const d = await inspectSource(new BytesSource(pb.concat(pb.varint(1, 4), description, pb.message(500, deep)), 'deep.mlmodel'), { path: 'deep.mlmodel' });
    assert.ok(d.diagnostics.some((x) => x.code === 'LIMIT_EXCEEDED'));
  });
});

/** Value { type = 2 (ValueType { tensorType { dataType, rank, dimensions } }), blobFileValue = 5 }. */
const blobValue = (dtype: number, dims: number[], offset: number) =>
  pb.concat(pb.message(2, pb.message(1, pb.varint(1, dtype), pb.varint(2, dims.length), ...dims.map((d) => pb.message(3, pb.message(1, pb.varint(1, d)))))), pb.message(5, pb.string(1, '@model_path/weights/weight.bin'), pb.varint(2, offset)));
const attr = (name: string, value: Uint8Array) => pb.message(5, pb.string(1, name), pb.bytes(2, value));
const op = (type: string, out: string, ...rest: Uint8Array[]) => pb.message(3, pb.string(1, type), pb.message(3, pb.string(1, out)), ...rest);
const blobRecord = (dtype: number, size: number, dataOffset: number, sentinel = 0xdeadbeef) => {
  const b = new Uint8Array(64);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, sentinel, true);
  dv.setUint32(4, dtype, true);
  dv.setUint32(8, size % 2 ** 32, true);
  dv.setUint32(12, Math.floor(size / 2 ** 32), true);
  dv.setUint32(16, dataOffset % 2 ** 32, true);
  dv.setUint32(20, Math.floor(dataOffset / 2 ** 32), true);
  return b;
};

describe('coreml inspect: .mlpackage ML program and .mlmodelc', () => {
  it('sizes blob constants from weight.bin headers without reading a 20 GB blob file', async () => {
    const block = pb.concat(
      op('const', 'w', attr('val', blobValue(10, [4096, 4096, 256], 64))),
      op('const', 'b', attr('val', blobValue(11, [4], 10 * GB))),
      op('constexpr_lut_to_dense', 'w_pal', attr('indices', blobValue(35, [8, 8], 10 * GB + 1024)), attr('lut', blobValue(10, [16], 10 * GB + 2048))),
      op('const', 'bad', attr('val', blobValue(11, [2], 12 * GB))),
      op('conv', 'y'),
      op('cond', 'z', pb.message(4, op('const', 'inner', attr('val', blobValue(11, [1], 10 * GB + 4096))), op('relu', 'r'))),
    );
    const program = pb.message(502, pb.varint(1, 1), pb.message(2, pb.string(1, 'main'), pb.message(2, pb.string(2, 'CoreML6'), pb.message(3, pb.string(1, 'CoreML6'), pb.message(2, block)))));
    const model = pb.concat(pb.varint(1, 6), description, program);
    const bin = new SparseSource(20 * GB, 'weight.bin');
    const header = new Uint8Array(64);
    new DataView(header.buffer).setUint32(0, 5, true);
    new DataView(header.buffer).setUint32(4, 2, true);
    bin.write(0, header).write(64, blobRecord(1, 4096 * 4096 * 256 * 2, 128));
    bin.write(10 * GB, pb.concat(blobRecord(2, 16, 10 * GB + 64), floats(1, 2, 3, 4)));
    bin.write(10 * GB + 1024, blobRecord(11, 32, 10 * GB + 1088)).write(10 * GB + 2048, blobRecord(1, 32, 10 * GB + 2112)).write(10 * GB + 4096, blobRecord(2, 4, 10 * GB + 4160));
    const manifest = { fileFormatVersion: '1.0.0', itemInfoEntries: { A: { author: 'com.apple.CoreML', name: 'model.mlmodel', path: 'com.apple.CoreML/model.mlmodel' }, B: { author: 'com.apple.CoreML', name: 'weights', path: 'com.apple.CoreML/weights' } }, rootModelIdentifier: 'A' };
    const t = tree({ 'Manifest.json': enc(JSON.stringify(manifest)), 'Data/com.apple.CoreML/model.mlmodel': model, 'Data/com.apple.CoreML/weights/weight.bin': bin });
    const r = await inspectTree(t.tree, 'x.mlpackage');
    assert.equal(r.format.variant, 'mlpackage');
    assert.equal(r.architecture, 'mlProgram');
    assert.deepEqual(r.graph?.ops, { const: 4, constexpr_lut_to_dense: 1, conv: 1, cond: 1, relu: 1 });
    const got = Object.fromEntries(r.tensors.items.map((x) => [x.name, [x.dtype, x.shape, x.byteLength, x.offset]]));
    assert.deepEqual(got, {
      w: ['f16', [4096, 4096, 256], 4096 * 4096 * 256 * 2, 128],
      b: ['f32', [4], 16, 10 * GB + 64],
      'w_pal.indices': ['u4', [8, 8], 32, 10 * GB + 1088],
      'w_pal.lut': ['f16', [16], 32, 10 * GB + 2112],
      bad: ['f32', [2], null, null],
      inner: ['f32', [1], 4, 10 * GB + 4160],
    });
    assert.ok(r.diagnostics.some((d) => d.code === 'COREML_BAD_BLOB'));
    assert.ok(bin.bytesRead < 4096, `weight.bin: ${bin.bytesRead} bytes read`);
    assert.ok(t.read() < 64 * 1024);
    const m = await locateTree(t.tree, 'x.mlpackage');
    const o = await openModel(m.id, m.probe, m.tree);
    const b = r.tensors.items.find((x) => x.name === 'b')!;
    assert.deepEqual(new Float32Array((await o.impl.readTensor!(o.input, b)).slice().buffer), Float32Array.from([1, 2, 3, 4]));
  });

  it('reads a compiled .mlmodelc: metadata.json schemas and model.mil BLOBFILE constants', async () => {
    const meta = [{ specificationVersion: 7, modelType: { name: 'MLModelType_mlProgram' }, mlProgramOperationTypeHistogram: { 'Ios16.conv': 1, 'Ios16.relu': 1 }, userDefinedMetadata: { 'com.github.apple.coremltools.version': '7.1' }, inputSchema: [{ name: 'x', type: 'MultiArray', dataType: 'Float32', shape: '[1, 3]' }, { name: 'img', type: 'Image', formattedType: 'Image (Color 8 × 8)' }], outputSchema: [{ name: 'y', type: 'MultiArray', dataType: 'Float16', shape: '' }] }];
    const mil = `program(1.0)
[buildInfo = dict<tensor<string, []>, tensor<string, []>>({{"coremltools-version", "7.1"}})]
{
    func main<ios16>(tensor<fp32, [1, 3]> x) {
            tensor<fp16, [2, 3]> w_to_fp16 = const()[name = tensor<string, []>("w_to_fp16"), val = tensor<fp16, [2, 3]>(BLOBFILE(path = tensor<string, []>("@model_path/weights/weight.bin"), offset = tensor<uint64, []>(64)))];
            tensor<fp16, [2]> q = constexpr_affine_dequantize()[quantized_data = tensor<int8, [2]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(192))), name = string("q")];
            tensor<fp32, [1, 2]> y = linear(x = x, weight = w_to_fp16)[name = tensor<string, []>("y")];
    } -> (y);
}
`;
    const bin = pb.concat(new Uint8Array(64), blobRecord(1, 12, 128), new Uint8Array(64), blobRecord(4, 2, 256), new Uint8Array(8));
    const t = tree({ 'coremldata.bin': new Uint8Array(32), 'metadata.json': enc(JSON.stringify(meta)), 'model.mil': enc(mil), 'weights/weight.bin': bin });
    const r = await inspectTree(t.tree, 'x.mlmodelc');
    assert.equal(r.format.variant, 'mlmodelc');
    assert.equal(r.producer, 'coremltools 7.1');
    assert.deepEqual(r.graph?.ops, { 'Ios16.conv': 1, 'Ios16.relu': 1 });
    assert.deepEqual(r.graph?.inputs.map((i) => [i.name, i.dtype, i.shape]), [['x', 'f32', [1, 3]], ['img', 'Image', null]]);
    assert.deepEqual(r.graph?.outputs.map((i) => [i.name, i.dtype, i.shape]), [['y', 'f16', null]]);
    assert.deepEqual(r.tensors.items.map((x) => [x.name, x.dtype, x.shape, x.byteLength, x.offset]), [['w_to_fp16', 'f16', [2, 3], 12, 128], ['q.quantized_data', 'i8', [2], 2, 256]]);
    assert.deepEqual(r.diagnostics, []);
  });
});
