import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { BytesSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { Probe, TreeProbe } from '../../identify/probe.js';
import { tfSavedmodel } from './index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const probeOf = (bytes: Uint8Array, name = 'saved_model.pb') => new Probe(new BytesSource(bytes, name), name);
function inTree(files: Record<string, Uint8Array>, path: string) {
  const sources: Record<string, ByteSource> = {};
  for (const [k, v] of Object.entries(files)) sources[k] = new BytesSource(v, k);
  const tree = new MemoryTree('m', sources);
  return { probe: new Probe(sources[path]!, path, tree, path), tree };
}

/** NodeDef { name = 1; op = 2; input = 3; attr = 5 } */
const nodeDef = (name: string, op: string, ...inputs: string[]) => pb.concat(pb.string(1, name), pb.string(2, op), ...inputs.map((i) => pb.string(3, i)), pb.message(5, pb.string(1, 'T'), pb.message(2, pb.varint(6, 1))));
const graphDef = (...nodes: Uint8Array[]) => pb.concat(...nodes.map((n) => pb.bytes(1, n)), pb.message(4, pb.varint(1, 1087)));
const metaInfo = (tags: string[], tf = '2.14.0') => pb.concat(pb.string(1, ''), pb.message(2, pb.message(1, pb.string(1, 'Const'))), ...tags.map((t) => pb.string(4, t)), pb.string(5, tf), pb.string(6, 'v2.14.0-rc1'));
const signature = (key: string) => pb.message(5, pb.string(1, key), pb.message(2, pb.string(3, 'tensorflow/serving/predict')));
const metaGraph = (opts: { tags?: string[]; graph?: Uint8Array; objectGraph?: boolean } = {}) =>
  pb.concat(
    pb.bytes(1, metaInfo(opts.tags ?? ['serve'])),
    pb.bytes(2, opts.graph ?? graphDef(nodeDef('x', 'Placeholder'), nodeDef('y', 'Identity', 'x'))),
    pb.message(3, pb.string(1, 'save/Const:0')),
    signature('serving_default'),
    ...(opts.objectGraph ? [pb.message(7, pb.message(1, pb.message(1, pb.varint(1, 1))))] : []),
  );
const savedModel = (...metas: Uint8Array[]) => pb.concat(pb.varint(1, 1), ...metas.map((m) => pb.bytes(2, m)));

/** A LevelDB table footer (48 bytes) after `body`. */
function sstable(body = new Uint8Array(100)): Uint8Array {
  const footer = new Uint8Array(48);
  footer.set([...pb.rawVarint(0), ...pb.rawVarint(10), ...pb.rawVarint(10), ...pb.rawVarint(20)]);
  footer.set([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb], 40);
  return pb.concat(body, footer);
}

describe('tf-savedmodel detect: saved_model.pb', () => {
  it('reads schema version, tags, TF version and signatures', async () => {
    const d = await tfSavedmodel.detect!(probeOf(savedModel(metaGraph({ objectGraph: true }))));
    assert.equal(d?.format.id, 'tf-savedmodel');
    assert.equal(d?.format.variant, 'saved-model');
    assert.equal(d?.format.version, '1');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'protobuf SavedModel: schema version 1, 1 MetaGraph');
    assert.equal(d?.evidence[1], 'MetaGraph: tags [serve], TensorFlow 2.14.0 (v2.14.0-rc1), signatures serving_default, object graph (TF2)');
  });

  it('lists variables, assets and fingerprint in the folder', async () => {
    const files = {
      'saved_model.pb': savedModel(metaGraph()),
      'variables/variables.index': sstable(),
      'variables/variables.data-00000-of-00001': new Uint8Array(20),
      'fingerprint.pb': pb.concat(pb.varint(1, 123456789), pb.varint(2, 5), pb.message(6, pb.varint(1, 1))),
      'assets/vocab.txt': enc('a\nb\n'),
      'unrelated.txt': enc('x'),
    };
    const { probe, tree } = inTree(files, 'saved_model.pb');
    const d = await tfSavedmodel.detect!(probe);
    assert.deepEqual(d?.files?.map((f) => [f.path, f.role]).sort(), [
      ['assets/vocab.txt', 'asset'],
      ['fingerprint.pb', 'fingerprint'],
      ['saved_model.pb', 'entry'],
      ['variables/variables.data-00000-of-00001', 'weights'],
      ['variables/variables.index', 'checkpoint-index'],
    ]);
    const t = await tfSavedmodel.detectTree!(new TreeProbe(tree, 'm', await tree.list()));
    assert.equal(t?.format.variant, 'saved-model');
    assert.equal(t?.files?.[0]?.path, 'saved_model.pb');
    // the pieces, seen alone, point back at the SavedModel
    const fp = await tfSavedmodel.detect!(inTree(files, 'fingerprint.pb').probe);
    assert.equal(fp?.confidence, 'low');
    assert.equal(fp?.files?.[0]?.path, 'saved_model.pb');
    const idx = await tfSavedmodel.detect!(probeOf(files['variables/variables.index'], 'variables.index'));
    assert.equal(idx?.format.variant, 'checkpoint');
    assert.equal(idx?.confidence, 'low');
  });

  it('accepts a meta graph bigger than the probe head', async () => {
    const big = graphDef(nodeDef('x', 'Placeholder'), pb.concat(pb.string(1, 'w'), pb.string(2, 'Const'), pb.bytes(5, new Uint8Array(300_000))));
    const d = await tfSavedmodel.detect!(probeOf(savedModel(metaGraph({ graph: big }))));
    assert.equal(d?.format.variant, 'saved-model');
  });

  it('recognises saved_model.pbtxt', async () => {
    const text = 'saved_model_schema_version: 1\nmeta_graphs {\n  meta_info_def {\n    tags: "serve"\n    tensorflow_version: "1.15.0"\n  }\n}\n';
    const d = await tfSavedmodel.detect!(probeOf(enc(text), 'saved_model.pbtxt'));
    assert.equal(d?.format.variant, 'saved-model');
    assert.match(d!.evidence[0]!, /tags \[serve\], TensorFlow 1\.15\.0/);
  });

  it('refuses near misses', async () => {
    const onnx = pb.concat(pb.varint(1, 7), pb.string(2, 'pytorch'), pb.message(7, pb.message(1, pb.string(4, 'Abs'))), pb.message(8, pb.varint(2, 13)));
    const coreml = pb.concat(pb.varint(1, 4), pb.message(2, pb.message(1, pb.string(1, 'x')), pb.message(10, pb.string(1, 'y'))), pb.message(500, pb.varint(1, 1)));
    const sp = pb.concat(pb.message(1, pb.string(1, '<unk>'), pb.float(2, 0), pb.varint(3, 2)), pb.message(1, pb.string(1, '<s>'), pb.float(2, 0), pb.varint(3, 3)), pb.message(2, pb.string(1, 'c.txt'), pb.varint(3, 1)));
    const wrongWire = pb.concat(pb.varint(1, 1), pb.varint(2, 5));
    const badMeta = savedModel(pb.concat(pb.varint(1, 1))); // MetaGraphDef fields are all messages
    let seed = 3;
    const random = Uint8Array.from({ length: 8192 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    const tflite = new Uint8Array(64);
    tflite.set([0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]);
    for (const [n, b] of Object.entries({ onnx, coreml, sp, wrongWire, badMeta, random, tflite, text: enc('meta_graphs are described in README\n') })) {
      assert.equal(await tfSavedmodel.detect!(probeOf(b)), undefined, n);
    }
  });
});

describe('tf-savedmodel detect: frozen graphs, session bundles, checkpoints', () => {
  it('recognises a GraphDef-only frozen graph (medium)', async () => {
    const g = graphDef(nodeDef('input', 'Placeholder'), nodeDef('w', 'Const'), nodeDef('mm', 'MatMul', 'input', 'w'), nodeDef('out', '_Retval', 'mm'));
    const d = await tfSavedmodel.detect!(probeOf(g, 'frozen_inference_graph.pb'));
    assert.equal(d?.format.variant, 'frozen-graph');
    assert.equal(d?.confidence, 'medium');
    assert.match(d!.evidence[0]!, /4 nodes .*Placeholder, Const, MatMul, _Retval.*producer version 1087/);
  });

  it('refuses a GraphDef-like message with wrong wire types or non-op strings', async () => {
    const wrong = pb.concat(pb.message(1, pb.string(1, 'x'), pb.varint(2, 3)));
    const lowerOp = graphDef(nodeDef('x', 'placeholder op'));
    const textNodes = pb.concat(pb.message(1, pb.string(1, 'a'), pb.float(2, 1)));
    const unknownTop = pb.concat(pb.bytes(1, nodeDef('x', 'Const')), pb.varint(9, 1));
    for (const [n, b] of Object.entries({ wrong, lowerOp, textNodes, unknownTop })) assert.equal(await tfSavedmodel.detect!(probeOf(b, 'graph.pb')), undefined, n);
  });

  it('recognises a Session Bundle (export.meta + V1 checkpoint) as deprecated', async () => {
    const meta = pb.concat(pb.bytes(1, metaInfo([], '0.12.1')), pb.bytes(2, graphDef(nodeDef('x', 'Placeholder'))), pb.message(3, pb.string(1, 'save/Const:0')), pb.message(4, pb.string(1, 'serving_signatures'), pb.message(4, pb.string(1, 'x'))));
    const files = { 'export.meta': meta, 'export-00000-of-00001': sstable() };
    const { probe, tree } = inTree(files, 'export.meta');
    const d = await tfSavedmodel.detect!(probe);
    assert.equal(d?.format.variant, 'session-bundle');
    assert.deepEqual(d?.files?.map((f) => f.path), ['export.meta', 'export-00000-of-00001']);
    assert.ok(d?.evidence.some((e) => /deprecated.*convert it to a SavedModel/.test(e)));
    const t = await tfSavedmodel.detectTree!(new TreeProbe(tree, '00000123', await tree.list()));
    assert.equal(t?.format.variant, 'session-bundle');
    const alone = await tfSavedmodel.detect!(probeOf(meta, 'export.meta'));
    assert.equal(alone?.format.variant, 'session-bundle');
    const shard = await tfSavedmodel.detect!(inTree(files, 'export-00000-of-00001').probe);
    assert.equal(shard?.format.variant, 'session-bundle');
    assert.equal(shard?.files?.[0]?.path, 'export.meta'); // the meta graph owns the checkpoint
  });

  it('reports a bare checkpoint with low confidence and groups its files', async () => {
    const files = { 'model.ckpt-100.index': sstable(), 'model.ckpt-100.data-00000-of-00002': new Uint8Array(10), 'model.ckpt-100.data-00001-of-00002': new Uint8Array(10), 'notes.txt': enc('x') };
    const d = await tfSavedmodel.detect!(inTree(files, 'model.ckpt-100.index').probe);
    assert.equal(d?.format.variant, 'checkpoint');
    assert.equal(d?.confidence, 'low');
    assert.deepEqual(d?.files?.map((f) => f.path), ['model.ckpt-100.index', 'model.ckpt-100.data-00000-of-00002', 'model.ckpt-100.data-00001-of-00002']);
    // not an SSTable: a footer whose handles point past the file
    const bad = sstable();
    bad.set(pb.rawVarint(1_000_000), bad.length - 48);
    assert.equal(await tfSavedmodel.detect!(probeOf(bad, 'x.index')), undefined);
  });
});
