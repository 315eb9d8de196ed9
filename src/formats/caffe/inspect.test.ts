import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { BytesSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { finalize, inspectSource, locateSource, openModel } from '../../inspect/inspect.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { parseTextProto, strings, messages, numbers } from './prototxt.js';
import { blobProto, hdf5File, layer, layerV1, netHeader } from './testing.js';

const enc = (s: string) => new TextEncoder().encode(s);
const f32 = (b: Uint8Array) => [...new Float32Array(b.slice().buffer)];

async function open(files: Record<string, Uint8Array | ByteSource>, entry: string) {
  const sources: Record<string, ByteSource> = {};
  for (const [k, v] of Object.entries(files)) sources[k] = v instanceof Uint8Array ? new BytesSource(v, k) : v;
  const tree = new MemoryTree('m', sources);
  const { id, probe } = await locateSource(sources[entry]!, { path: entry, tree, treePath: entry });
  assert.equal(id.format?.id, 'caffe', `not identified: ${id.reason}`);
  const m = await openModel(id, probe, undefined);
  const report = finalize(id, await m.impl.inspect!(m.input));
  const read = (name: string) => m.impl.readTensor!(m.input, report.tensors.items.find((t) => t.name === name)!);
  return { report, read };
}

const PROTOTXT = `# MTCNN-style net
name: "PNet"
input: "data"
input_dim: 1 input_dim: 3
input_dim: 12
input_dim: 12
layer {
  name: "conv1"  type: "Convolution"
  bottom: "data" top: "conv1"
  param { lr_mult: 1 decay_mult: 1 }
  convolution_param: { num_output: 2 kernel_size: 3 weight_filler < type: 'xavier' > }
}
layer { name: "PReLU1" type: "PReLU" bottom: "conv1" top: "conv1" }
layer { name: "prob" type: "Softmax" bottom: "conv1" top: "prob1" }
layer { name: "box" type: "Convolution" bottom: "conv1" top: "box" }
`;

const weights = () =>
  pb.concat(
    netHeader('PNet'),
    layer('data', 'Input', [], ['data']),
    layer('conv1', 'Convolution', ['data'], ['conv1'], [blobProto({ shape: [2, 3, 3, 3], data: Array.from({ length: 54 }, (_, i) => i) }), blobProto({ shape: [2], data: [0.5, -0.5] })]),
    layer('PReLU1', 'PReLU', ['conv1'], ['conv1'], [blobProto({ legacy: [1, 1, 1, 2], data: [0.25, 0.75], unpacked: true })]),
    layer('prob', 'Softmax', ['conv1'], ['prob1']),
    layer('box', 'Convolution', ['conv1'], ['box'], [blobProto({ shape: [2], doubles: [1.5, 2.5] })]),
  );

describe('caffe inspect: caffemodel (+ prototxt)', () => {
  it('lists layer blobs as <layer>/<i> and reads the graph from the prototxt', async () => {
    const { report: r, read } = await open({ 'det1.caffemodel': weights(), 'det1.prototxt': enc(PROTOTXT) }, 'det1.caffemodel');
    assert.equal(r.format.variant, 'caffemodel+prototxt');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [
      ['conv1/0', 'f32', [2, 3, 3, 3]],
      ['conv1/1', 'f32', [2]],
      ['PReLU1/0', 'f32', [1, 1, 1, 2]],
      ['box/0', 'f64', [2]],
    ]);
    assert.equal(r.parameters.total, 54 + 2 + 2 + 2);
    assert.equal(r.size.tensorBytes, 216 + 8 + 8 + 16);
    assert.deepEqual(r.graph!.inputs, [{ name: 'data', dtype: 'f32', shape: [1, 3, 12, 12] }]);
    assert.deepEqual(r.graph!.outputs.map((o) => o.name), ['prob1', 'box']);
    assert.deepEqual(r.graph!.ops, { Convolution: 2, PReLU: 1, Softmax: 1 });
    assert.equal(r.architecture, 'PNet');
    assert.deepEqual(r.files?.map((f) => f.role), ['entry', 'network']);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(f32(await read('conv1/1')), [0.5, -0.5]);
    assert.deepEqual(f32(await read('PReLU1/0')), [0.25, 0.75]);
    assert.equal(f32(await read('conv1/0'))[53], 53);
    assert.deepEqual([...new Float64Array((await read('box/0')).slice().buffer)], [1.5, 2.5]);
  });

  it('a prototxt pointed at directly reports its weights', async () => {
    const { report: r, read } = await open({ 'det1.caffemodel': weights(), 'det1.prototxt': enc(PROTOTXT) }, 'det1.prototxt');
    assert.equal(r.tensors.count, 4);
    assert.deepEqual(r.files?.map((f) => [f.path, f.role]), [['det1.caffemodel', 'entry'], ['det1.prototxt', 'network']]);
    assert.deepEqual(f32(await read('conv1/1')), [0.5, -0.5]);
  });

  it('without a prototxt the stored layers give the graph (Input layers reported apart)', async () => {
    const { report: r } = await open({ 'w.caffemodel': weights() }, 'w.caffemodel');
    assert.equal(r.format.variant, 'caffemodel');
    assert.deepEqual(r.graph!.ops, { Input: 1, Convolution: 2, PReLU: 1, Softmax: 1 });
    assert.deepEqual(r.graph!.inputs, []);
    assert.deepEqual((r.details as { inputLayers: unknown }).inputLayers, [{ name: 'data', dtype: 'f32', shape: null }]);
  });

  it('reads V1 `layers` nets with legacy blob dims', async () => {
    const net = pb.concat(netHeader('CaffeNet', ['data'], [10, 3, 227, 227]), layerV1('conv1', 4, ['data'], ['conv1'], [blobProto({ legacy: [96, 3, 11, 11], data: Array(96 * 363).fill(0) }), blobProto({ legacy: [1, 1, 1, 96], data: Array(96).fill(1) })]), layerV1('relu1', 18, ['conv1'], ['conv1']));
    const { report: r } = await open({ 'bvlc.caffemodel': net }, 'bvlc.caffemodel');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.shape]), [['conv1/0', [96, 3, 11, 11]], ['conv1/1', [1, 1, 1, 96]]]);
    assert.deepEqual(r.graph!.ops, { Convolution: 1, ReLU: 1 });
    assert.deepEqual(r.graph!.inputs, [{ name: 'data', dtype: 'f32', shape: [10, 3, 227, 227] }]);
  });

  it('blobs whose data does not match their shape are reported and refused', async () => {
    const net = pb.concat(netHeader('n'), layer('fc', 'InnerProduct', ['x'], ['y'], [blobProto({ shape: [4, 4], data: [1, 2] })]), layer('r', 'ReLU', ['y'], ['y']));
    const { report: r, read } = await open({ 'bad.caffemodel': net }, 'bad.caffemodel');
    assert.deepEqual(r.diagnostics.map((d) => d.code), ['TENSOR_SIZE_MISMATCH']);
    await assert.rejects(read('fc/0'), { code: 'MALFORMED' });
  });

  it('a 10 GB caffemodel reads only layer headers', async () => {
    const payload = 1024 * 1024 * 1024; // 1 GiB of floats per blob, left as holes
    const parts: { at: number; bytes: Uint8Array }[] = [];
    let p = 0;
    const put = (b: Uint8Array, hole = 0) => {
      parts.push({ at: p, bytes: b });
      p += b.length + hole;
    };
    put(netHeader('Big'));
    for (let i = 0; i < 10; i++) {
      const blobHead = pb.concat(pb.message(7, pb.bytes(1, pb.rawVarint(payload / 4))), pb.tag(5, 2), pb.rawVarint(payload));
      const blob = pb.concat(pb.tag(7, 2), pb.rawVarint(blobHead.length + payload), blobHead);
      const head = pb.concat(pb.string(1, `fc${i}`), pb.string(2, 'InnerProduct'), pb.string(3, `x${i}`), pb.string(4, `x${i + 1}`));
      put(pb.concat(pb.tag(100, 2), pb.rawVarint(head.length + blob.length + payload), head, blob), payload);
    }
    const s = new SparseSource(p, 'big.caffemodel');
    for (const x of parts) s.write(x.at, x.bytes);
    const r = await inspectSource(s, { path: 'big.caffemodel' });
    assert.equal(r.format.id, 'caffe');
    assert.equal(r.tensors.count, 10);
    assert.equal(r.parameters.total, 10 * (payload / 4));
    assert.deepEqual(r.diagnostics, []);
    assert.ok(s.bytesRead < 512 * 1024, `read ${s.bytesRead}`);
  });
});

describe('caffe inspect: caffemodel.h5 and prototxt alone', () => {
  const h5 = () => hdf5File({
    data: {
      conv1: { '0': { shape: [2, 1, 2, 2], data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]) }, '1': { shape: [2], data: new Float32Array([9, 10]) } },
      relu1: {},
      fc: { '0': { shape: [3], data: new Float64Array([0.5, 1, 2]) } },
    },
  });

  it('lists datasets data/<layer>/<i> as <layer>/<i> with dtype and shape, and reads them', async () => {
    const { report: r, read } = await open({ 'net.caffemodel.h5': h5() }, 'net.caffemodel.h5');
    assert.equal(r.format.variant, 'caffemodel-hdf5');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]).sort(), [['conv1/0', 'f32', [2, 1, 2, 2]], ['conv1/1', 'f32', [2]], ['fc/0', 'f64', [3]]]);
    assert.equal(r.parameters.total, 13);
    assert.deepEqual(f32(await read('conv1/0')), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual([...new Float64Array((await read('fc/0')).slice().buffer)], [0.5, 1, 2]);
  });

  it('inspects a network definition alone (no tensors, the graph)', async () => {
    const { report: r } = await open({ 'deploy.prototxt': enc(PROTOTXT) }, 'deploy.prototxt');
    assert.equal(r.format.variant, 'prototxt');
    assert.equal(r.tensors.count, 0);
    assert.deepEqual(r.graph!.ops, { Convolution: 2, PReLU: 1, Softmax: 1 });
  });
});

describe('caffe prototxt parser', () => {
  it('handles comments, separators, <> blocks, lists, adjacent strings and escapes', () => {
    const m = parseTextProto(`a: 1; b: "x" 'y' # c\nc < d: -2.5e1 >, e: [1, 2, 0x10] f { g: "q\\"\\n\\101" } h: ENUM_V k: [ {v: 1}, {v: 2} ] l: []`);
    assert.deepEqual(numbers(m, 'a'), [1]);
    assert.deepEqual(strings(m, 'b'), ['xy']);
    assert.deepEqual(numbers(messages(m, 'c')[0]!, 'd'), [-25]);
    assert.deepEqual(numbers(m, 'e'), [1, 2, 16]);
    assert.deepEqual(strings(messages(m, 'f')[0]!, 'g'), ['q"\nA']);
    assert.deepEqual(strings(m, 'h'), ['ENUM_V']);
    assert.equal(messages(m, 'k').length, 2);
    assert.deepEqual(m.fields.filter(([k]) => k === 'l'), []);
  });

  it('rejects malformed text with the line number, and deep nesting', () => {
    assert.throws(() => parseTextProto('a: 1\nb {\n c: 2\n'), (e: Error & { code?: string }) => e.code === 'MALFORMED' && /line 4/.test(e.message));
    assert.throws(() => parseTextProto('a: "open'), { code: 'MALFORMED' });
    assert.throws(() => parseTextProto('a 1'), { code: 'MALFORMED' });
    assert.throws(() => parseTextProto('x {'.repeat(200) + '}'.repeat(200)), { code: 'MALFORMED' });
  });

  it('a broken prototxt next to weights leaves a diagnostic, not a failure', async () => {
    const { report: r } = await open({ 'det1.caffemodel': weights(), 'det1.prototxt': enc('name: "x"\nlayer {\n  type: "Conv"\n  top: "a"\n') }, 'det1.caffemodel');
    assert.ok(r.diagnostics.some((d) => d.code === 'CAFFE_BAD_PROTOTXT'));
    assert.equal(r.tensors.count, 4);
    assert.ok(r.graph, 'falls back to the stored layers');
  });
});
