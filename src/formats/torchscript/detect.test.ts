import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torchscript } from './index.js';
import { pytorch } from '../pytorch/index.js';
import { PICKLE2, concat, enc, probeOf, saveRecords, torchZip } from '../pytorch/testkit.test.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/pytorch');
const detect = (b: Uint8Array, name = 'model.pt') => torchscript.detect!(probeOf(b, name));

/** Records of a torch.jit.save archive with `n` code files. */
function jitRecords(n: number, extra: Record<string, Uint8Array | string> = {}): Record<string, Uint8Array | string> {
  const r = saveRecords(2);
  delete r.byteorder;
  for (let i = 0; i < n; i++) {
    r[`code/__torch__/m${i}.py`] = 'class M(Module):\n  def forward(self, x):\n    return x\n';
    r[`code/__torch__/m${i}.py.debug_pkl`] = PICKLE2;
  }
  r['constants.pkl'] = Uint8Array.from([0x80, 0x02, 0x29, 0x2e]);
  return { ...r, ...extra };
}

/** bytecode.pkl of a lite-interpreter archive: (version, (method …)) pickled by torch's C++ pickler. */
const BYTECODE_V8 = concat([0x80, 0x02, 0x4b, 0x08, 0x58, 0x05, 0, 0, 0], enc('hello'), [0x86, 0x2e]);

describe('torchscript detect: zip archives', () => {
  it('torch.jit.save: code/, constants.pkl, data.pkl → torchscript-zip', async () => {
    const d = await detect(torchZip('scripted', jitRecords(3)));
    assert.equal(d?.format.id, 'torchscript');
    assert.equal(d?.format.variant, 'torchscript-zip');
    assert.equal(d?.format.version, '3');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'TorchScript zip archive: 3 code files (scripted/code/**.py, 3 .debug_pkl), constants.pkl, data.pkl');
    assert.equal(d?.details?.codeFiles, 3);
    assert.equal(d?.details?.constantsPkl, true);
    assert.equal(d?.details?.bytecodePkl, false);
  });

  it('lite interpreter: bytecode.pkl → torchscript-lite with the bytecode version', async () => {
    const d = await detect(torchZip('lite', jitRecords(1, { 'bytecode.pkl': BYTECODE_V8 })), 'model.ptl');
    assert.equal(d?.format.variant, 'torchscript-lite');
    assert.equal(d?.format.version, '3');
    assert.equal(d?.details?.bytecodeVersion, 8);
    assert.match(d!.evidence[0]!, /bytecode\.pkl \(bytecode version 8\)$/);
  });

  it('older bytecode.pkl with a MARK-built tuple, and a lite archive without code', async () => {
    const r = jitRecords(0, { 'bytecode.pkl': Uint8Array.from([0x80, 0x02, 0x28, 0x4b, 0x04, 0x74, 0x2e]) });
    const d = await detect(torchZip('m', r), 'm.ptl');
    assert.equal(d?.format.variant, 'torchscript-lite');
    assert.equal(d?.details?.bytecodeVersion, 4);
  });

  it('torch 1.0–1.2 layout: model.json, code/, tensors/', async () => {
    const d = await detect(torchZip('old', { version: '1\n', 'model.json': '{"protoVersion": "1"}', 'code/old.py': 'op_version_set = 0\n', 'tensors/0': new Uint8Array(8) }));
    assert.equal(d?.format.variant, 'torchscript-zip');
    assert.equal(d?.format.version, '1');
    assert.equal(d?.details?.layout, 'model.json');
    assert.equal(d?.confidence, 'high');
  });

  it('.data/version (version ≥ 6) is read', async () => {
    const r = jitRecords(1);
    delete r.version;
    r['.data/version'] = '10\n';
    assert.equal((await detect(torchZip('m', r)))?.format.version, '10');
  });

  it('a constants.pkl that is not a pickle lowers the confidence', async () => {
    const d = await detect(torchZip('m', jitRecords(1, { 'constants.pkl': 'nope' })));
    assert.equal(d?.confidence, 'low');
  });

  it('torch.save archives and other zips are not TorchScript', async () => {
    const save = torchZip('archive', saveRecords(3));
    assert.equal(await detect(save), undefined);
    assert.equal((await pytorch.detect!(probeOf(save, 'x.pth')))?.format.variant, 'zip');
    assert.equal(await detect(torchZip('', { 'model.json': '{"format": "layers-model"}', 'group1-shard1of1.bin': new Uint8Array(8) })), undefined);
  });
});

describe('torchscript detect: FlatBuffers lite module (PTMF)', () => {
  it('real _save_for_lite_interpreter(_use_flatbuffer=True) output (fixture)', async () => {
    const d = await detect(new Uint8Array(readFileSync(join(FIXTURES, 'lite_flatbuffer.ptl'))), 'lite_flatbuffer.ptl');
    assert.equal(d?.format.variant, 'torchscript-lite');
    assert.equal(d?.details?.container, 'flatbuffer');
    assert.equal(d?.details?.bytecodeVersion, 9);
    assert.equal(d?.format.version, '9');
    assert.equal(d?.confidence, 'high');
  });

  it('built in code: root table with bytecode_version', async () => {
    // [root=16][PTMF][vtable: size 6, obj 8, field0 @4][pad][table: soffset 6 → vtable at 10][u32 7]
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 16, true);
    b.set(enc('PTMF'), 4);
    dv.setUint16(10, 6, true);
    dv.setUint16(12, 8, true);
    dv.setUint16(14, 4, true);
    dv.setInt32(16, 6, true);
    dv.setUint32(20, 7, true);
    const d = await detect(b, 'm.ptl');
    assert.equal(d?.details?.bytecodeVersion, 7);
  });

  it('a root offset past the end is not claimed; a vtable out of range gives no version', async () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setUint32(0, 1 << 30, true);
    b.set(enc('PTMF'), 4);
    assert.equal(await detect(b), undefined);
    const c = new Uint8Array(32);
    const dv = new DataView(c.buffer);
    dv.setUint32(0, 16, true);
    c.set(enc('PTMF'), 4);
    dv.setInt32(16, -4000, true);
    const d = await detect(c);
    assert.equal(d?.confidence, 'medium');
    assert.equal(d?.details?.bytecodeVersion, undefined);
  });
});

describe('torchscript detect: hostile inputs never throw', () => {
  it('empty, tiny, truncated', async () => {
    const z = torchZip('m', jitRecords(2));
    for (const b of [new Uint8Array(0), enc('PTMF'), new Uint8Array(7), z.subarray(0, z.length - 10), z.subarray(100)]) assert.equal(await detect(b), undefined);
  });
});
