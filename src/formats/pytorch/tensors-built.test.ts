/**
 * readTensor on checkpoints built in code: layouts torch 1.13 cannot write here (big-endian
 * storages, legacy tar, _rebuild_tensor_v3 over untyped storages), sparse views of huge storages,
 * and hostile or damaged inputs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isModelwiseError } from '../../errors.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { MAGIC_P2, VERSION_P2, concat, enc, tar } from './testkit.test.js';
import { num, orderedDict, persid, pickle, sparseZip, sparseZipSize, stateDictPickle, tensor, type TensorSpec } from './inspect-kit.test.js';
import { decode, f32, openFiles } from './tensors-kit.test.js';

function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array>, byteorder = 'little') {
  const members = [{ name: 'archive/data.pkl', data: pkl }];
  for (const [k, v] of Object.entries(storages)) members.push({ name: `archive/data/${k}`, data: v });
  members.push({ name: 'archive/version', data: enc('3\n') }, { name: 'archive/byteorder', data: enc(byteorder) });
  return buildZip(members).bytes;
}

const openZip = (bytes: Uint8Array) => openFiles({ 'model.pt': bytes }, 'model.pt');
const u64 = (n: number | bigint, le = true) => {
  const x = new Uint8Array(8);
  new DataView(x.buffer).setBigUint64(0, BigInt(n), le);
  return x;
};
/** Fill a buffer of `size`-byte words written by `set` in the given byte order. */
const words = (n: number, size: number, set: (dv: DataView, o: number, i: number) => void) => {
  const b = new Uint8Array(n * size);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < n; i++) set(dv, i * size, i);
  return b;
};
const rejectsWith = (code: string, re?: RegExp) => (e: unknown) => isModelwiseError(e) && e.code === code && (!re || re.test(e.message));

describe('pytorch readTensor: byte order', () => {
  it('zip with byteorder "big": every multi-byte dtype swapped to little-endian, views too', async () => {
    const be = false;
    const storages = {
      0: f32([0, 1, 2, 3, 4, 5], true),
      1: words(3, 2, (dv, o, i) => dv.setUint16(o, [0x3c00, 0xc000, 0x7bff][i]!, be)), // f16 1, -2, 65504
      2: words(2, 8, (dv, o, i) => dv.setBigInt64(o, [-5n, 2n ** 60n][i]!, be)),
      3: words(4, 4, (dv, o, i) => dv.setFloat32(o, [1.5, -2.5, 3, 0.25][i]!, be)), // c64: 2 complex numbers
      4: Uint8Array.from([1, 0, 1]),
      5: words(2, 2, (dv, o, i) => dv.setUint16(o, [0x3f80, 0xc040][i]!, be)), // bf16 1, -3
    };
    const pkl = stateDictPickle([
      ['w', { key: '0', shape: [2, 3] }],
      ['w_t', { key: '0', shape: [3, 2], stride: [1, 3] }],
      ['h', { key: '1', storage: 'HalfStorage', shape: [3] }],
      ['l', { key: '2', storage: 'LongStorage', shape: [2] }],
      ['c', { key: '3', storage: 'ComplexFloatStorage', shape: [2] }],
      ['b', { key: '4', storage: 'BoolStorage', shape: [3] }],
      ['bf', { key: '5', storage: 'BFloat16Storage', shape: [2] }],
    ]);
    const o = await openZip(torchZip(pkl, storages, 'big'));
    assert.ok(o.ins.diagnostics?.some((d) => d.code === 'BIG_ENDIAN'));
    assert.deepEqual(decode('f32', await o.read('w')), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(decode('f32', await o.read('w_t')), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(decode('f16', await o.read('h')), [1, -2, 65504]);
    assert.deepEqual(decode('i64', await o.read('l')), ['-5', String(2n ** 60n)]);
    assert.deepEqual(decode('c64', await o.read('c')), [1.5, -2.5, 3, 0.25]);
    assert.deepEqual(decode('bool', await o.read('b')), [1, 0, 1]);
    assert.deepEqual(decode('bf16', await o.read('bf')), [1, -3]);
    // reading twice gives the same bytes (the swap never touches the source)
    assert.deepEqual(decode('f32', await o.read('w')), [0, 1, 2, 3, 4, 5]);
  });

  const legacy = (littleEndian: boolean, countLE: boolean, data: Uint8Array) => {
    const sys = pickle().proto(2).emptyDict().mark().str('protocol_version').raw(0x4d, 0xe9, 0x03).str('little_endian').raw(littleEndian ? 0x88 : 0x89).setitems().stop().build_();
    const obj = stateDictPickle([['w', { key: '7', shape: [2, 2] }], ['w_t', { key: '7', shape: [2, 2], stride: [1, 2] }]]);
    const keys = pickle().proto(2).emptyList().mark().str('7').raw(0x65).stop().build_();
    return concat(MAGIC_P2, VERSION_P2, sys, obj, keys, u64(4, countLE), data);
  };

  it('legacy stream from a big-endian host: a big-endian count means data in sys_info order', async () => {
    const o = await openFiles({ 'old.pth': legacy(false, false, f32([1, 2, 3, 4], true)) }, 'old.pth');
    assert.deepEqual(decode('f32', await o.read('w')), [1, 2, 3, 4]);
    assert.deepEqual(decode('f32', await o.read('w_t')), [1, 3, 2, 4]);
  });

  it('legacy stream: a storage used only inside an object the walk does not enter still sizes the storages after it', async () => {
    const sys = pickle().proto(2).emptyDict().mark().str('little_endian').raw(0x88).setitems().stop().build_();
    const b = pickle().proto(2);
    orderedDict(b, (x) => {
      x.str('thing').global('__main__', 'Thing').emptyTuple().newobj().emptyDict().mark();
      tensor(x.str('hidden'), { key: '1', storage: 'DoubleStorage', shape: [3] });
      x.setitems().build();
      tensor(x.str('w'), { key: '2', shape: [2] });
    });
    const keys = pickle().proto(2).emptyList().mark().str('1').str('2').raw(0x65).stop().build_();
    const f64 = words(3, 8, (dv, o, i) => dv.setFloat64(o, i, true));
    const o = await openFiles({ 'old.pth': concat(MAGIC_P2, VERSION_P2, sys, b.stop().build_(), keys, u64(3), f64, u64(2), f32([6, 7])) }, 'old.pth');
    assert.deepEqual(o.ins.tensors.map((t) => t.name), ['w']);
    assert.deepEqual(decode('f32', await o.read('w')), [6, 7]);
  });

  it('legacy stream by torch ≥ 1.0 on a big-endian host: little-endian count and data, whatever sys_info says', async () => {
    const o = await openFiles({ 'old.pth': legacy(false, true, f32([1, 2, 3, 4])) }, 'old.pth');
    assert.deepEqual(decode('f32', await o.read('w')), [1, 2, 3, 4]);
  });
});

describe('pytorch readTensor: other layouts', () => {
  it('legacy tar (torch ≤ 0.1): the tensors record gives size, stride and offset', async () => {
    const i64s = (...ns: number[]) => concat(...ns.map((n) => u64(n)));
    const count = pickle().proto(2).int(1).stop().build_();
    const record = pickle().proto(2).mark().str('s1').str('cpu').global('torch', 'FloatStorage').tuple().stop().build_();
    const storages = concat(count, record, u64(7), f32([9, 0, 1, 2, 3, 4, 5]), pickle().proto(2).emptyList().stop().build_());
    const trec = (key: number) => pickle().proto(2).mark().int(key).str('s1').global('torch', 'FloatTensor').tuple().stop().build_();
    const tensors = concat(
      pickle().proto(2).int(2).stop().build_(),
      trec(7), Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0]), i64s(2, 3, 3, 1, 1), // [2,3] at offset 1
      trec(8), Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0]), i64s(3, 2, 1, 3, 1), // its transpose
    );
    const obj = pickle().proto(2).emptyDict().mark().str('weight').int(7).binpersid().str('weight_t').int(8).binpersid().setitems().stop().build_();
    const sys = pickle().proto(2).emptyDict().mark().str('protocol_version').raw(0x4d, 0xe9, 0x03).str('little_endian').raw(0x88).setitems().stop().build_();
    const o = await openFiles({ 'ancient.pt': tar([['sys_info', sys], ['pickle', obj], ['tensors', tensors], ['storages', storages]]) }, 'ancient.pt');
    assert.equal(o.m.id.format?.variant, 'legacy-tar');
    assert.deepEqual(decode('f32', await o.read('weight')), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(decode('f32', await o.read('weight_t')), [0, 3, 1, 4, 2, 5]);
  });

  it('_rebuild_tensor_v3 over an untyped storage: offset and strides count elements of the dtype', async () => {
    const b = pickle().proto(2);
    orderedDict(b, (x) => {
      x.str('u').global('torch._utils', '_rebuild_tensor_v3').mark();
      persid(x, { key: '0', storage: 'UntypedStorage', shape: [16] });
      num(x, 2).mark().int(2).int(2).tuple().mark().int(1).int(2).tuple();
      x.raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().global('torch', 'uint16').tuple().reduce();
    });
    const data = words(8, 2, (dv, o, i) => dv.setUint16(o, 1000 + i, true));
    const o = await openZip(torchZip(b.stop().build_(), { 0: data }));
    const t = o.info('u');
    assert.equal(t.dtype, 'u16');
    assert.deepEqual(decode('u16', await o.read('u')), [1002, 1004, 1003, 1005]);
  });

  it('a small strided view of a huge storage is gathered block by block, reading only its elements', async () => {
    const rows = 4;
    const rowFloats = 8_000_000; // a [4, 8M] f32 storage of 128 MB; the view is its column 3
    const pkl = stateDictPickle([['col', { key: '0', shape: [rows], stride: [rowFloats], offset: 3, numel: rows * rowFloats }]]);
    const members = [{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/version', data: enc('3\n') }, { name: 'archive/data/0', size: rows * rowFloats * 4 }];
    const src = new SparseSource(sparseZipSize(members), 'huge.pt');
    const at = sparseZip(src, members);
    for (let r = 0; r < rows; r++) src.write(at.get('archive/data/0')! + (r * rowFloats + 3) * 4, f32([r + 0.5]));
    const o = await openFiles({ 'huge.pt': src }, 'huge.pt');
    const before = src.bytesRead;
    assert.deepEqual(decode('f32', await o.read('col')), [0.5, 1.5, 2.5, 3.5]);
    assert.ok(src.bytesRead - before < 1024 * 1024, `read ${src.bytesRead - before} bytes`);
  });
});

describe('pytorch readTensor: hostile and damaged inputs', () => {
  const spec: TensorSpec = { key: '0', shape: [2, 2] };

  it('a pickle that also calls os.system: its tensors read, anything else refused naming the import', async () => {
    const b = pickle().proto(2);
    orderedDict(b, (x) => {
      tensor(x.str('w'), spec);
      x.str('evil').global('os', 'system').mark().str('echo pwned').tuple().reduce();
      // a "tensor" whose storage comes out of a call: torch.load would run it; never listed or read here
      x.str('sneaky').global('torch._utils', '_rebuild_tensor_v2').mark().global('os', 'system').mark().str('id').tuple().reduce();
      x.int(0).mark().int(2).int(2).tuple().mark().int(2).int(1).tuple().raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
    });
    const o = await openZip(torchZip(b.stop().build_(), { 0: f32([1, 2, 3, 4]) }));
    assert.deepEqual(o.ins.tensors.map((t) => t.name), ['w']);
    assert.ok(o.ins.diagnostics?.some((d) => d.code === 'UNSAFE_PICKLE' && /os\.system/.test(d.message)));
    assert.deepEqual(decode('f32', await o.read('w')), [1, 2, 3, 4]);
    for (const name of ['evil', 'sneaky']) {
      const forged = { ...o.info('w'), name };
      await assert.rejects(o.m.impl.readTensor!(o.m.input, forged), rejectsWith('UNSUPPORTED', /not rebuilt by torch's tensor-rebuilding globals.*os\.system/));
    }
  });

  it('a view past the end of its storage, and absurd strides, are refused before reading', async () => {
    const pkl = stateDictPickle([
      ['past', { key: '0', shape: [2, 2], offset: 2, numel: 4 }],
      ['wide', { key: '0', shape: [2, 2], stride: [2 ** 40, 1], numel: 4 }],
      ['huge', { key: '0', shape: [2 ** 26, 2 ** 26, 2 ** 26], numel: 4 }],
    ]);
    const o = await openZip(torchZip(pkl, { 0: f32([1, 2, 3, 4]) }));
    await assert.rejects(o.read('past'), rejectsWith('MALFORMED', /needs bytes up to 24 of its storage, which holds 16/));
    await assert.rejects(o.read('wide'), rejectsWith('MALFORMED'));
    await assert.rejects(o.read('huge'), (e) => isModelwiseError(e) && (e.code === 'LIMIT_EXCEEDED' || e.code === 'MALFORMED'));
  });

  it('a TensorInfo that disagrees with the pickle, or names a missing storage record, is refused', async () => {
    const pkl = stateDictPickle([['w', spec], ['gone', { key: '9', shape: [1] }]]);
    const o = await openZip(torchZip(pkl, { 0: f32([1, 2, 3, 4]) }));
    await assert.rejects(o.m.impl.readTensor!(o.m.input, { ...o.info('w'), dtype: 'f16' }), rejectsWith('MALFORMED', /f32 \[2, 2\] in the pickle/));
    await assert.rejects(o.m.impl.readTensor!(o.m.input, { ...o.info('w'), shape: [4] }), rejectsWith('MALFORMED'));
    await assert.rejects(o.read('gone'), rejectsWith('MALFORMED', /data\/9 is not in the archive/));
  });

  it('a truncated legacy storage is refused with the file and extent', async () => {
    const sys = pickle().proto(2).emptyDict().mark().str('little_endian').raw(0x88).setitems().stop().build_();
    const obj = stateDictPickle([['w', { key: '1', shape: [4] }]]);
    const keys = pickle().proto(2).emptyList().mark().str('1').raw(0x65).stop().build_();
    const o = await openFiles({ 'cut.pth': concat(MAGIC_P2, VERSION_P2, sys, obj, keys, u64(4), f32([1, 2])) }, 'cut.pth');
    assert.ok(o.ins.diagnostics?.some((d) => d.code === 'TENSOR_OUT_OF_BOUNDS'));
    await assert.rejects(o.read('w'), rejectsWith('MALFORMED', /needs bytes up to 16/));
  });
});
