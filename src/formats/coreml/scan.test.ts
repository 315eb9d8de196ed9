/** Core ML scan hook (COREML-001): custom layers, custom models, linked models, package manifests. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { scan } from './scan.js';
import { directScan, has } from '../../../test/helpers/scan-kit.js';

const layer = (name: string, kind: number, params: Uint8Array = new Uint8Array(0)) => pb.message(1, pb.string(1, name), pb.string(2, 'in'), pb.string(3, 'out'), pb.bytes(kind, params));
const nn = (...layers: Uint8Array[]) => pb.concat(...layers);
const model = (...fields: Uint8Array[]) => pb.concat(pb.varint(1, 4), pb.message(2), ...fields);
const custom = (cls: string) => pb.string(10, cls);
const linked = (name: string, search: string) => pb.message(556, pb.message(1, pb.message(1, pb.string(1, name)), pb.message(2, pb.string(1, search))));
const run = (bytes: Uint8Array) => directScan(scan, { 'm.mlmodel': bytes }, 'm.mlmodel', 'coreml', 'mlmodel');

describe('Core ML scan hook', () => {
  it('near-miss: an ordinary neural network is benign', async () => {
    const r = await run(model(pb.bytes(500, nn(layer('fc', 140), layer('act', 130)))));
    assert.equal(r.verdict, 'benign');
    assert.deepEqual(r.all, []);
  });

  it('custom layers (also inside pipelines and branch layers) and custom models are medium', async () => {
    const direct = await run(model(pb.bytes(500, nn(layer('fc', 140), layer('evil', 500, custom('EvilLayer'))))));
    assert.equal(direct.verdict, 'suspicious');
    assert.ok(direct.all.some((f) => f.rule === 'COREML-001' && f.evidence.includes('EvilLayer')));
    const inner = model(pb.bytes(500, nn(layer('c', 500, custom('DeepLayer')))));
    const pipeline = await run(model(pb.message(202, pb.bytes(1, inner))));
    assert.ok(pipeline.all.some((f) => f.evidence.includes('DeepLayer') && f.location.includes('models[0]')));
    const branch = await run(model(pb.bytes(500, nn(layer('if', 605, pb.message(1, nn(layer('x', 500, custom('BranchLayer')))))))));
    assert.ok(branch.all.some((f) => f.evidence.includes('BranchLayer')));
    const cm = await run(model(pb.message(555, custom('MyModel'))));
    assert.ok(has(cm.all, 'COREML-001', 'medium'));
  });

  it('linked models: medium; high when the path leaves the bundle', async () => {
    const ok = await run(model(linked('Feature.mlmodelc', '$BUNDLE_MAIN')));
    assert.equal(ok.verdict, 'suspicious');
    const bad = await run(model(linked('../../../../Library/x.mlmodelc', '$BUNDLE_MAIN')));
    assert.equal(bad.verdict, 'malicious');
  });

  it('mlpackage manifests with item paths leaving the package are medium', async () => {
    const manifest = (path: string) => JSON.stringify({ fileFormatVersion: '1.0.0', itemInfoEntries: { a: { author: 'com.apple.CoreML', path } }, rootModelIdentifier: 'a' });
    const spec = model(pb.bytes(500, nn(layer('fc', 140))));
    const bad = await directScan(scan, { 'Manifest.json': manifest('../../etc/passwd'), 'Data/com.apple.CoreML/model.mlmodel': spec }, 'Manifest.json', 'coreml', 'mlpackage', { folder: true });
    assert.ok(has(bad.all, 'COREML-001', 'medium'));
    const ok = await directScan(scan, { 'Manifest.json': manifest('model.mlmodel'), 'Data/com.apple.CoreML/model.mlmodel': spec }, 'Manifest.json', 'coreml', 'mlpackage', { folder: true });
    assert.equal(ok.verdict, 'benign');
    assert.ok(ok.state.scanned.some((s) => s.includes('Core ML spec')));
  });
});
