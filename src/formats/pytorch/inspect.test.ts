import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectSource } from '../../inspect/inspect.js';
import { BytesSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { MAGIC_P2, VERSION_P2, concat, enc, tar } from './testkit.test.js';
import { num, orderedDict, parameter, persid, pickle, sparseZip, sparseZipSize, stateDictPickle, tensor, type TensorSpec } from './inspect-kit.test.js';
import type { ModelReport } from '../../types.js';

/** A torch.save zip: data.pkl + data/<key> storages (+ version, byteorder) under `top/`. */
function torchZip(pkl: Uint8Array, storages: Record<string, number | Uint8Array>, top = 'archive', extra: Record<string, string> = {}) {
  const members = [{ name: `${top}/data.pkl`, data: pkl }];
  for (const [k, v] of Object.entries(storages)) members.push({ name: `${top}/data/${k}`, data: typeof v === 'number' ? new Uint8Array(v) : v });
  members.push({ name: `${top}/version`, data: enc('3\n') }, { name: `${top}/byteorder`, data: enc('little') });
  for (const [k, v] of Object.entries(extra)) members.push({ name: `${top}/${k}`, data: enc(v) });
  return buildZip(members);
}

const run = (bytes: Uint8Array, name = 'model.pt') => inspectSource(new BytesSource(bytes, name), { path: name });
const names = (r: ModelReport) => r.tensors.items.map((t) => t.name);
const byName = (r: ModelReport, n: string) => r.tensors.items.find((t) => t.name === n)!;
const codes = (r: ModelReport) => r.diagnostics.map((d) => d.code);

describe('pytorch inspect: zip state_dict', () => {
  it('names, dtypes, shapes, byte lengths and absolute offsets of the storages', async () => {
    const pkl = stateDictPickle([
      ['w', { key: '0', shape: [4, 3] }],
      ['b', { key: '1', storage: 'HalfStorage', shape: [4] }],
      ['steps', { key: '2', storage: 'LongStorage', shape: [] }],
      ['view', { key: '0', shape: [3], offset: 6 }],
    ]);
    const z = torchZip(pkl, { 0: 48, 1: 8, 2: 8 });
    const r = await run(z.bytes);
    assert.equal(r.format.variant, 'zip');
    assert.deepEqual(names(r), ['w', 'b', 'steps', 'view']);
    assert.deepEqual(r.tensors.items.map((t) => [t.dtype, t.shape, t.byteLength]), [['f32', [4, 3], 48], ['f16', [4], 8], ['i64', [], 8], ['f32', [3], 12]]);
    const at = (k: string) => z.members.find((m) => m.name === `archive/data/${k}`)!.dataOffset;
    assert.equal(byName(r, 'w').offset, at('0'));
    assert.equal(byName(r, 'b').offset, at('1'));
    assert.equal(byName(r, 'view').offset, at('0') + 6 * 4);
    assert.equal(byName(r, 'w').storage, '0');
    assert.equal(r.parameters.total, 12 + 4 + 1 + 3);
    assert.equal(r.details?.byteorder, 'little');
    assert.equal(r.details?.versionRecord, 3);
    assert.equal(r.details?.root, 'collections.OrderedDict');
    assert.equal(byName(r, 'view').tiedWith, undefined, 'a view at another offset is not a tie');
    assert.equal(r.details?.sharedStorages, 1);
    assert.deepEqual(r.diagnostics, []);
  });

  it('nested checkpoint dicts give dotted names; other entries are summarised', async () => {
    const b = pickle().proto(2).emptyDict().mark();
    b.str('epoch').int(12);
    b.str('model');
    orderedDict(b, (x) => tensor(x.str('fc.weight'), { key: '0', shape: [2, 2] }));
    b.str('opt').emptyDict().mark().str('state').emptyDict().mark().int(0).emptyDict().mark().str('momentum_buffer');
    tensor(b, { key: '1', shape: [2, 2] }).setitems().setitems();
    b.str('param_groups').emptyList().mark().emptyDict().mark().str('lr').raw(0x47, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a).str('params').mark().int(0).int(1).raw(0x6c).setitems().raw(0x65).setitems();
    b.str('pair').mark();
    tensor(b, { key: '2', shape: [1] });
    b.str('not a tensor').tuple();
    b.str('dtype').global('torch', 'qint8');
    const r = await run(torchZip(b.setitems().stop().build_(), { 0: 16, 1: 16, 2: 4 }).bytes);
    assert.deepEqual(names(r), ['model.fc.weight', 'opt.state.0.momentum_buffer', 'pair.0']);
    const entries = r.details?.entries as Record<string, string>;
    assert.equal(entries.epoch, 'int 12');
    assert.equal(entries['opt.param_groups.0.lr'], 'float 0.1');
    assert.match(entries['opt.param_groups.0.params']!, /^list of 2 int/);
    assert.equal(entries['pair.1'], 'str "not a tensor"');
    assert.equal(entries.dtype, 'torch.dtype qint8');
  });

  it('an nn.Module object contributes state_dict(): parameters, persistent buffers, submodules', async () => {
    const b = pickle().proto(2);
    const module = (cls: string, body: (x: typeof b) => void) => {
      b.global('__main__', cls).emptyTuple().newobj().emptyDict().mark();
      body(b);
      b.setitems().build();
    };
    module('Net', (x) => {
      x.str('training').raw(0x89);
      x.str('_parameters');
      orderedDict(x, () => undefined);
      x.str('_buffers');
      orderedDict(x, () => undefined);
      x.str('_modules');
      orderedDict(x, (m) => {
        m.str('lin');
        module('Lin', (y) => {
          y.str('_parameters');
          orderedDict(y, (p) => {
            parameter(p.str('weight'), { key: '0', shape: [2, 3] });
            p.str('bias').none();
          });
          y.str('_buffers');
          orderedDict(y, (p) => {
            tensor(p.str('running'), { key: '1', shape: [2] });
            tensor(p.str('scratch'), { key: '2', shape: [2] });
          });
          y.str('_non_persistent_buffers_set').global('__builtin__', 'set').emptyList().mark().str('scratch').raw(0x65).tuple1().reduce();
          y.str('_modules');
          orderedDict(y, () => undefined);
        });
        m.str('act').none();
      });
    });
    const r = await run(torchZip(b.stop().build_(), { 0: 24, 1: 8, 2: 8 }).bytes);
    assert.deepEqual(names(r), ['lin.weight', 'lin.running']);
    assert.equal(r.architecture, 'Net');
    assert.deepEqual(r.details?.moduleClasses, ['__main__.Net', '__main__.Lin']);
    assert.ok(codes(r).includes('UNSAFE_PICKLE'), 'importing __main__ classes is reported');
  });

  it('tied weights: one tensor under two names → tiedWith on both and details.tiedWeights', async () => {
    const b = pickle().proto(2);
    orderedDict(b, (x) => {
      tensor(x.str('embed.weight'), { key: '0', shape: [10, 4] }).binput(9);
      x.str('lm_head.weight').binget(9);
    });
    const r = await run(torchZip(b.stop().build_(), { 0: 160 }).bytes);
    assert.deepEqual(byName(r, 'embed.weight').tiedWith, ['lm_head.weight']);
    assert.deepEqual(byName(r, 'lm_head.weight').tiedWith, ['embed.weight']);
    assert.deepEqual(r.details?.tiedWeights, [['embed.weight', 'lm_head.weight']]);
    assert.equal(byName(r, 'embed.weight').offset, byName(r, 'lm_head.weight').offset);
  });

  it('quantized tensors: per-tensor and per-channel parameters', async () => {
    const b = pickle().proto(2);
    const qt = (spec: TensorSpec, qp: (x: typeof b) => void) => {
      b.global('torch._utils', '_rebuild_qtensor').mark();
      persid(b, spec);
      b.int(0).mark().int(spec.shape[0]!).int(spec.shape[1]!).tuple().mark().int(spec.shape[1]!).int(1).tuple();
      b.mark();
      qp(b);
      b.tuple().raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
    };
    orderedDict(b, (x) => {
      x.str('a');
      qt({ key: '0', storage: 'QInt8Storage', shape: [4, 2] }, (y) => y.global('torch', 'per_tensor_affine').raw(0x47, 0x3f, 0x50, 0x62, 0x4d, 0xd2, 0xf1, 0xa9, 0xfc).int(3));
      x.str('c');
      qt({ key: '1', storage: 'QUInt8Storage', shape: [4, 2] }, (y) => {
        y.global('torch', 'per_channel_affine');
        tensor(y, { key: '2', storage: 'DoubleStorage', shape: [4] });
        tensor(y, { key: '3', storage: 'LongStorage', shape: [4] });
        y.int(0);
      });
    });
    const r = await run(torchZip(b.stop().build_(), { 0: 8, 1: 8, 2: 32, 3: 32 }).bytes);
    assert.deepEqual(names(r), ['a', 'c'], 'scales and zero points are part of the quantized tensor');
    assert.equal(byName(r, 'a').dtype, 'qint8');
    assert.deepEqual(byName(r, 'a').quantization, { scheme: 'per_tensor_affine', bits: 8, scale: 0.001, zeroPoint: 3 });
    assert.equal(byName(r, 'c').dtype, 'quint8');
    assert.equal(byName(r, 'c').quantization?.axis, 0);
    assert.deepEqual(byName(r, 'c').quantization?.scales, { dtype: 'f64', shape: [4], storage: '2' });
    assert.match(r.quantization!.summary, /1 qint8 per_tensor_affine, 1 quint8 per_channel_affine/);
  });

  it('torch ≥ 2: _rebuild_tensor_v3 on an UntypedStorage takes its dtype argument; _rebuild_from_type_v2 unwraps', async () => {
    const b = pickle().proto(2);
    orderedDict(b, (x) => {
      x.str('u16').global('torch._utils', '_rebuild_tensor_v3').mark();
      persid(x, { key: '0', storage: 'UntypedStorage', shape: [6], numel: 12 });
      x.int(0).mark().int(2).int(3).tuple().mark().int(3).int(1).tuple().raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().global('torch', 'uint16').tuple().reduce();
      x.str('p').global('torch._tensor', '_rebuild_from_type_v2').mark().global('torch._utils', '_rebuild_tensor_v2').global('torch.nn.parameter', 'Parameter').mark();
      persid(x, { key: '1', storage: 'BFloat16Storage', shape: [5] });
      x.int(0).mark().int(5).tuple().mark().int(1).tuple().raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().emptyDict().tuple().reduce();
    });
    const r = await run(torchZip(b.stop().build_(), { 0: 12, 1: 10 }, 'archive', { '.format_version': '1', '.storage_alignment': '64' }).bytes);
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape, t.byteLength]), [['u16', 'u16', [2, 3], 12], ['p', 'bf16', [5], 10]]);
    assert.equal(r.details?.formatVersion, 1);
    assert.equal(r.details?.storageAlignment, 64);
  });
});

describe('pytorch inspect: legacy layouts', () => {
  it('legacy pickle: five pickles, then size-prefixed storages in key order', async () => {
    const sys = pickle().proto(2).emptyDict().mark().str('protocol_version').raw(0x4d, 0xe9, 0x03).str('little_endian').raw(0x88).str('type_sizes').emptyDict().mark().str('int').int(4).setitems().setitems().stop().build_();
    const obj = (() => {
      const b = pickle().proto(2);
      orderedDict(b, (x) => {
        x.str('w').global('torch._utils', '_rebuild_tensor_v2').mark().mark().str('storage').global('torch', 'FloatStorage').str('140').str('cpu').int(6).none().tuple().binpersid();
        x.int(0).mark().int(2).int(3).tuple().mark().int(3).int(1).tuple().raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
        x.str('n').global('torch._utils', '_rebuild_tensor_v2').mark().mark().str('storage').global('torch', 'LongStorage').str('77').str('cpu').int(1).none().tuple().binpersid();
        x.int(0).emptyTuple().emptyTuple().raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
      });
      return b.stop().build_();
    })();
    const keys = pickle().proto(2).emptyList().mark().str('140').str('77').raw(0x65).stop().build_();
    const head = concat(MAGIC_P2, VERSION_P2, sys, obj, keys);
    const u64 = (n: number) => { const x = new Uint8Array(8); new DataView(x.buffer).setBigUint64(0, BigInt(n), true); return x; };
    const file = concat(head, u64(6), new Uint8Array(24), u64(1), new Uint8Array(8));
    const r = await run(file, 'old.pth');
    assert.equal(r.format.variant, 'legacy-pickle');
    assert.equal(r.format.version, '1001');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape, t.offset, t.byteLength]), [['w', 'f32', [2, 3], head.length + 8, 24], ['n', 'i64', [], head.length + 8 + 24 + 8, 8]]);
    assert.equal((r.details?.sysInfo as Record<string, unknown>).little_endian, true);
    assert.deepEqual(r.diagnostics, []);
    // a count past the end of the file is a diagnostic, not a crash
    const lying = concat(head, u64(6), new Uint8Array(24), u64(1e12));
    const r2 = await run(lying, 'old.pth');
    assert.equal(r2.tensors.count, 2);
    assert.ok(codes(r2).includes('TENSOR_OUT_OF_BOUNDS'));
    // a first pickle that computes the magic (picklescan's bypass): read on, and say what it imports
    const evalMagic = pickle().proto(2).global('builtins', 'eval').mark().str('0x1950a86a20f9469cfc6c').tuple().reduce().stop().build_();
    const disguised = concat(evalMagic, head.subarray(MAGIC_P2.length), u64(6), new Uint8Array(24), u64(1), new Uint8Array(8));
    const r3 = await run(disguised, 'old.pth');
    assert.equal(r3.format.id, 'pytorch');
    assert.deepEqual(names(r3), ['w', 'n']);
    assert.equal(r3.details?.literalMagic, false);
    assert.match(r3.diagnostics.find((d) => d.code === 'UNSAFE_PICKLE')!.message, /builtins\.eval/);
  });

  it('legacy tar: storages, tensors and the pickle of tensor keys', async () => {
    const u64 = (n: number) => { const x = new Uint8Array(8); new DataView(x.buffer).setBigUint64(0, BigInt(n), true); return x; };
    const i64s = (...ns: number[]) => concat(...ns.map(u64));
    const count = pickle().proto(2).int(1).stop().build_();
    const record = pickle().proto(2).mark().str('s1').str('cpu').global('torch', 'FloatStorage').tuple().stop().build_();
    const storages = concat(
      count,
      record,
      u64(6), new Uint8Array(24),
      pickle().proto(2).emptyList().stop().build_(),
    );
    const tensors = concat(
      pickle().proto(2).int(1).stop().build_(),
      pickle().proto(2).mark().int(7).str('s1').global('torch', 'FloatTensor').tuple().stop().build_(),
      Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0]), i64s(2, 3, 3, 1, 0),
    );
    const obj = pickle().proto(2).emptyDict().mark().str('weight').int(7).binpersid().setitems().stop().build_();
    const sys = pickle().proto(2).emptyDict().mark().str('protocol_version').raw(0x4d, 0xe9, 0x03).str('little_endian').raw(0x88).setitems().stop().build_();
    const file = tar([['sys_info', sys], ['pickle', obj], ['tensors', tensors], ['storages', storages]]);
    const r = await run(file, 'ancient.pt');
    assert.equal(r.format.variant, 'legacy-tar');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape, t.byteLength]), [['weight', 'f32', [2, 3], 24]]);
    // sys_info, pickle and tensors take a header and one data block each; then the storages header
    assert.equal(r.tensors.items[0]!.offset, 3 * 1024 + 512 + count.length + record.length + 8);
    assert.equal(r.details?.protocolVersion, 1001);
  });
});

describe('pytorch inspect: sharded checkpoints as one model', () => {
  const shard = (entries: [string, TensorSpec][]) => torchZip(stateDictPickle(entries), Object.fromEntries(entries.map(([, t]) => [t.key, 4 * t.shape.reduce((a, b) => a * b, 1)]))).bytes;
  const s1 = shard([['a.weight', { key: '0', shape: [2, 2] }]]);
  const s2 = shard([['b.weight', { key: '0', shape: [3] }], ['b.bias', { key: '1', shape: [1] }]]);

  it('an index and its shards: every tensor, with its shard file', async () => {
    const index = enc(JSON.stringify({ metadata: { total_size: 32 }, weight_map: { 'a.weight': 'pytorch_model-00001-of-00002.bin', 'b.weight': 'pytorch_model-00002-of-00002.bin', 'b.bias': 'pytorch_model-00002-of-00002.bin' } }));
    const files = { 'pytorch_model.bin.index.json': index, 'pytorch_model-00001-of-00002.bin': s1, 'pytorch_model-00002-of-00002.bin': s2 };
    const tree = new MemoryTree('m', Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new BytesSource(v, k)])));
    const r = await inspectSource(new BytesSource(index, 'pytorch_model.bin.index.json'), { path: 'pytorch_model.bin.index.json', tree, treePath: 'pytorch_model.bin.index.json' });
    assert.equal(r.format.variant, 'sharded-index');
    assert.deepEqual(names(r), ['a.weight', 'b.weight', 'b.bias']);
    assert.deepEqual(r.tensors.items.map((t) => t.file), ['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin', 'pytorch_model-00002-of-00002.bin']);
    assert.equal(r.parameters.total, 8);
    assert.deepEqual(r.diagnostics, []);
    // a missing shard and an index entry no shard holds
    const tree2 = new MemoryTree('m', { 'pytorch_model.bin.index.json': new BytesSource(index, 'i'), 'pytorch_model-00001-of-00002.bin': new BytesSource(s1, 's1') });
    const r2 = await inspectSource(new BytesSource(index, 'pytorch_model.bin.index.json'), { path: 'pytorch_model.bin.index.json', tree: tree2, treePath: 'pytorch_model.bin.index.json' });
    assert.deepEqual(names(r2), ['a.weight']);
    assert.ok(codes(r2).includes('SHARD_MISSING'));
    assert.ok(codes(r2).includes('TENSOR_MISSING'));
  });

  it('the first shard of a set reads its siblings', async () => {
    const tree = new MemoryTree('m', { 'model-00001-of-00002.bin': new BytesSource(s1, 'a'), 'model-00002-of-00002.bin': new BytesSource(s2, 'b') });
    const r = await inspectSource(new BytesSource(s1, 'model-00001-of-00002.bin'), { path: 'model-00001-of-00002.bin', tree, treePath: 'model-00001-of-00002.bin' });
    assert.deepEqual(names(r), ['a.weight', 'b.weight', 'b.bias']);
    assert.equal(r.tensors.items[0]!.file, undefined);
    assert.equal(r.tensors.items[1]!.file, 'model-00002-of-00002.bin');
  });
});

describe('pytorch inspect: large and hostile inputs', () => {
  it('a 12 GB zip checkpoint is inspected reading a few KiB (storage payloads never read)', async () => {
    const GB = 1024 ** 3;
    const pkl = stateDictPickle([
      ['embed.weight', { key: '0', storage: 'BFloat16Storage', shape: [131072, 24576] }],
      ['lm_head.weight', { key: '1', storage: 'BFloat16Storage', shape: [131072, 24576] }],
      ['norm.weight', { key: '2', shape: [24576] }],
    ]);
    const members = [
      { name: 'big/data.pkl', data: pkl },
      { name: 'big/data/0', size: 6 * GB },
      { name: 'big/data/1', size: 6 * GB },
      { name: 'big/data/2', size: 24576 * 4 },
      { name: 'big/version', data: enc('3\n') },
    ];
    const src = new SparseSource(sparseZipSize(members), 'big.pt');
    const at = sparseZip(src, members);
    const r = await inspectSource(src, { path: 'big.pt' });
    assert.equal(r.tensors.count, 3);
    assert.equal(byName(r, 'lm_head.weight').offset, at.get('big/data/1'));
    assert.equal(byName(r, 'lm_head.weight').byteLength, 6 * GB);
    assert.equal(r.parameters.total, 2 * 131072 * 24576 + 24576);
    assert.ok(src.bytesRead < 1024 * 1024, `read ${src.bytesRead} bytes`);
  });

  it('a pickle that imports os.system: tensors still reported, UNSAFE_PICKLE names the global', async () => {
    const b = pickle().proto(2);
    orderedDict(b, (x) => {
      tensor(x.str('w'), { key: '0', shape: [2] });
      x.str('payload').global('os', 'system').mark().str('echo pwned').tuple().reduce();
    });
    const r = await run(torchZip(b.stop().build_(), { 0: 8 }).bytes);
    assert.deepEqual(names(r), ['w']);
    const d = r.diagnostics.find((x) => x.code === 'UNSAFE_PICKLE');
    assert.match(d!.message, /os\.system/);
    assert.match(d!.message, /dangerous/);
    assert.equal((r.details?.entries as Record<string, string>).payload, 'object os.system');
  });

  it('lying sizes, missing storages, truncated and cyclic pickles give diagnostics, not crashes', async () => {
    const pkl = stateDictPickle([['big', { key: '0', shape: [1000] }], ['gone', { key: '9', shape: [2] }]]);
    const r = await run(torchZip(pkl, { 0: 16 }).bytes);
    assert.deepEqual(names(r), ['big', 'gone']);
    assert.ok(codes(r).includes('TENSOR_OUT_OF_BOUNDS'));
    assert.ok(codes(r).includes('STORAGE_MISSING'));
    assert.equal(byName(r, 'gone').offset, null);

    const cut = await run(torchZip(pkl.subarray(0, pkl.length - 20), { 0: 16 }).bytes);
    assert.equal(cut.tensors.count, 0);
    assert.ok(codes(cut).includes('MALFORMED_PICKLE'));

    const cyc = pickle().proto(2).emptyList().binput(0).binget(0).append().emptyDict().mark().str('self').binget(0).setitems().append().stop().build_();
    const rc = await run(torchZip(cyc, {}).bytes);
    assert.equal(rc.tensors.count, 0);

    const deep = pickle().proto(2);
    for (let i = 0; i < 5000; i++) deep.emptyList();
    for (let i = 0; i < 4999; i++) deep.append();
    const rd = await run(torchZip(deep.stop().build_(), {}).bytes);
    assert.ok(codes(rd).includes('LIMIT_EXCEEDED'));

    // huge and negative dims, a non-storage persistent id
    const bad = pickle().proto(2);
    orderedDict(bad, (x) => {
      x.str('neg').global('torch._utils', '_rebuild_tensor_v2').mark();
      persid(x, { key: '0', shape: [2] });
      x.int(0).mark().int(-5).tuple().mark().int(1).tuple().raw(0x89).none().tuple().reduce();
      x.str('huge');
      tensor(x, { key: '0', shape: [2 ** 40, 2 ** 40] });
      x.str('odd').global('torch._utils', '_rebuild_tensor_v2').mark().str('x').binpersid();
      num(x, 0).emptyTuple().emptyTuple().raw(0x89).none().tuple().reduce();
    });
    const rb = await run(torchZip(bad.stop().build_(), { 0: 8 }).bytes);
    assert.deepEqual(names(rb), ['huge']);
    assert.ok(codes(rb).includes('TENSOR_UNREADABLE'));
    assert.ok(codes(rb).includes('TENSOR_OUT_OF_BOUNDS'));
  });

  it('a file that is no checkpoint at all is a ModelwiseError, not a crash', async () => {
    const z = buildZip([{ name: 'archive/data.pkl', data: enc('not a pickle') }, { name: 'archive/version', data: enc('3\n') }]);
    const r = await run(z.bytes).catch((e: Error & { code?: string }) => e);
    if (r instanceof Error) assert.ok(r.code);
    else assert.ok(codes(r).includes('MALFORMED_PICKLE'));
  });
});
