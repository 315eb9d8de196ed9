/**
 * Keras scan hook over the three layouts (.keras zip config.json, legacy .h5 model_config,
 * JSON architecture + weights .h5), attack and near-miss each, plus end to end through scanSource.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scan } from './scan.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';
import { buildHdf5 } from '../../../test/helpers/hdf5-writer.js';
import { MARSHAL_VECTORS } from '../../../test/helpers/marshal-vectors.js';
import { directScan, has, scanFile } from '../../../test/helpers/scan-kit.js';

const EVIL = MARSHAL_VECTORS.find(([v, k]) => v === '3.8.18' && k === 'evil')![2];
const lambdaV3 = { module: 'keras.layers', class_name: 'Lambda', config: { name: 'lambda', trainable: true, dtype: 'float32', function: { class_name: '__lambda__', config: { value: [EVIL, null, null] } } }, registered_name: null };
const dense = { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense', trainable: true, dtype: 'float32', units: 2 }, registered_name: null };
const seq = (...layers: unknown[]) => JSON.stringify({ module: 'keras', class_name: 'Sequential', config: { name: 's', trainable: true, layers }, registered_name: null });
const legacy = (...layers: unknown[]) => JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers } });
const lambdaV2 = { class_name: 'Lambda', config: { name: 'l', trainable: true, dtype: 'float32', function: [EVIL, null, null], function_type: 'lambda', module: '__main__' } };
const denseV2 = { class_name: 'Dense', config: { name: 'd', trainable: true, dtype: 'float32', units: 2 } };

const kerasZip = (config: string) => buildZip([{ name: 'metadata.json', data: '{"keras_version": "3.5.0"}' }, { name: 'config.json', data: config, method: 'deflate' }, { name: 'model.weights.h5', data: buildHdf5([]) }]).bytes;
const h5 = (config: string) => buildHdf5([{ name: 'keras_version', value: { fixed: '2.4.0' } }, { name: 'backend', value: { fixed: 'tensorflow' } }, { name: 'model_config', value: { vlen: config } }]);

describe('Keras scan hook', () => {
  it('.keras: a Lambda reaching os is critical (KER-001); near-miss: Dense only', async () => {
    const bad = await directScan(scan, { 'm.keras': kerasZip(seq(dense, lambdaV3)) }, 'm.keras', 'keras', 'keras-v3');
    assert.equal(bad.verdict, 'malicious');
    assert.ok(has(bad.all, 'KER-001', 'critical'));
    const ok = await directScan(scan, { 'm.keras': kerasZip(seq(dense)) }, 'm.keras', 'keras', 'keras-v3');
    assert.equal(ok.verdict, 'benign');
    assert.ok(ok.state.scanned.some((s) => s.includes('config.json')));
  });

  it('legacy .h5: model_config Lambda (safe_mode is ignored for .h5: CVE-2025-9905); near-miss', async () => {
    const bad = await directScan(scan, { 'm.h5': h5(legacy(denseV2, lambdaV2)) }, 'm.h5', 'keras', 'keras-h5');
    assert.equal(bad.verdict, 'malicious');
    const ok = await directScan(scan, { 'm.h5': h5(legacy(denseV2)) }, 'm.h5', 'keras', 'keras-h5');
    assert.equal(ok.verdict, 'benign');
  });

  it('JSON architecture + weights: the JSON and the weights file root attributes are checked', async () => {
    const files = { 'model.json': legacy(denseV2), 'weights.h5': h5(legacy(lambdaV2)) };
    const bad = await directScan(scan, files, 'model.json', 'keras', 'keras-json+h5', { files: [{ path: 'model.json', size: 1, role: 'model' }, { path: 'weights.h5', size: 1, role: 'weights' }] });
    assert.equal(bad.verdict, 'malicious');
    assert.ok(bad.all.some((f) => f.location.startsWith('weights.h5 > model_config')));
    const ok = await directScan(scan, { 'model.json': legacy(denseV2) }, 'model.json', 'keras', 'keras-json');
    assert.equal(ok.verdict, 'benign');
  });

  it('end to end: a .keras file with an os.system Lambda is malicious', async () => {
    const r = await scanFile({ 'm.keras': kerasZip(seq(dense, lambdaV3)) }, 'm.keras');
    assert.equal(r.format?.id, 'keras');
    assert.equal(r.verdict, 'malicious');
  });
});
