import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keras } from './index.js';
import { Probe } from '../../identify/probe.js';
import { BytesSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { identify } from '../../identify/identify.js';
import { buildHdf5, type H5Attribute } from '../../../test/helpers/hdf5-writer.js';
import { buildHdf5Tree } from '../../../test/helpers/hdf5-tree-writer.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const probeOf = (bytes: Uint8Array, name: string): Probe => new Probe(new BytesSource(bytes, name), name);
const inTree = (files: Record<string, Uint8Array>, path: string): Probe => {
  const tree = new MemoryTree('m', Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new BytesSource(v, k)])));
  return new Probe(new BytesSource(files[path]!, path), path, tree, path);
};

const MODEL_CONFIG = JSON.stringify({ class_name: 'Functional', config: { name: 'model', layers: [] } });
const fullModelAttrs: H5Attribute[] = [
  { name: 'keras_version', value: { fixed: '2.13.1' } },
  { name: 'backend', value: { fixed: 'tensorflow' } },
  { name: 'model_config', value: { fixed: MODEL_CONFIG } },
];
const weightsAttrs: H5Attribute[] = [
  { name: 'layer_names', value: { fixedArray: ['dense', 'dense_1'] } },
  { name: 'backend', value: { fixed: 'tensorflow' } },
  { name: 'keras_version', value: { fixed: '2.4.0' } },
];
const ARCH = JSON.stringify({
  class_name: 'Sequential',
  config: { name: 'sequential', layers: [{ class_name: 'Dense', config: { name: 'dense' } }, { class_name: 'Dense', config: { name: 'dense_1' } }] },
  keras_version: '2.4.0',
  backend: 'tensorflow',
});

describe('keras detect: legacy HDF5', () => {
  it('full model (superblock v0, fixed-length strings)', async () => {
    const d = await keras.detect!(probeOf(buildHdf5([...fullModelAttrs]), 'm.h5'));
    assert.equal(d?.format.variant, 'keras-h5');
    assert.equal(d?.format.version, '2.13.1');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.details?.modelClass, 'Functional');
    assert.equal(d?.details?.weightsOnly, false);
  });

  it('full model (superblock v2, OHDR, variable-length strings in a global heap)', async () => {
    const attrs = [
      { name: 'keras_version', value: { vlen: '2.15.0' } },
      { name: 'backend', value: { vlen: 'tensorflow' } },
      { name: 'model_config', value: { vlen: MODEL_CONFIG } },
    ];
    const d = await keras.detect!(probeOf(buildHdf5(attrs, { superblock: 2 }), 'm.h5'));
    assert.equal(d?.format.variant, 'keras-h5');
    assert.equal(d?.format.version, '2.15.0');
    assert.equal(d?.details?.hdf5Superblock, 2);
    assert.equal(d?.details?.backend, 'tensorflow');
  });

  it('attributes in a continuation chunk, after a 512-byte user block', async () => {
    const d = await keras.detect!(probeOf(buildHdf5([...fullModelAttrs], { continuation: true, userblock: 512 }), 'm.h5'));
    assert.equal(d?.format.variant, 'keras-h5');
    assert.equal(d?.format.version, '2.13.1');
  });

  it('weights only (layer_names)', async () => {
    const d = await keras.detect!(probeOf(buildHdf5([...weightsAttrs]), 'w.h5'));
    assert.equal(d?.format.variant, 'keras-h5');
    assert.equal(d?.details?.weightsOnly, true);
    assert.equal(d?.details?.layerCount, 2);
    assert.ok(d?.evidence.some((e) => e.includes('weights-only')));
  });

  it('Keras 0.x weights (nb_layers)', async () => {
    const d = await keras.detect!(probeOf(buildHdf5([{ name: 'nb_layers', value: { int64: 3 } }]), 'w.h5'));
    assert.equal(d?.format.variant, 'keras-h5');
    assert.equal(d?.details?.weightsOnly, true);
  });

  it('dense attribute storage (fractal heap + v2 B-tree) is read: high confidence', async () => {
    const attrs = { keras_version: '2.15.0', backend: 'tensorflow', model_config: MODEL_CONFIG, a1: 1, a2: 2, a3: 3, a4: 4, a5: 5, a6: 6, a7: 7, a8: 8 };
    const { bytes } = buildHdf5Tree({ dense: true, attrs, members: { model_weights: { members: {} } } }, { superblock: 2 });
    const d = await keras.detect!(probeOf(bytes, 'm.h5'));
    assert.equal(d?.format.variant, 'keras-h5');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.format.version, '2.15.0');
    assert.equal(d?.details?.modelClass, 'Functional');
  });

  it('unreadable dense attribute storage: falls back to a name search (medium), values recovered', async () => {
    const d = await keras.detect!(probeOf(buildHdf5([...fullModelAttrs], { superblock: 2, dense: true }), 'm.h5'));
    assert.equal(d?.format.variant, 'keras-h5');
    assert.equal(d?.confidence, 'medium');
    assert.equal(d?.format.version, '2.13.1');
    const v = await keras.detect!(probeOf(buildHdf5([{ name: 'keras_version', value: { vlen: '2.3.1' } }], { superblock: 2, dense: true }), 'm.h5'));
    assert.equal(v?.format.version, '2.3.1');
  });

  it('near miss: HDF5 without Keras attributes is not Keras', async () => {
    assert.equal(await keras.detect!(probeOf(buildHdf5([{ name: 'title', value: { fixed: 'sensor readings' } }]), 'data.h5')), undefined);
    assert.equal(await keras.detect!(probeOf(buildHdf5([], { superblock: 2 }), 'data.h5')), undefined);
    const r = await identify(buildHdf5([{ name: 'title', value: { vlen: 'x' } }]), { name: 'data.h5' });
    assert.equal(r.format, null);
    assert.equal(r.notModel, 'hdf5');
  });

  it('hostile: truncated, bad offsets and huge sizes never throw', async () => {
    const good = buildHdf5([...fullModelAttrs]);
    for (const cut of [8, 20, 60, 100, 120]) assert.equal(await keras.detect!(probeOf(good.slice(0, cut), 'm.h5')), undefined);
    // Cut inside the header, after the attribute names: found by the byte search, medium.
    assert.equal((await keras.detect!(probeOf(good.slice(0, 200), 'm.h5')))?.confidence, 'medium');
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(96 + 8, 0x7fffffff, true); // object header size
    await keras.detect!(probeOf(bad, 'm.h5')); // must resolve
    const bad2 = good.slice();
    new DataView(bad2.buffer).setUint32(64, 0xfffffff0, true); // root object header address
    assert.equal((await keras.detect!(probeOf(bad2, 'm.h5')))?.confidence, 'medium'); // names still found by the byte search
  });
});

describe('keras detect: v3 zip', () => {
  it('.keras with metadata.json, config.json, model.weights.h5', async () => {
    const z = buildZip([
      { name: 'metadata.json', data: '{"keras_version": "3.5.0", "date_saved": "2024-12-19@23:45:01"}' },
      { name: 'config.json', data: '{"module": "keras", "class_name": "Sequential", "config": {}}', method: 'deflate' },
      { name: 'model.weights.h5', data: buildHdf5([]) },
    ]);
    const d = await keras.detect!(probeOf(z.bytes, 'model.keras'));
    assert.equal(d?.format.variant, 'keras-v3');
    assert.equal(d?.format.version, '3.5.0');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.details?.modelClass, 'Sequential');
  });

  it('model.weights.npz instead of h5', async () => {
    const z = buildZip([
      { name: 'metadata.json', data: '{"keras_version": "3.1.0"}' },
      { name: 'config.json', data: '{"class_name": "Functional", "config": {}}' },
      { name: 'model.weights.npz', data: 'PK' },
    ]);
    assert.equal((await keras.detect!(probeOf(z.bytes, 'x.keras')))?.format.variant, 'keras-v3');
  });

  it('near miss: a zip of text files, or config.json that is not JSON', async () => {
    const z = buildZip([
      { name: 'readme.txt', data: 'hello' },
      { name: 'config.json', data: '{}' },
    ]);
    assert.equal(await keras.detect!(probeOf(z.bytes, 'a.zip')), undefined);
    const z2 = buildZip([
      { name: 'config.json', data: 'not json' },
      { name: 'metadata.json', data: '{"keras_version": "3.0.0"}' },
    ]);
    assert.equal(await keras.detect!(probeOf(z2.bytes, 'a.keras')), undefined);
  });
});

describe('keras detect: architecture JSON + weights', () => {
  it('JSON alone: keras-json', async () => {
    const d = await keras.detect!(probeOf(enc(ARCH), 'model.json'));
    assert.equal(d?.format.variant, 'keras-json');
    assert.equal(d?.format.version, '2.4.0');
    assert.equal(d?.confidence, 'medium');
  });

  it('old Sequential JSON with config as a list', async () => {
    const old = JSON.stringify({ class_name: 'Sequential', config: [{ class_name: 'Dense', config: { name: 'd' } }], keras_version: '2.1.2', backend: 'theano' });
    assert.equal((await keras.detect!(probeOf(enc(old), 'arch.json')))?.format.variant, 'keras-json');
  });

  it('JSON with a sibling weights h5: keras-json+h5 listing both files', async () => {
    const files = { 'model.json': enc(ARCH), 'weights.h5': buildHdf5([...weightsAttrs]), 'notes.txt': enc('x') };
    const d = await keras.detect!(inTree(files, 'model.json'));
    assert.equal(d?.format.variant, 'keras-json+h5');
    assert.deepEqual(
      d?.files?.map((f) => [f.path, f.role]),
      [
        ['model.json', 'architecture'],
        ['weights.h5', 'weights'],
      ],
    );
    assert.ok(d?.evidence.some((e) => e.includes('2 of the 2 weight layer names')));
    // The folder comes out as one model.
    const tree = new MemoryTree('m', Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new BytesSource(v, k)])));
    const r = await identify(tree, { name: 'm' });
    assert.equal(r.format?.id, 'keras');
    assert.equal(r.format?.variant, 'keras-json+h5');
  });

  it('a full-model h5 next to the JSON is not its weights file', async () => {
    const d = await keras.detect!(inTree({ 'model.json': enc(ARCH), 'full.h5': buildHdf5([...fullModelAttrs]) }, 'model.json'));
    assert.equal(d?.format.variant, 'keras-json');
  });

  it('near misses: plain JSON, package.json, a TF.js model.json, an HF config', async () => {
    for (const j of [
      { a: 1 },
      { name: 'pkg', version: '1.0.0', dependencies: {} },
      { modelTopology: { class_name: 'Sequential', config: { layers: [] } }, weightsManifest: [] },
      { model_type: 'bert', architectures: ['BertModel'] },
      { class_name: 'Foo', config: { x: 1 } },
    ]) {
      assert.equal(await keras.detect!(probeOf(enc(JSON.stringify(j)), 'x.json')), undefined, JSON.stringify(j));
    }
  });
});
