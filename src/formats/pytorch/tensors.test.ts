/**
 * readTensor over real checkpoints written by torch 1.13 (scripts/fixtures/pytorch_tensor_fixtures.py,
 * values in the JSON next to each file, written from the tensors the script created) and over every
 * PyTorch / TorchScript model of the shared corpus.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { CountingSource, BytesSource } from '../../io/source.js';
import { isModelwiseError } from '../../errors.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';
import { CORPUS, SKIP_CORPUS, expectedModels } from '../../../test/helpers/corpus.js';
import { FIXTURES, decode, expectedValues, openFiles, openFixture, type Opened } from './tensors-kit.test.js';
import { join } from 'node:path';

async function assertAll(o: Opened, expected: Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>) {
  assert.deepEqual(o.ins.tensors.map((t) => t.name).sort(), Object.keys(expected).sort());
  for (const [name, e] of Object.entries(expected)) {
    const t = o.info(name);
    assert.equal(t.dtype, e.dtype, name);
    assert.deepEqual(t.shape, e.shape, name);
    const bytes = await o.read(name);
    assert.equal(bytes.length, t.byteLength, `${name}: byte length`);
    assert.deepEqual(decode(e.dtype, bytes), e.values, `${name}: values`);
  }
}

describe('pytorch readTensor: checkpoints written by torch', () => {
  it('zip: contiguous, transposed, permuted, sliced, strided, expanded, tied, scalar, empty and every dtype', async () => {
    await assertAll(await openFixture('tensors_zip.pt'), expectedValues('tensors_zip.pt.json'));
  });

  it('legacy pickle stream (_use_new_zipfile_serialization=False): the same values', async () => {
    const o = await openFixture('tensors_legacy.pt');
    assert.equal(o.m.id.format?.variant, 'legacy-pickle');
    await assertAll(o, expectedValues('tensors_legacy.pt.json'));
  });

  it('a whole pickled nn.Module: its state_dict, the tied head reading the embedding', async () => {
    const o = await openFixture('tensors_module.pt');
    await assertAll(o, expectedValues('tensors_module.pt.json'));
    assert.deepEqual(await o.read('head.weight'), await o.read('embed.weight'));
  });

  it('a sharded .bin set through its index (a zip shard and a legacy shard)', async () => {
    const o = await openFixture('tensors_sharded/pytorch_model.bin.index.json');
    assert.equal(o.m.id.format?.variant, 'sharded-index');
    await assertAll(o, expectedValues('tensors_sharded.json'));
  });

  it('the first shard as entry reads the other shards too', async () => {
    const o = await openFixture('tensors_sharded/pytorch_model-00001-of-00002.bin');
    await assertAll(o, expectedValues('tensors_sharded.json'));
  });

  it('a contiguous view reads only its own bytes of a stored storage', async () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'tensors_zip.pt')));
    const counting = new CountingSource(new BytesSource(bytes, 'tensors_zip.pt'));
    const o = await openFiles({ 'tensors_zip.pt': counting }, 'tensors_zip.pt');
    await o.read('contiguous'); // walks the checkpoint once
    const before = counting.bytesRead;
    const slice = await o.read('slice_1d'); // 10 of the 24 floats of its storage
    assert.equal(slice.length, 40);
    assert.equal(counting.bytesRead - before, 40);
  });

  it('deflated storage records are inflated (within the zip limits)', async () => {
    const files = unzipSync(new Uint8Array(readFileSync(join(FIXTURES, 'tensors_zip.pt'))));
    const members = Object.entries(files).map(([name, data]) => ({ name, data, method: name.includes('/data/') ? ('deflate' as const) : ('store' as const) }));
    const o = await openFiles({ 'deflated.pt': buildZip(members).bytes }, 'deflated.pt');
    assert.ok(o.ins.diagnostics?.some((d) => d.code === 'STORAGE_COMPRESSED'));
    await assertAll(o, expectedValues('tensors_zip.pt.json'));
    // a deflated storage claiming more than the inflate limit is refused, not inflated
    const lying = Object.entries(files).map(([name, data]) => ({ name, data, method: name.includes('/data/') ? ('deflate' as const) : ('store' as const), ...(name.endsWith('/data/0') ? { declaredSize: 2 ** 30 } : {}) }));
    const o2 = await openFiles({ 'lying.pt': buildZip(lying).bytes }, 'lying.pt');
    await assert.rejects(o2.read('contiguous'), (e) => isModelwiseError(e) && e.code === 'LIMIT_EXCEEDED');
    assert.equal((await o2.read('f16')).length, 12);
  });
});

describe('pytorch readTensor: the shared corpus', { skip: SKIP_CORPUS }, () => {
  for (const e of [...expectedModels('pytorch'), ...expectedModels('torchscript')]) {
    if (e.isDir) continue;
    it(`${e.model}: every listed tensor, byteLength bytes`, async () => {
      const name = e.model.split('/').pop()!;
      const o = await openFiles({ [name]: new Uint8Array(readFileSync(join(CORPUS, e.model))) }, name);
      for (const t of o.ins.tensors) {
        const b = await o.m.impl.readTensor!(o.m.input, t);
        assert.equal(b.length, t.byteLength, `${t.name}`);
      }
    });
  }

  it('the same TinyCNN weights come out of the zip, legacy and whole-model pickles', async () => {
    const open = async (f: string) => openFiles({ [f]: new Uint8Array(readFileSync(join(CORPUS, 'pytorch', f))) }, f);
    const zip = await open('gen_tinycnn_state_dict.pth');
    const legacy = await open('gen_tinycnn_legacy.pth');
    const whole = await open('gen_tinycnn_whole_model.pt');
    for (const t of zip.ins.tensors) {
      const a = await zip.read(t.name);
      assert.deepEqual(await legacy.read(t.name), a, t.name);
      assert.deepEqual(await whole.read(t.name), a, t.name);
    }
  });
});
