import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { pytorch } from './index.js';
import { torchscript } from '../torchscript/index.js';
import { findProtocolVersionPickle, peekLeadingInt, peekLegacyTorch, pickleStart, readIntOpcode } from './pickle-peek.js';
import { parseTarHeader } from './legacy.js';
import { MAGIC_P2, PICKLE2, VERSION_P2, concat, enc, latin1, probeInFolder, probeOf, saveRecords, tar, tarHeader, torchZip } from './testkit.test.js';
import { identify } from '../../identify/identify.js';
import { BytesSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { expectedModels } from '../../../test/helpers/corpus.js';
import { identifyPath } from '../../node/index.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/pytorch');
const fixture = (n: string) => new Uint8Array(readFileSync(join(FIXTURES, n)));
const detect = (b: Uint8Array, name = 'model.pth') => pytorch.detect!(probeOf(b, name));

/** sys_info as torch writes it (protocol 2), enough for the little_endian peek. */
const SYS_INFO = concat([0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x0d, 0, 0, 0], enc('little_endian'), [0x71, 0x01, 0x88, 0x75, 0x2e]);

describe('pytorch detect: zip (torch.save ≥ 1.6)', () => {
  it('archive/data.pkl + version + storages → zip, version record', async () => {
    const d = await detect(torchZip('archive', saveRecords(6)));
    assert.equal(d?.format.id, 'pytorch');
    assert.equal(d?.format.variant, 'zip');
    assert.equal(d?.format.version, '3');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'zip archive with archive/data.pkl, version record 3, 6 storages');
    assert.equal(d?.details?.storageCount, 6);
    assert.equal(d?.details?.pickleProtocol, 2);
    assert.equal(d?.details?.endianness, 'little');
  });

  it('any top folder name; .data/version when there is no version record', async () => {
    const r = saveRecords(1);
    delete r.version;
    r['.data/version'] = '6\n';
    const d = await detect(torchZip('my_model', r));
    assert.equal(d?.format.variant, 'zip');
    assert.equal(d?.format.version, '6');
    assert.equal(d?.details?.archiveName, 'my_model');
    assert.match(d!.evidence[0]!, /my_model\/data\.pkl, \.data\/version record 6, 1 storage$/);
  });

  it('deflated members (a repacked archive) are read the same', async () => {
    const files: Record<string, [Uint8Array, { level: 6 }]> = {};
    for (const [k, v] of Object.entries(saveRecords(2))) files[`archive/${k}`] = [typeof v === 'string' ? enc(v) : v, { level: 6 }];
    const d = await detect(zipSync(files));
    assert.equal(d?.format.version, '3');
    assert.equal(d?.confidence, 'high');
  });

  it('no version record → medium; data.pkl that is not a pickle → low', async () => {
    const r = saveRecords(1);
    delete r.version;
    assert.equal((await detect(torchZip('archive', r)))?.confidence, 'medium');
    const bad = await detect(torchZip('archive', saveRecords(1, { 'data.pkl': 'hello world' })));
    assert.equal(bad?.confidence, 'low');
    assert.ok(bad?.evidence.includes('data.pkl does not start like a pickle'));
  });

  it('records at the archive root (torch cannot load it) → low', async () => {
    const d = await detect(torchZip('', { 'data.pkl': PICKLE2 }));
    assert.equal(d?.format.variant, 'zip');
    assert.equal(d?.confidence, 'low');
  });

  it('entries outside the top folder lower the confidence', async () => {
    const z = zipSync({ 'archive/data.pkl': [PICKLE2, { level: 0 }], 'archive/version': [enc('3\n'), { level: 0 }], '__MACOSX/._x': [new Uint8Array(4), { level: 0 }] });
    const d = await detect(z);
    assert.equal(d?.confidence, 'medium');
    assert.ok(d?.evidence.some((e) => e.includes('1 entry outside archive/')));
  });

  it('TorchScript archives are left to torchscript', async () => {
    const z = torchZip('m', saveRecords(1, { 'constants.pkl': PICKLE2, 'code/__torch__.py': 'def forward(self):\n  pass\n' }));
    assert.equal(await detect(z), undefined);
    assert.equal((await torchscript.detect!(probeOf(z, 'm.pt')))?.format.id, 'torchscript');
  });

  it('other zips are not claimed: npz, Keras v3, plain archive, pickle named data.txt', async () => {
    const npz = zipSync({ 'a.npy': new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]) });
    const keras = zipSync({ 'config.json': enc('{}'), 'metadata.json': enc('{}'), 'model.weights.h5': new Uint8Array(8) });
    const plain = zipSync({ 'docs/readme.txt': enc('hi') });
    const txt = zipSync({ 'data.txt': PICKLE2 });
    for (const z of [npz, keras, plain, txt]) assert.equal(await detect(z), undefined);
  });

  it('torch.export (.pt2) and torch.package archives', async () => {
    const pt2 = await detect(torchZip('model', { archive_format: 'pt2', archive_version: '0', 'models/model.json': '{}', 'data/weights/w': new Uint8Array(4) }), 'm.pt2');
    assert.equal(pt2?.format.variant, 'pt2');
    assert.equal(pt2?.format.version, '0');
    const pkg = await detect(torchZip('pkg', { '.data/extern_modules': 'torch\n', '.data/version': '6\n', 'model/model.pkl': PICKLE2 }), 'p.pt');
    assert.equal(pkg?.format.variant, 'torch-package');
    assert.equal(pkg?.format.version, '6');
  });

  it('a real torch.save zip with pickle protocol 4 (fixture)', async () => {
    const d = await detect(fixture('zip_protocol4.pth'));
    assert.equal(d?.format.variant, 'zip');
    assert.equal(d?.details?.pickleProtocol, 4);
  });
});

describe('pytorch detect: legacy pickle stream', () => {
  it('protocol 2 magic, protocol_version 1001, sys_info', async () => {
    const d = await detect(concat(MAGIC_P2, VERSION_P2, SYS_INFO, PICKLE2));
    assert.equal(d?.format.variant, 'legacy-pickle');
    assert.equal(d?.format.version, '1001');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'legacy torch.save pickle stream: magic number 0x1950a86a20f9469cfc6c (pickle protocol 2)');
    assert.equal(d?.details?.endianness, 'little');
  });

  it('real protocol 0 and protocol 4 streams (fixtures)', async () => {
    for (const [f, p] of [['legacy_protocol0.pth', 0], ['legacy_protocol4.pth', 4]] as const) {
      const d = await detect(fixture(f));
      assert.equal(d?.format.variant, 'legacy-pickle', f);
      assert.equal(d?.format.version, '1001', f);
      assert.equal(d?.details?.pickleProtocol, p, f);
      assert.equal(d?.details?.endianness, 'little', f);
    }
  });

  it('magic alone (truncated stream) still identifies, without a version', async () => {
    const d = await detect(MAGIC_P2.subarray(0, 14));
    assert.equal(d?.format.variant, 'legacy-pickle');
    assert.equal(d?.format.version, null);
  });

  it('a computed magic followed by protocol_version 1001 → low-confidence legacy-pickle', async () => {
    const first = concat([0x80, 0x02, 0x63], enc('builtins\neval\n'), [0x58, 4, 0, 0, 0], enc('0x19'), [0x85, 0x52, 0x2e]);
    const d = await detect(concat(first, VERSION_P2, PICKLE2));
    assert.equal(d?.format.variant, 'legacy-pickle');
    assert.equal(d?.confidence, 'low');
    assert.equal(d?.details?.literalMagic, false);
  });

  it('plain pickles (scikit-learn, numbers, a wrong magic) are not pytorch', async () => {
    const sklearn = concat([0x80, 0x04, 0x95, 0x20, 0, 0, 0, 0, 0, 0, 0, 0x8c, 0x1b], enc('sklearn.linear_model._base'), [0x94, 0x2e]);
    const wrongMagic = MAGIC_P2.slice();
    wrongMagic[13] = 0x18;
    for (const b of [sklearn, PICKLE2, wrongMagic, latin1('L12345L\n.')]) assert.equal(await detect(b, 'model.pkl'), undefined);
  });
});

describe('pytorch detect: legacy tar (torch ≤ 0.1)', () => {
  const sysInfo = concat([0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x10, 0, 0, 0], enc('protocol_version'), [0x71, 0x01, 0x4d, 0xe8, 0x03, 0x75, 0x2e]);
  it('members sys_info, pickle, tensors, storages', async () => {
    const d = await detect(tar([['sys_info', sysInfo], ['pickle', PICKLE2], ['tensors', PICKLE2], ['storages', concat(PICKLE2, new Uint8Array(700))]]), 'old.pth');
    assert.equal(d?.format.variant, 'legacy-tar');
    assert.equal(d?.format.version, '1000');
    assert.equal(d?.confidence, 'high');
    assert.match(d!.evidence[0]!, /"sys_info", "pickle", "tensors", "storages"/);
  });

  it('PAX extension headers are skipped', async () => {
    const pax = enc('30 path=sys_info\n');
    const b = concat(tarHeader('PaxHeaders/sys_info', pax.length, 'x'), pax, new Uint8Array(512 - pax.length), tar([['sys_info', sysInfo], ['pickle', PICKLE2]]));
    assert.equal((await detect(b))?.format.variant, 'legacy-tar');
  });

  it('other tars, bad checksums and headers running past the end are not claimed', async () => {
    assert.equal(await detect(tar([['readme.txt', enc('hi')], ['pickle', PICKLE2]])), undefined);
    const bad = tar([['sys_info', sysInfo]]);
    bad[0] = 0x53; // 'S': checksum no longer matches
    assert.equal(await detect(bad), undefined);
    const h = tarHeader('pickle', 1 << 30);
    assert.equal(await detect(concat(h, new Uint8Array(512))), undefined);
    assert.equal(parseTarHeader(new Uint8Array(512)), undefined);
  });
});

describe('pytorch detect: sharded checkpoints', () => {
  const index = (map: Record<string, string>, total = 1234) => enc(JSON.stringify({ metadata: { total_size: total }, weight_map: map }));
  const shard = torchZip('archive', saveRecords(1));
  const MAP = { 'a.weight': 'pytorch_model-00001-of-00002.bin', 'b.weight': 'pytorch_model-00002-of-00002.bin', 'c.weight': 'pytorch_model-00002-of-00002.bin' };

  it('the index lists itself then its shards', async () => {
    const files = { 'pytorch_model.bin.index.json': index(MAP), 'pytorch_model-00001-of-00002.bin': shard, 'pytorch_model-00002-of-00002.bin': shard };
    const d = await pytorch.detect!(probeInFolder(files, 'pytorch_model.bin.index.json'));
    assert.equal(d?.format.variant, 'sharded-index');
    assert.equal(d?.confidence, 'high');
    assert.deepEqual(d?.files?.map((f) => [f.path, f.role]), [
      ['pytorch_model.bin.index.json', 'index'],
      ['pytorch_model-00001-of-00002.bin', 'shard'],
      ['pytorch_model-00002-of-00002.bin', 'shard'],
    ]);
    assert.equal(d?.details?.tensorCount, 3);
    assert.equal(d?.details?.shardCount, 2);
    assert.equal(d?.details?.totalSize, 1234);
  });

  it('without a folder (bytes, HTTP) the index is identified by content alone', async () => {
    const d = await detect(index(MAP), 'pytorch_model.bin.index.json');
    assert.equal(d?.format.variant, 'sharded-index');
    assert.equal(d?.files, undefined);
  });

  it('missing shards and paths escaping the folder are reported', async () => {
    const d = await pytorch.detect!(probeInFolder({ 'i.json': index({ a: 'x-00001-of-00002.bin', b: '../../etc/passwd.bin' }) }, 'i.json'));
    assert.ok(d?.evidence.some((e) => e.startsWith('1 shard missing')));
    assert.ok(d?.evidence.some((e) => e.includes('escaping the folder')));
    assert.deepEqual(d?.files?.map((f) => f.path), ['i.json']);
  });

  it('a safetensors index or a config.json is not claimed', async () => {
    assert.equal(await detect(index({ a: 'model-00001-of-00002.safetensors' }), 'model.safetensors.index.json'), undefined);
    assert.equal(await detect(enc('{"architectures": ["GPT2"], "model_type": "gpt2"}'), 'config.json'), undefined);
    assert.equal(await detect(enc('{"weight_map": {}}'), 'x.json'), undefined);
  });

  it('a shard lists its siblings (entry first)', async () => {
    const files = { 'pytorch_model-00001-of-00002.bin': shard, 'pytorch_model-00002-of-00002.bin': shard };
    const d = await pytorch.detect!(probeInFolder(files, 'pytorch_model-00002-of-00002.bin'));
    assert.equal(d?.format.variant, 'zip');
    assert.deepEqual(d?.files?.map((f) => [f.path, f.role]), [
      ['pytorch_model-00001-of-00002.bin', 'entry'],
      ['pytorch_model-00002-of-00002.bin', 'shard'],
    ]);
  });

  it('a folder with index and shards is one model', async () => {
    const tree = new MemoryTree('ckpt', {
      'pytorch_model.bin.index.json': new BytesSource(index(MAP), 'pytorch_model.bin.index.json'),
      'pytorch_model-00001-of-00002.bin': new BytesSource(shard, 'a'),
      'pytorch_model-00002-of-00002.bin': new BytesSource(shard, 'b'),
    });
    const r = await identify(tree, { name: 'ckpt' });
    assert.equal(r.format?.id, 'pytorch');
    assert.equal(r.format?.variant, 'sharded-index');
    assert.equal(r.files?.length, 3);
  });
});

describe('pytorch detect: hostile and odd inputs never throw', () => {
  it('empty, tiny, random, truncated zips', async () => {
    const rnd = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
    const z = torchZip('archive', saveRecords(2));
    const inputs = [new Uint8Array(0), new Uint8Array([0x80]), new Uint8Array([0x80, 0x02]), rnd, z.subarray(0, z.length - 30), z.subarray(30), tarHeader('sys_info', 10)];
    for (const b of inputs) assert.equal(await detect(b), undefined);
  });

  it('pickle peeks are bounded', () => {
    assert.equal(pickleStart(new Uint8Array([0x80, 0x09])), undefined);
    assert.equal(pickleStart(new Uint8Array([0x80, 0x04, 0x95, 1])), undefined);
    assert.deepEqual(pickleStart(new Uint8Array([0x80, 0x04, 0x95, 1, 0, 0, 0, 0, 0, 0, 0, 0x4b, 1])), { protocol: 4, body: 11 });
    assert.equal(readIntOpcode(new Uint8Array([0x4a, 1, 2]), 0), undefined);
    assert.deepEqual(readIntOpcode(new Uint8Array([0x4a, 0xff, 0xff, 0xff, 0xff]), 0), { value: -1, end: 5 });
    assert.deepEqual(readIntOpcode(new Uint8Array([0x8a, 2, 0xe9, 0x03]), 0), { value: 1001, end: 4 });
    assert.equal(readIntOpcode(new Uint8Array([0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0), undefined);
    assert.equal(peekLegacyTorch(MAGIC_P2.subarray(0, 10)), undefined);
    assert.equal(peekLeadingInt(new Uint8Array([0x80, 0x02, 0x28, 0x4b, 0x05])), 5);
    assert.equal(findProtocolVersionPickle(PICKLE2), -1);
  });
});

describe('pytorch detect: shared corpus variants', () => {
  for (const m of expectedModels().filter((e) => e.format === 'pytorch' || e.format === 'torchscript')) {
    it(`${m.model} → ${m.format} ${m.variant}`, async () => {
      const r = await identifyPath(m.path);
      assert.equal(r.format?.id, m.format);
      assert.equal(r.format?.variant, m.variant);
      assert.equal(r.confidence, 'high');
      const v = /version record (\d+)/.exec(m.version ?? '')?.[1] ?? /protocol_version (\d+)/.exec(m.version ?? '')?.[1];
      if (v) assert.equal(r.format?.version, v);
      const bc = /bytecode version (\d+)/.exec(m.version ?? '')?.[1];
      if (bc) assert.equal(r.details?.bytecodeVersion, Number(bc));
    });
  }
});
