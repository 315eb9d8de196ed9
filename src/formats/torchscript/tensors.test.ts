/**
 * readTensor for TorchScript: a torch.jit.script module written by torch 1.13
 * (scripts/fixtures/pytorch_tensor_fixtures.py; values in tensors_scripted.pt.json, written from the
 * module's own tensors), the same archive re-written big-endian, and the torch 1.0–1.2 model.json
 * layout built in code. Corpus TorchScript models are covered by ../pytorch/tensors.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { isModelwiseError } from '../../errors.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';
import { swapWords } from '../pytorch/strided.js';
import { FIXTURES, decode, expectedValues, f32, openFiles, openFixture } from '../pytorch/tensors-kit.test.js';

const expected = expectedValues('tensors_scripted.pt.json');

describe('torchscript readTensor', () => {
  it('torch.jit.script module: parameters and buffers (transposed, offset, tied, f16, i64) by state_dict name', async () => {
    const o = await openFixture('tensors_scripted.pt');
    assert.equal(o.m.id.format?.id, 'torchscript');
    assert.deepEqual(o.ins.tensors.map((t) => t.name).sort(), Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      const bytes = await o.read(name);
      assert.equal(bytes.length, o.info(name).byteLength, name);
      assert.deepEqual(decode(e.dtype, bytes), e.values, name);
    }
    assert.deepEqual(await o.read('b.shared.weight'), await o.read('a.shared.weight'));
  });

  it('the same archive with big-endian storages and a byteorder "big" record', async () => {
    const plain = await openFixture('tensors_scripted.pt');
    const units: Record<string, number> = { f32: 4, f16: 2, i64: 8 };
    const unitOf = new Map(plain.ins.tensors.map((t) => [t.storage!, units[t.dtype]!]));
    const files = unzipSync(new Uint8Array(readFileSync(join(FIXTURES, 'tensors_scripted.pt'))));
    const top = Object.keys(files)[0]!.split('/')[0]!;
    const members = Object.entries(files).map(([name, data]) => {
      const key = name.startsWith(`${top}/data/`) ? name.slice(top.length + 6) : undefined;
      const d = data.slice();
      if (key !== undefined) swapWords(d, unitOf.get(key)!);
      return { name, data: d };
    });
    members.push({ name: `${top}/byteorder`, data: new TextEncoder().encode('big') });
    const o = await openFiles({ 'be.pt': buildZip(members).bytes }, 'be.pt');
    for (const [name, e] of Object.entries(expected)) assert.deepEqual(decode(e.dtype, await o.read(name)), e.values, name);
  });

  it('torch 1.0–1.2 model.json: TensorDef offset and strides', async () => {
    const model = {
      protoVersion: '2', producerName: 'pytorch', producerVersion: '1.1',
      mainModule: { name: 'Top', parameters: [{ name: 'w', tensorId: '0' }, { name: 'w_t', tensorId: '1' }], submodules: [{ name: 'bn', parameters: [{ name: 'running_mean', tensorId: '2', isBuffer: true }] }] },
      tensors: [
        { dims: ['2', '2'], offset: '1', strides: ['2', '1'], dataType: 'FLOAT', data: { key: 'tensors/0' } },
        { dims: ['2', '2'], offset: '1', strides: ['1', '2'], dataType: 'FLOAT', data: { key: 'tensors/0' } },
        { dims: ['2'], offset: '1', strides: ['1'], dataType: 'DOUBLE', data: { key: 'tensors/1' } },
      ],
    };
    const f64 = new Uint8Array(24);
    [7, 8.5, -9].forEach((v, i) => new DataView(f64.buffer).setFloat64(i * 8, v, true));
    const z = buildZip([
      { name: 'm/model.json', data: JSON.stringify(model) },
      { name: 'm/tensors/0', data: f32([0, 1, 2, 3, 4]) },
      { name: 'm/tensors/1', data: f64 },
      { name: 'm/code/m.py', data: 'op_version_set = 1\n' },
      { name: 'm/version', data: '1\n' },
    ]);
    const o = await openFiles({ 'old.pt': z.bytes }, 'old.pt');
    assert.deepEqual(decode('f32', await o.read('w')), [1, 2, 3, 4]);
    assert.deepEqual(decode('f32', await o.read('w_t')), [1, 3, 2, 4]);
    assert.deepEqual(decode('f64', await o.read('bn.running_mean')), [8.5, -9]);
    await assert.rejects(o.m.impl.readTensor!(o.m.input, { ...o.info('w'), name: 'not.there' }), (e) => isModelwiseError(e) && e.code === 'UNSUPPORTED');
  });
});
