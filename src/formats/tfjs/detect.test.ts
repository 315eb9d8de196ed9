import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tfjs } from './index.js';
import { Probe } from '../../identify/probe.js';
import { BytesSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { identify } from '../../identify/identify.js';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const probeOf = (bytes: Uint8Array, name = 'model.json'): Probe => new Probe(new BytesSource(bytes, name), name);
const treeOf = (files: Record<string, Uint8Array>): MemoryTree =>
  new MemoryTree('m', Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new BytesSource(v, k)])));
const inTree = (files: Record<string, Uint8Array>, path = 'model.json'): Probe => new Probe(new BytesSource(files[path]!, path), path, treeOf(files), path);

const manifest = [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [{ name: 'dense/kernel', shape: [2, 3], dtype: 'float32' }, { name: 'dense/bias', shape: [3], dtype: 'float32' }] }];
const layers = {
  format: 'layers-model',
  generatedBy: 'keras v2.4.0',
  convertedBy: 'TensorFlow.js Converter v3.0.0',
  modelTopology: { keras_version: '2.4.0', backend: 'tensorflow', model_config: { class_name: 'Sequential', config: { layers: [] } } },
  weightsManifest: manifest,
};
const graph = {
  format: 'graph-model',
  generatedBy: '2.1.0',
  convertedBy: 'TensorFlow.js Converter v2.4.0',
  modelTopology: { node: [{ name: 'x', op: 'Placeholder' }, { name: 'y', op: 'Identity', input: ['x'] }], versions: { producer: 175 } },
  weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'w', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.1, min: -1 } }] }],
};

describe('tfjs detect', () => {
  it('layers model with every shard present, byte count checked', async () => {
    const d = await tfjs.detect!(inTree({ 'model.json': enc(layers), 'group1-shard1of2.bin': new Uint8Array(16), 'group1-shard2of2.bin': new Uint8Array(20) }));
    assert.equal(d?.format.variant, 'tfjs-layers');
    assert.equal(d?.confidence, 'high');
    assert.deepEqual(
      d?.files?.map((f) => [f.path, f.role]),
      [
        ['model.json', 'model'],
        ['group1-shard1of2.bin', 'weights'],
        ['group1-shard2of2.bin', 'weights'],
      ],
    );
    assert.ok(d?.evidence.some((e) => e.includes('manifest byte count 36 matches')));
    assert.ok(d?.evidence.some((e) => e.includes("convertedBy 'TensorFlow.js Converter v3.0.0'")));
  });

  it('graph model (quantized weights) alone, without a folder', async () => {
    const d = await tfjs.detect!(probeOf(enc(graph)));
    assert.equal(d?.format.variant, 'tfjs-graph');
    assert.equal(d?.files, undefined);
    assert.ok(d?.evidence.some((e) => e.includes('1 quantized')));
    assert.ok(d?.evidence.some((e) => e.includes('not checked (no folder)')));
  });

  it('infers the variant without a format key', async () => {
    const { format: _f, ...noFormat } = layers;
    assert.equal((await tfjs.detect!(probeOf(enc({ ...noFormat, modelTopology: { class_name: 'Sequential', config: {} } }))))?.format.variant, 'tfjs-layers');
    const { format: _g, ...noFormatGraph } = graph;
    assert.equal((await tfjs.detect!(probeOf(enc(noFormatGraph))))?.format.variant, 'tfjs-graph');
  });

  it('flags missing shards, escaping paths and URLs', async () => {
    const bad = { ...graph, weightsManifest: [{ paths: ['weights.bin', '../secret.bin', 'https://example.com/w.bin', 'gone.bin'], weights: [] }] };
    const d = await tfjs.detect!(inTree({ 'model.json': enc(bad), 'weights.bin': new Uint8Array(4) }));
    assert.equal(d?.format.variant, 'tfjs-graph');
    assert.deepEqual(d?.files?.map((f) => f.path), ['model.json', 'weights.bin']);
    assert.ok(d?.evidence.some((e) => e.includes('escape the model folder') && e.includes('../secret.bin')));
    assert.ok(d?.evidence.some((e) => e.includes('are URLs')));
    assert.ok(d?.evidence.some((e) => e.includes('missing: gone.bin')));
  });

  it('bare weights manifest (tfjs-converter 0.x) with tensorflowjs_model.pb', async () => {
    const d = await tfjs.detect!(
      inTree({ 'weights_manifest.json': enc(manifest), 'tensorflowjs_model.pb': new Uint8Array([8, 1]), 'group1-shard1of2.bin': new Uint8Array(16), 'group1-shard2of2.bin': new Uint8Array(20) }, 'weights_manifest.json'),
    );
    assert.equal(d?.format.variant, 'tfjs-weights-manifest');
    assert.deepEqual(d?.files?.map((f) => f.role), ['manifest', 'graph', 'weights', 'weights']);
  });

  it('the folder is one model: shards are claimed by model.json', async () => {
    const r = await identify(treeOf({ 'model.json': enc(graph), 'weights.bin': new Uint8Array(4) }), { name: 'm' });
    assert.equal(r.format?.id, 'tfjs');
    assert.equal(r.files?.length, 2);
  });

  it('a shard alone, in its folder: the model of the model.json that lists it (medium)', async () => {
    const files = { 'model.json': enc(graph), 'weights.bin': new Uint8Array([1, 2, 3, 250]) };
    const d = await tfjs.detect!(inTree(files, 'weights.bin'));
    assert.equal(d?.format.variant, 'tfjs-graph');
    assert.equal(d?.confidence, 'medium');
    assert.equal(d?.files?.[0]?.path, 'model.json');
    // Not listed, or no folder: nothing.
    assert.equal(await tfjs.detect!(inTree({ 'model.json': enc(layers), 'weights.bin': new Uint8Array([1, 250]) }, 'weights.bin')), undefined);
    assert.equal(await tfjs.detect!(probeOf(new Uint8Array([1, 250]), 'weights.bin')), undefined);
  });

  it('near misses: plain JSON, package.json, Keras JSON, a list of numbers, a manifest with bad entries', async () => {
    for (const j of [
      { a: 1 },
      { name: 'pkg', version: '1.0.0', main: 'index.js', dependencies: { x: '1' } },
      { class_name: 'Sequential', config: { layers: [] }, keras_version: '2.4.0' },
      [1, 2, 3],
      [{ paths: ['a.bin'], weights: [{ name: 'w' }] }],
      { modelTopology: { foo: 1 } },
      { weightsManifest: [{ paths: 'a.bin', weights: [] }] },
    ]) {
      assert.equal(await tfjs.detect!(probeOf(enc(j))), undefined, JSON.stringify(j));
    }
  });
});
