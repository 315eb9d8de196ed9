import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { BytesSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { Probe, TreeProbe } from '../../identify/probe.js';
import { coreml } from './index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const probeOf = (bytes: Uint8Array, name = 'model.mlmodel') => new Probe(new BytesSource(bytes, name), name);
function treeOf(files: Record<string, Uint8Array>, name = 'x') {
  const sources: Record<string, ByteSource> = {};
  for (const [k, v] of Object.entries(files)) sources[k] = new BytesSource(v, k);
  const tree = new MemoryTree(name, sources);
  return { tree, sources };
}
async function treeProbe(files: Record<string, Uint8Array>, name: string) {
  const { tree } = treeOf(files, name);
  return new TreeProbe(tree, name, await tree.list());
}

const feature = (name: string) => pb.concat(pb.string(1, name), pb.message(3, pb.message(5, pb.varint(2, 65568))));

/** Model { specificationVersion = 1; description = 2; <type> = 500 … } */
function mlmodel(opts: { version?: number; type?: number; tools?: string; body?: Uint8Array } = {}): Uint8Array {
  const metadata = pb.concat(
    pb.string(1, 'Counts sit-ups'),
    pb.string(3, 'me'),
    ...(opts.tools ? [pb.message(100, pb.string(1, 'com.github.apple.coremltools.version'), pb.string(2, opts.tools))] : []),
  );
  const description = pb.concat(pb.message(1, feature('image')), pb.message(10, feature('label')), pb.string(11, 'label'), pb.bytes(100, metadata));
  return pb.concat(pb.varint(1, opts.version ?? 4), pb.bytes(2, description), pb.bytes(opts.type ?? 500, opts.body ?? pb.message(1, pb.string(1, 'conv1'))));
}

const manifest = (items: Record<string, { path: string; name: string; author?: string }>, root: string) =>
  enc(JSON.stringify({ fileFormatVersion: '1.0.0', itemInfoEntries: Object.fromEntries(Object.entries(items).map(([k, v]) => [k, { author: 'com.apple.CoreML', description: 'x', ...v }])), rootModelIdentifier: root }, null, 2));

describe('coreml detect: .mlmodel', () => {
  it('reads spec version, model type, features and coremltools version', async () => {
    const d = await coreml.detect!(probeOf(mlmodel({ tools: '8.0' })));
    assert.equal(d?.format.id, 'coreml');
    assert.equal(d?.format.variant, 'mlmodel');
    assert.equal(d?.format.version, '4');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'protobuf Model: specificationVersion 4, model type neuralNetwork');
    assert.equal(d?.evidence[1], 'description: 1 input, 1 output');
    assert.equal(d?.details?.producer, 'coremltools 8.0');
  });

  it('names other model types (pipelines, ML programs, GLMs)', async () => {
    for (const [field, name] of [[201, 'pipelineRegressor'], [502, 'mlProgram'], [300, 'glmRegressor'], [2005, 'wordEmbedding']] as const) {
      const d = await coreml.detect!(probeOf(mlmodel({ type: field, version: 6 })));
      assert.equal(d?.details?.modelType, name);
    }
  });

  it('accepts a model-type payload larger than the probe head', async () => {
    const d = await coreml.detect!(probeOf(mlmodel({ body: pb.bytes(2, new Uint8Array(200_000)) }), 'big.bin'));
    assert.equal(d?.details?.modelType, 'neuralNetwork');
  });

  it('is medium when the head ends inside a huge description of an .mlmodel, and silent otherwise', async () => {
    const huge = pb.concat(pb.varint(1, 4), pb.message(2, pb.message(1, pb.string(1, 'x'), pb.string(2, 'y'.repeat(100_000)))), pb.message(500, pb.varint(1, 1)));
    assert.equal((await coreml.detect!(probeOf(huge)))?.confidence, 'medium');
    assert.equal(await coreml.detect!(probeOf(huge, 'model.bin')), undefined);
  });

  it('refuses near misses: ONNX, SavedModel, SentencePiece, two model types, unknown fields, bad versions', async () => {
    const onnx = pb.concat(pb.varint(1, 7), pb.string(2, 'pytorch'), pb.message(7, pb.message(1, pb.string(4, 'Abs'))));
    const saved = pb.concat(pb.varint(1, 1), pb.message(2, pb.message(1, pb.string(4, 'serve'), pb.string(5, '2.14.0')), pb.message(2, pb.message(1, pb.string(1, 'n'), pb.string(2, 'Const')))));
    const sp = pb.concat(pb.message(1, pb.string(1, '<unk>'), pb.float(2, 0)), pb.message(2, pb.string(1, 'c.txt')));
    const two = pb.concat(mlmodel(), pb.message(502, pb.varint(1, 1)));
    const unknown = pb.concat(mlmodel(), pb.varint(7, 1));
    const v0 = mlmodel({ version: 0 });
    const v99 = mlmodel({ version: 99 });
    const badFeature = pb.concat(pb.varint(1, 4), pb.message(2, pb.message(1, pb.bytes(1, new Uint8Array([0, 1, 2])))), pb.message(500, pb.varint(1, 1)));
    for (const [n, b] of Object.entries({ onnx, saved, sp, two, unknown, v0, v99, badFeature })) {
      assert.equal(await coreml.detect!(probeOf(b)), undefined, n);
    }
  });
});

describe('coreml detect: .mlpackage and .mlmodelc', () => {
  const pkg = () => ({
    'Manifest.json': manifest({ a: { path: 'com.apple.CoreML/model.mlmodel', name: 'model.mlmodel' }, b: { path: 'com.apple.CoreML/weights', name: 'weights' } }, 'a'),
    'Data/com.apple.CoreML/model.mlmodel': mlmodel({ type: 502, version: 6 }),
    'Data/com.apple.CoreML/weights/weight.bin': new Uint8Array(128),
  });

  it('detectTree lists manifest, spec and weights', async () => {
    const d = await coreml.detectTree!(await treeProbe(pkg(), 'm.mlpackage'));
    assert.equal(d?.format.variant, 'mlpackage');
    assert.equal(d?.format.version, '6');
    assert.equal(d?.confidence, 'high');
    assert.deepEqual(
      d?.files?.map((f) => [f.path, f.role]),
      [
        ['Manifest.json', 'manifest'],
        ['Data/com.apple.CoreML/model.mlmodel', 'model'],
        ['Data/com.apple.CoreML/weights/weight.bin', 'weights'],
      ],
    );
  });

  it('detect on Manifest.json recognises the package, with and without its folder', async () => {
    const { tree, sources } = treeOf(pkg(), 'm.mlpackage');
    const d = await coreml.detect!(new Probe(sources['Manifest.json']!, 'm.mlpackage/Manifest.json', tree, 'Manifest.json'));
    assert.equal(d?.format.variant, 'mlpackage');
    assert.equal(d?.format.version, '6');
    assert.equal(d?.files?.length, 3);
    const alone = await coreml.detect!(probeOf(pkg()['Manifest.json'], 'Manifest.json'));
    assert.equal(alone?.format.variant, 'mlpackage');
    assert.equal(alone?.confidence, 'high');
  });

  it('flags a package whose root model is missing', async () => {
    const files: Record<string, Uint8Array> = pkg();
    delete files['Data/com.apple.CoreML/model.mlmodel'];
    const d = await coreml.detectTree!(await treeProbe(files, 'm.mlpackage'));
    assert.equal(d?.confidence, 'medium');
    assert.ok(d?.evidence.some((e) => /MISSING/.test(e)));
  });

  it('the spec inside a package, seen alone, is an mlmodel that says where it lives', async () => {
    const p = new Probe(new BytesSource(mlmodel()), 'http://h/Situps.mlpackage/Data/com.apple.CoreML/model.mlmodel');
    const d = await coreml.detect!(p);
    assert.equal(d?.format.id, 'coreml');
    assert.ok(d?.evidence.some((e) => e.includes('Situps.mlpackage')));
  });

  it('recognises a compiled .mlmodelc folder and its metadata.json', async () => {
    const meta = enc(JSON.stringify([{ metadataOutputVersion: '3.0', specificationVersion: 7, modelType: { name: 'MLModelType_mlProgram' }, generatedClassName: 'Net', mlProgramOperationTypeHistogram: { Ios16Conv: 2 }, userDefinedMetadata: { 'com.github.apple.coremltools.version': '7.1' } }]));
    const files = { 'coremldata.bin': new Uint8Array(64), 'model.mil': enc('program(1.0)\n{\n  func main<ios16>(tensor<fp32, [1]> x) {\n  } -> (x);\n}\n'), 'metadata.json': meta, 'analytics/coremldata.bin': new Uint8Array(8) };
    const d = await coreml.detectTree!(await treeProbe(files, 'Net.mlmodelc'));
    assert.equal(d?.format.variant, 'mlmodelc');
    assert.equal(d?.format.version, '7');
    assert.equal(d?.files?.[0]?.path, 'coremldata.bin');
    assert.ok(d?.evidence.some((e) => e.includes('mlProgram') && e.includes('coremltools 7.1')));
    const m = await coreml.detect!(probeOf(meta, 'metadata.json'));
    assert.equal(m?.format.variant, 'mlmodelc');
    assert.equal(m?.confidence, 'high');
    const mil = await coreml.detect!(probeOf(files['model.mil'], 'model.mil'));
    assert.equal(mil?.format.variant, 'mlmodelc');
  });

  it('ignores JSON that is not a manifest or compiled metadata', async () => {
    assert.equal(await coreml.detect!(probeOf(enc('{"itemInfoEntries": {}, "rootModelIdentifier": "x"}'), 'Manifest.json')), undefined);
    assert.equal(await coreml.detect!(probeOf(enc('[{"name": "x", "version": 1}]'), 'metadata.json')), undefined);
    assert.equal(await coreml.detectTree!(await treeProbe({ 'coremldata.bin': new Uint8Array(4), 'readme.txt': enc('hi') }, 'x')), undefined);
  });
});

describe('coreml detect: compiled neural networks (Espresso)', () => {
  it('recognises model.espresso.net and model.espresso.shape', async () => {
    const net = enc(JSON.stringify({ storage: 'model.espresso.weights', analyses: {}, properties: {}, format_version: 200, layers: [{ type: 'inner_product', name: 'fc', bottom: 'x', top: 'y' }] }, null, 2));
    const d = await coreml.detect!(probeOf(net, 'model.espresso.net'));
    assert.equal(d?.format.variant, 'mlmodelc');
    assert.equal(d?.confidence, 'high');
    const shape = await coreml.detect!(probeOf(enc('{"layer_shapes": {"x": {"k": 1, "w": 8, "n": 1, "h": 1}}}'), 'model.espresso.shape'));
    assert.equal(shape?.format.variant, 'mlmodelc');
    assert.equal(await coreml.detect!(probeOf(enc('{"layers": [{"name": "x"}], "storage": "data.bin"}'), 'model.json')), undefined);
  });

  it('detectTree accepts an older compiled folder without metadata.json', async () => {
    const net = enc(JSON.stringify({ storage: 'model.espresso.weights', format_version: 200, layers: [] }));
    const d = await coreml.detectTree!(await treeProbe({ 'coremldata.bin': new Uint8Array(8), 'model.espresso.net': net, 'model.espresso.weights': new Uint8Array(64), 'model/coremldata.bin': new Uint8Array(8) }, 'Old.mlmodelc'));
    assert.equal(d?.format.variant, 'mlmodelc');
    assert.equal(d?.confidence, 'high');
    assert.deepEqual(d?.files?.find((f) => f.path === 'model.espresso.weights')?.role, 'weights');
  });
});
