import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { BytesSource, CountingSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { inspectSource, inspectTree, locateSource, locateTree, openModel } from '../../inspect/inspect.js';
import { isModelwiseError } from '../../errors.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { buildTable, bundleIndex, constNode, graphDef, metaGraph, nodeDef, savedModel, savedTensorSlices } from '../../../test/helpers/tf-builders.js';

const enc = (s: string) => new TextEncoder().encode(s);
const GB = 1024 ** 3;

function tree(files: Record<string, Uint8Array | ByteSource>) {
  const counted: Record<string, CountingSource> = {};
  for (const [k, v] of Object.entries(files)) counted[k] = new CountingSource(v instanceof Uint8Array ? new BytesSource(v, k) : v);
  return { tree: new MemoryTree('model', counted), counted, read: () => Object.values(counted).reduce((s, c) => s + c.bytesRead, 0) };
}

const graph = graphDef(
  [nodeDef('x', 'Placeholder'), nodeDef('w', 'VarHandleOp'), nodeDef('r', 'ReadVariableOp'), nodeDef('r2', 'ReadVariableOp'), nodeDef('call', 'StatefulPartitionedCall')],
  [{ name: '__inference_f', nodes: [nodeDef('m', 'MatMul'), nodeDef('i', 'Identity'), nodeDef('i2', 'Identity')] }],
);

const tfModel = savedModel(
  metaGraph({
    tf: '2.3.1',
    git: 'v2.3.0-54-gfcc4b966f1',
    graph,
    collections: ['saved_model_main_op'],
    assets: ['vocab.txt'],
    objectGraph: true,
    signatures: [
      { key: '__saved_model_init_op', outputs: [['__saved_model_init_op', 'NoOp', 0, null]] },
      { key: 'a_first', inputs: [['z', 'z:0', 1, [1]]], outputs: [['o', 'o:0', 1, [1]]] },
      { key: 'serving_default', inputs: [['image', 'serving_default_image:0', 1, [-1, 224, 224, 3]], ['mask', 'm:0', 10, null]], outputs: [['logits', 'StatefulPartitionedCall:0', 1, [-1, 1000]], ['ref', 'v:0', 101, []]] },
    ],
  }),
  metaGraph({ tags: ['serve', 'gpu'], graph: graphDef([nodeDef('x', 'Placeholder')]) }),
);

const ten = 10 * GB;
const index = bundleIndex(
  {
    _CHECKPOINTABLE_OBJECT_GRAPH: { dtype: 7, shape: [], offset: 0, size: 100 },
    'dense/kernel/.ATTRIBUTES/VARIABLE_VALUE': { dtype: 1, shape: [1024, 1024, 1024], offset: 128, size: 4 * GB },
    'dense/bias/.ATTRIBUTES/VARIABLE_VALUE': { dtype: 19, shape: [1000], offset: 4 * GB + 128, size: 2000 },
    'emb/.ATTRIBUTES/VARIABLE_VALUE': { dtype: 14, shape: [512, 1024, 1024], shard: 1, offset: 0, size: GB },
    step: { dtype: 9, shape: [], offset: 4 * GB + 2128, size: 8 },
  },
  { snappy: true, numShards: 2, perBlock: 2 },
);

describe('tf-savedmodel inspect: SavedModel folder', () => {
  it('reads signatures, ops, producer and variables without touching the 10 GB shards', async () => {
    const shard0 = new SparseSource(ten, 'variables/variables.data-00000-of-00002');
    const shard1 = new SparseSource(2 * GB, 'variables/variables.data-00001-of-00002');
    const t = tree({
      'saved_model.pb': tfModel,
      'variables/variables.index': index,
      'variables/variables.data-00000-of-00002': shard0,
      'variables/variables.data-00001-of-00002': shard1,
      'fingerprint.pb': pb.concat(pb.varint(1, 123), pb.fixed64(2, 1), pb.varint(2, 2 ** 53 + 2), pb.message(6, pb.varint(1, 1))),
      'keras_metadata.pb': pb.message(1, pb.varint(2, 0), pb.string(3, 'root'), pb.string(4, '_tf_keras_model'), pb.string(5, '{"class_name": "Functional", "name": "net"}')),
      'assets/vocab.txt': enc('a\nb\n'),
    });
    const r = await inspectTree(t.tree, 'model');
    assert.equal(r.format.id, 'tf-savedmodel');
    assert.equal(r.format.version, '1');
    assert.equal(r.producer, 'TensorFlow 2.3.1 (git v2.3.0-54-gfcc4b966f1)');
    assert.equal(r.architecture, 'Functional');
    assert.deepEqual(
      r.tensors.items.map((x) => [x.name, x.dtype, x.shape, x.file, x.offset, x.byteLength]),
      [
        ['_CHECKPOINTABLE_OBJECT_GRAPH', 'string', [], 'variables/variables.data-00000-of-00002', 0, 100],
        ['dense/bias/.ATTRIBUTES/VARIABLE_VALUE', 'f16', [1000], 'variables/variables.data-00000-of-00002', 4 * GB + 128, 2000],
        ['dense/kernel/.ATTRIBUTES/VARIABLE_VALUE', 'f32', [1024, 1024, 1024], 'variables/variables.data-00000-of-00002', 128, 4 * GB],
        ['emb/.ATTRIBUTES/VARIABLE_VALUE', 'bf16', [512, 1024, 1024], 'variables/variables.data-00001-of-00002', 0, GB],
        ['step', 'i64', [], 'variables/variables.data-00000-of-00002', 4 * GB + 2128, 8],
      ],
    );
    assert.equal(r.parameters.total, 1 + 1000 + 1024 ** 3 + 512 * 1024 ** 2 + 1);
    assert.deepEqual(r.graph?.inputs.map((i) => [i.name, i.dtype, i.shape]), [['image', 'f32', ['?', 224, 224, 3]], ['mask', 'bool', null]]);
    assert.deepEqual(r.graph?.outputs.map((i) => [i.name, i.dtype, i.shape]), [['logits', 'f32', ['?', 1000]], ['ref', 'f32_ref', []]]);
    assert.deepEqual(r.graph?.ops, { Placeholder: 1, VarHandleOp: 1, ReadVariableOp: 2, StatefulPartitionedCall: 1 });
    const d = r.details as Record<string, any>;
    assert.equal(d.metaGraphs.length, 2);
    assert.deepEqual(d.metaGraphs[1].tags, ['serve', 'gpu']);
    assert.deepEqual(d.metaGraphs[0].functionLibrary, { functions: 1, nodes: 3, ops: { MatMul: 1, Identity: 2 } });
    assert.deepEqual(d.metaGraphs[0].objectGraph, { nodes: 2, concreteFunctions: 1 });
    assert.deepEqual(d.assets, [{ filename: 'vocab.txt', tensor: 'asset_vocab.txt:0' }]);
    assert.equal(d.fingerprint.graphDefProgramHash, String(2 ** 53 + 2));
    assert.equal(d.kerasMetadata.rootIdentifier, '_tf_keras_model');
    assert.deepEqual(d.bundle, { numShards: 2, endianness: 'little', producer: 1, dataBlocks: 3, snappyBlocks: 3 });
    assert.deepEqual(r.diagnostics, []);
    // the byte-counting proof: shards untouched, everything else small
    assert.equal(shard0.bytesRead, 0);
    assert.equal(shard1.bytesRead, 0);
    assert.ok(t.read() < 64 * 1024, `read ${t.read()} bytes`);
  });

  it('picks the first signature key when there is no serving_default, and reports damage', async () => {
    // damage past the first 64 KiB (what detection sees): a bad field after a big Const inside graph_def
    const g = pb.concat(graphDef([nodeDef('x', 'Placeholder'), constNode('big', 1, [20000], new Uint8Array(80000))]), new Uint8Array([0x0f, 0xff]));
    const bad = savedModel(metaGraph({ graph: g, signatures: [{ key: 'zeta', inputs: [['b', 'b:0', 3, [2]]] }, { key: 'alpha', inputs: [['a', 'a:0', 9, [-1]]] }] }));
    const t = tree({ 'saved_model.pb': bad, 'variables/variables.index': index.subarray(0, index.length - 10) });
    const r = await inspectSource(t.counted['saved_model.pb']!, { path: 'saved_model.pb', tree: t.tree, treePath: 'saved_model.pb' });
    assert.deepEqual(r.graph?.inputs.map((i) => [i.name, i.dtype, i.shape]), [['a', 'i64', ['?']]]);
    assert.deepEqual(r.tensors.count, 0);
    const codes = r.diagnostics.map((x) => x.code);
    assert.ok(codes.includes('MALFORMED'), codes.join());
    assert.deepEqual(r.graph?.ops, { Placeholder: 1, Const: 1 });
    assert.ok(r.diagnostics.some((x) => /variables\.index/.test(x.message)), JSON.stringify(r.diagnostics));
  });

  it('flags missing shards, out-of-bounds and mis-sized entries', async () => {
    const idx = bundleIndex({ a: { dtype: 1, shape: [4], offset: 0, size: 16 }, b: { dtype: 1, shape: [4], offset: 8, size: 12 }, c: { dtype: 1, shape: [2], shard: 1, offset: 0, size: 8 } }, { numShards: 2 });
    const t = tree({ 'saved_model.pb': savedModel(metaGraph({})), 'variables/variables.index': idx, 'variables/variables.data-00000-of-00002': new Uint8Array(16) });
    const r = await inspectTree(t.tree, 'model');
    const codes = r.diagnostics.map((x) => x.code).sort();
    assert.deepEqual(codes, ['SHARD_MISSING', 'TENSOR_OUT_OF_BOUNDS', 'TENSOR_SIZE_MISMATCH', 'TF_NO_SIGNATURE']);
  });

  it('reads one variable with readTensor (byte-swapping a big-endian bundle) and refuses strings', async () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 0x61, 0x62]);
    const mk = (big: boolean) => tree({
      'saved_model.pb': savedModel(metaGraph({})),
      'variables/variables.index': bundleIndex({ v: { dtype: 1, shape: [2], offset: 0, size: 8 }, s: { dtype: 7, shape: [], offset: 8, size: 2 }, far: { dtype: 3, shape: [1], offset: 100, size: 4 } }, { bigEndian: big }),
      'variables/variables.data-00000-of-00001': data,
    });
    for (const big of [false, true]) {
      const m = await locateTree(mk(big).tree, 'model');
      const o = await openModel(m.id, m.probe, m.tree);
      const r = await o.impl.inspect!(o.input);
      const v = r.tensors.find((x) => x.name === 'v')!;
      assert.deepEqual([...(await o.impl.readTensor!(o.input, v))], big ? [4, 3, 2, 1, 8, 7, 6, 5] : [1, 2, 3, 4, 5, 6, 7, 8]);
      await assert.rejects(o.impl.readTensor!(o.input, r.tensors.find((x) => x.name === 's')!), (e: unknown) => isModelwiseError(e) && e.code === 'UNSUPPORTED');
      await assert.rejects(o.impl.readTensor!(o.input, r.tensors.find((x) => x.name === 'far')!), (e: unknown) => isModelwiseError(e) && e.code === 'UNEXPECTED_EOF');
    }
  });

  it('survives hostile index tables: lying restart counts, handles past EOF, bad snappy', async () => {
    const good = bundleIndex({ a: { dtype: 1, shape: [1], offset: 0, size: 4 } });
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(lying.indexOf(0x61) + 60, 0xffffffff, true); // somewhere in the first block: damage
    const pastEof = buildTable([['', pb.varint(1, 1)]]);
    pastEof.set(pb.concat(pb.rawVarint(0), pb.rawVarint(0), pb.rawVarint(1e9), pb.rawVarint(5)), pastEof.length - 48);
    const snappyBad = buildTable([['a', new Uint8Array(100).fill(1)]], { snappy: true });
    snappyBad[0] = 0xff; // preamble now states a huge length
    for (const idx of [lying, pastEof, snappyBad, new Uint8Array(10)]) {
      const t = tree({ 'saved_model.pb': savedModel(metaGraph({})), 'variables/variables.index': idx });
      const r = await inspectTree(t.tree, 'model');
      assert.equal(r.format.id, 'tf-savedmodel');
      assert.ok(r.diagnostics.length > 0);
    }
  });
});

describe('tf-savedmodel inspect: relatives', () => {
  it('explains a Session Bundle and lists its V1 checkpoint tensors', async () => {
    // collection serving_signatures: AnyList { Any { type_url, value = Signatures { default_signature (regression), named_signatures { "inputs": generic } } } }
    const binding = (t: string) => pb.string(1, t); // TensorBinding { tensor_name = 1 }
    const sigs = pb.concat(
      pb.message(1, pb.message(1, pb.bytes(1, binding('x:0')), pb.bytes(2, binding('y:0')))),
      pb.message(2, pb.string(1, 'inputs'), pb.message(2, pb.message(3, pb.message(1, pb.string(1, 'x'), pb.bytes(2, binding('x:0')))))),
    );
    const coll = pb.message(4, pb.string(1, 'serving_signatures'), pb.message(2, pb.message(5, pb.message(1, pb.string(1, 'type.googleapis.com/tensorflow.serving.Signatures'), pb.bytes(2, sigs)))));
    const meta = pb.concat(metaGraph({ tags: [], tf: '0.12.1', graph: graphDef([nodeDef('x', 'Placeholder'), nodeDef('w', 'VariableV2'), nodeDef('s', 'SaveV2')]) }), coll);
    const v1 = buildTable([['', savedTensorSlices([{ name: 'a', dtype: 1, shape: [] }, { name: 'w', dtype: 1, shape: [3, 4] }])], [new Uint8Array([0, 1, 2]), new Uint8Array(8)]]);
    const t = tree({ 'export.meta': meta, 'export-00000-of-00001': v1 });
    const r = await inspectTree(t.tree, '00000123');
    assert.equal(r.format.variant, 'session-bundle');
    assert.equal(r.producer, 'TensorFlow 0.12.1');
    assert.deepEqual(r.tensors.items.map((x) => [x.name, x.dtype, x.shape]), [['a', 'f32', []], ['w', 'f32', [3, 4]]]);
    assert.deepEqual(r.graph?.ops, { Placeholder: 1, VariableV2: 1, SaveV2: 1 });
    assert.ok(r.diagnostics.some((x) => x.code === 'TF_SESSION_BUNDLE'));
    assert.deepEqual((r.details as { sessionSignatures: unknown }).sessionSignatures, [
      { name: 'default', kind: 'regression', tensors: { input: 'x:0', output: 'y:0' } },
      { name: 'inputs', kind: 'generic', tensors: { x: 'x:0' } },
    ]);
  });

  it('lists a frozen graph\'s Const tensors and reads one; a bare checkpoint index; a text SavedModel', async () => {
    const content = new Uint8Array(24).map((_, i) => i);
    const g = graphDef([nodeDef('input', 'Placeholder'), constNode('w', 1, [2, 3], content), nodeDef('mm', 'MatMul')]);
    const t = tree({ 'frozen.pb': g });
    const src = t.counted['frozen.pb']!;
    const r = await inspectSource(src, { path: 'frozen.pb', tree: t.tree, treePath: 'frozen.pb' });
    assert.equal(r.format.variant, 'frozen-graph');
    assert.deepEqual(r.tensors.items.map((x) => [x.name, x.dtype, x.shape, x.byteLength]), [['w', 'f32', [2, 3], 24]]);
    assert.deepEqual(r.graph?.ops, { Placeholder: 1, Const: 1, MatMul: 1 });
    const loc = await locateSource(src, { path: 'frozen.pb', tree: t.tree, treePath: 'frozen.pb' });
    const o = await openModel(loc.id, loc.probe, undefined);
    assert.deepEqual([...(await o.impl.readTensor!(o.input, r.tensors.items[0]!))], [...content]);

    const ck = tree({ 'model.ckpt-5.index': bundleIndex({ x: { dtype: 2, shape: [3], offset: 0, size: 24 } }), 'model.ckpt-5.data-00000-of-00001': new Uint8Array(24) });
    const c = await inspectSource(ck.counted['model.ckpt-5.index']!, { path: 'model.ckpt-5.index', tree: ck.tree, treePath: 'model.ckpt-5.index' });
    assert.equal(c.format.variant, 'checkpoint');
    assert.deepEqual(c.tensors.items.map((x) => [x.name, x.dtype, x.shape, x.file]), [['x', 'f64', [3], 'model.ckpt-5.data-00000-of-00001']]);

    const text = `saved_model_schema_version: 1
meta_graphs {
  meta_info_def { tags: "serve" tensorflow_version: "1.15.0" tensorflow_git_version: "unknown" }
  graph_def {
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "y" op: "Identity" input: "x" }
    library { function { signature { name: "f" } node_def { name: "n" op: "Mul" } } }
  }
  signature_def {
    key: "serving_default"
    value {
      inputs { key: "x" value { name: "x:0" dtype: DT_FLOAT tensor_shape { dim { size: -1 } dim { size: 3 } } } }
      outputs { key: "y" value { name: "y:0" dtype: DT_INT64_REF tensor_shape { unknown_rank: true } } }
      method_name: "tensorflow/serving/predict"
    }
  }
}
`;
    const tt = tree({ 'saved_model.pbtxt': enc(text) });
    const x = await inspectTree(tt.tree, 'm');
    assert.equal(x.producer, 'TensorFlow 1.15.0');
    assert.deepEqual(x.graph?.ops, { Placeholder: 1, Identity: 1 });
    assert.deepEqual(x.graph?.inputs.map((i) => [i.name, i.dtype, i.shape]), [['x', 'f32', ['?', 3]]]);
    assert.deepEqual(x.graph?.outputs.map((i) => [i.name, i.dtype, i.shape]), [['y', 'i64_ref', null]]);
  });

  it('reads a TF1 checkpoint through its .meta graph', async () => {
    const meta = metaGraph({ tf: '1.15.0', graph: graphDef([nodeDef('x', 'Placeholder'), nodeDef('v', 'VariableV2'), nodeDef('s', 'SaveV2')]) });
    const t = tree({ 'model.ckpt.meta': meta, 'model.ckpt.index': bundleIndex({ v: { dtype: 1, shape: [2, 2], offset: 0, size: 16 } }), 'model.ckpt.data-00000-of-00001': new Uint8Array(16) });
    const r = await inspectSource(t.counted['model.ckpt.meta']!, { path: 'model.ckpt.meta', tree: t.tree, treePath: 'model.ckpt.meta' });
    assert.equal(r.format.variant, 'checkpoint');
    assert.equal(r.producer, 'TensorFlow 1.15.0');
    assert.deepEqual(r.graph?.ops, { Placeholder: 1, VariableV2: 1, SaveV2: 1 });
    assert.deepEqual(r.tensors.items.map((x) => [x.name, x.dtype, x.shape, x.file]), [['v', 'f32', [2, 2], 'model.ckpt.data-00000-of-00001']]);
  });

  it('walks a frozen graph with a 3 GB Const without reading it', async () => {
    const n = 3 * GB;
    const tp = pb.concat(pb.varint(1, 1), pb.bytes(2, pb.message(2, pb.varint(1, n / 4))), pb.tag(4, 2), pb.rawVarint(n));
    const av = pb.concat(pb.tag(8, 2), pb.rawVarint(tp.length + n), tp);
    const entry = pb.concat(pb.string(1, 'value'), pb.tag(2, 2), pb.rawVarint(av.length + n), av);
    const node = pb.concat(pb.string(1, 'w'), pb.string(2, 'Const'), pb.tag(5, 2), pb.rawVarint(entry.length + n), entry);
    const head = pb.concat(pb.bytes(1, nodeDef('x', 'Placeholder')), pb.tag(1, 2), pb.rawVarint(node.length + n), node);
    const tail = pb.concat(pb.bytes(1, nodeDef('y', 'MatMul')), pb.message(4, pb.varint(1, 1087)));
    const src = new SparseSource(head.length + n + tail.length, 'big_frozen.pb').write(0, head).write(head.length + n, tail);
    const r = await inspectSource(src, { path: 'big_frozen.pb' });
    assert.equal(r.format.variant, 'frozen-graph');
    assert.deepEqual(r.graph?.ops, { Placeholder: 1, Const: 1, MatMul: 1 });
    assert.deepEqual(r.tensors.items.map((x) => [x.name, x.dtype, x.shape, x.byteLength, x.offset]), [['w', 'f32', [n / 4], n, head.length]]);
    assert.ok(src.bytesRead < 512 * 1024, `read ${src.bytesRead} bytes`);
  });

  it('bounds deep nesting and lying lengths in saved_model.pb', async () => {
    let nested = pb.string(1, 'x');
    for (let i = 0; i < 300; i++) nested = pb.message(2, nested);
    const lying = pb.concat(pb.varint(1, 1), pb.tag(2, 2), pb.rawVarint(1e12));
    for (const b of [savedModel(pb.concat(pb.message(2, pb.message(1, nested)))), lying]) {
      const t = tree({ 'saved_model.pb': b });
      try {
        const r = await inspectSource(t.counted['saved_model.pb']!, { path: 'saved_model.pb', tree: t.tree, treePath: 'saved_model.pb' });
        assert.ok(r.format.id);
      } catch (e) {
        assert.ok(isModelwiseError(e), String(e));
      }
    }
  });
});
