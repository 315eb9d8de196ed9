import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { zipSync, strToU8 } from 'fflate';
import { BytesSource } from '../../io/source.js';
import { Probe } from '../../identify/probe.js';
import { numpy, npyDtype, parseNpyHeader } from './index.js';

/** An .npy file as numpy writes it: magic, version, header length, dict padded to 64 with '\n'. */
function npy(dict: string, opts: { major?: number; minor?: number; data?: number } = {}): Uint8Array {
  const major = opts.major ?? 1;
  const lenSize = major === 1 ? 2 : 4;
  let h = dict;
  while ((8 + lenSize + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const hb = new TextEncoder().encode(h);
  const out = new Uint8Array(8 + lenSize + hb.length + (opts.data ?? 16));
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, opts.minor ?? 0]);
  const dv = new DataView(out.buffer);
  if (lenSize === 2) dv.setUint16(8, hb.length, true);
  else dv.setUint32(8, hb.length, true);
  out.set(hb, 8 + lenSize);
  return out;
}

const F32_3x4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
const detect = (b: Uint8Array, name: string) => numpy.detect!(new Probe(new BytesSource(b, name), name));

describe('numpy detect', () => {
  it('npy v1.0', async () => {
    const d = await detect(npy(F32_3x4), 'a.npy');
    assert.equal(d?.format.id, 'numpy');
    assert.equal(d?.format.variant, 'npy');
    assert.equal(d?.format.version, '1.0');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'NPY magic, format version 1.0; dtype <f4 (f32), shape (3, 4), C order');
    assert.equal(d?.details?.dtype, 'f32');
  });

  it('npy v2.0 and v3.0, Fortran order, 1-d and scalar shapes', async () => {
    const v2 = await detect(npy("{'descr': '|u1', 'fortran_order': True, 'shape': (7,), }", { major: 2 }), 'b.npy');
    assert.equal(v2?.format.version, '2.0');
    assert.match(v2!.evidence[0]!, /dtype \|u1 \(u8\), shape \(7,\), Fortran order/);
    const v3 = await detect(npy("{'descr': '<U3', 'fortran_order': False, 'shape': (), }", { major: 3 }), 'c.npy');
    assert.equal(v3?.format.version, '3.0');
    assert.equal(v3?.details?.shape, '()');
  });

  it('structured and object dtypes', async () => {
    const s = await detect(npy("{'descr': [('x', '<i4'), ('y', '<f8')], 'fortran_order': False, 'shape': (3,), }"), 's.npy');
    assert.equal(s?.details?.dtype, 'structured');
    const o = await detect(npy("{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }"), 'o.npy');
    assert.equal(o?.details?.dtype, 'object');
    assert.match(o!.evidence.join(' '), /pickle/);
  });

  it('dtype names', () => {
    assert.equal(npyDtype('<f2'), 'f16');
    assert.equal(npyDtype('<i8'), 'i64');
    assert.equal(npyDtype('|b1'), 'bool');
    assert.equal(npyDtype('>f4'), 'f32 big-endian');
    assert.equal(npyDtype('<c16'), 'complex128');
    assert.equal(npyDtype('<M8[ns]'), 'datetime64[ns]');
  });

  it('unknown version or truncated header: low or medium, never high', async () => {
    const bad = npy(F32_3x4);
    bad[6] = 9;
    assert.equal((await detect(bad, 'x.npy'))?.confidence, 'low');
    const cut = npy(F32_3x4).subarray(0, 30);
    const d = await detect(cut, 'x.npy');
    assert.equal(d?.confidence, 'medium');
    assert.match(d!.evidence.join(' '), /truncated/);
    assert.equal(parseNpyHeader(new Uint8Array([0x93, 0x4e, 0x55])), undefined);
  });

  it('npz, stored', async () => {
    const z = zipSync({ 'x.npy': npy("{'descr': '<i8', 'fortran_order': False, 'shape': (10,), }", { data: 80 }), 'y.npy': npy(F32_3x4) }, { level: 0 });
    const d = await detect(z, 'arrays.npz');
    assert.equal(d?.format.variant, 'npz');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'zip of 2 .npy arrays (stored)');
    assert.match(d!.evidence[1]!, /^x: NPY 1\.0, dtype <i8 \(i64\), shape \(10,\)/);
  });

  it('npz, deflated, content decides over the name', async () => {
    const z = zipSync({ 'mel_80.npy': npy(F32_3x4, { data: 4000 }) }, { level: 9 });
    const d = await detect(z, 'weights.bin');
    assert.equal(d?.format.variant, 'npz');
    assert.equal(d?.evidence[0], 'zip of 1 .npy array (deflated)');
  });

  describe('near misses', () => {
    it('a zip of text files', async () => {
      const z = zipSync({ 'a.txt': strToU8('hello'), 'b.txt': strToU8('world') });
      assert.equal(await detect(z, 'x.zip'), undefined);
    });
    it('a Keras v3 archive', async () => {
      const z = zipSync({ 'metadata.json': strToU8('{"keras_version": "3.0.0"}'), 'config.json': strToU8('{}'), 'model.weights.h5': new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]) }, { level: 0 });
      assert.equal(await detect(z, 'model.keras'), undefined);
    });
    it('a PyTorch zip checkpoint', async () => {
      const z = zipSync({ 'archive/data.pkl': new Uint8Array([0x80, 2, 0x7d, 0x2e]), 'archive/data/0': new Uint8Array(16), 'archive/version': strToU8('3\n') }, { level: 0 });
      assert.equal(await detect(z, 'model.pt'), undefined);
    });
    it('members named .npy that are not arrays', async () => {
      const z = zipSync({ 'a.npy': strToU8('not an array at all') }, { level: 0 });
      assert.equal(await detect(z, 'x.npz'), undefined);
    });
    it('random bytes and text', async () => {
      const r = new Uint8Array(2048);
      let x = 99;
      for (let i = 0; i < r.length; i++) r[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      assert.equal(await detect(r, 'x.npy'), undefined);
      assert.equal(await detect(strToU8('NUMPY arrays are great'), 'x.txt'), undefined);
    });
  });
});
