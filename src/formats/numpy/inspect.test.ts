import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectSource } from '../../inspect/inspect.js';
import { BytesSource } from '../../io/source.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';
import { pickle } from '../../../test/helpers/pickle-builder.js';
import { parseNpy } from './npy.js';
import { objectArrays } from './objects.js';

/** An .npy header (version 1.0 unless the dict is too long) followed by `data`. */
function npy(dict: string, data: Uint8Array | number = 0, major = 1): Uint8Array {
  const lenSize = major === 1 ? 2 : 4;
  let h = dict;
  const total = 8 + lenSize + h.length + 1;
  h += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + lenSize + h.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (lenSize === 2) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  out.set(Buffer.from(h, major === 3 ? 'utf8' : 'latin1'), 8 + lenSize);
  out.set(body, 8 + lenSize + h.length);
  return out;
}

const dict = (descr: string, shape: string, fortran = false) => `{'descr': ${descr}, 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;

/** The pickle np.save writes for a 0-d object array holding `{name: {key: f32 array}}` (protocol 2, numpy 1.x names). */
function objectPickle(entries: [string, string, number[]][], module = 'numpy.core.multiarray'): Uint8Array {
  const p = pickle().proto(2);
  const ndarray = (b: ReturnType<typeof pickle>, typestr: string, shape: number[], data: (b: ReturnType<typeof pickle>) => void) => {
    b.global(module, '_reconstruct').global('numpy', 'ndarray').int(0).tuple1().bytes(Buffer.from('b')).tuple3().reduce();
    b.mark().int(1).mark();
    for (const d of shape) b.int(d);
    b.tuple();
    b.global('numpy', 'dtype').str(typestr).raw(0x89, 0x88).tuple3().reduce();
    b.mark().int(3).str('<').none().none().none().int(-1).int(-1).int(0).tuple().build();
    b.raw(0x89);
    data(b);
    b.tuple().build();
  };
  ndarray(p, 'O8', [], (b) => {
    b.emptyList().mark().emptyDict().mark();
    for (const [outer, inner, shape] of entries) {
      b.str(outer).emptyDict().str(inner);
      ndarray(b, 'f4', shape, (bb) => bb.bytes(new Uint8Array(shape.reduce((a, d) => a * d, 1) * 4)));
      b.setitem();
    }
    b.setitems().raw(0x65); // SETITEMS on the dict, APPENDS it to the list
  });
  return p.stop().build_();
}

const src = (b: Uint8Array, name: string) => new BytesSource(b, name);

describe('numpy inspect', () => {
  it('reads .npy headers: dtypes, shapes, versions, byte order', async () => {
    const cases: [string, string, string, number[], number][] = [
      ["'<f4'", '(3, 4)', 'f32', [3, 4], 48],
      ["'|b1'", '(5,)', 'bool', [5], 5],
      ["'<U10'", '(2,)', 'str10', [2], 80],
      ["'|S3'", '()', 'bytes3', [], 3],
      ["'>i8'", '(2, 2)', 'i64', [2, 2], 32],
      ["'<c16'", '(1,)', 'c128', [1], 16],
      ["'<M8[ns]'", '(2,)', 'datetime64[ns]', [2], 16],
      ["[('a', '<f4'), ('b', '<i2', (3,)), ('', '|V2')]", '(2,)', 'void12', [2], 24],
      ["'<f2'", '(2L, 3L)', 'f16', [2, 3], 12],
    ];
    for (const [descr, shape, dtype, dims, bytes] of cases) {
      const r = await inspectSource(src(npy(dict(descr, shape), bytes), 'w.npy'));
      assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape, t.byteLength]), [['w', dtype, dims, bytes]], descr);
      assert.deepEqual(r.diagnostics.filter((d) => d.code !== 'NPY_BIG_ENDIAN'), [], descr);
    }
    const v2 = await inspectSource(src(npy(dict("'<f8'", '(2,)', true), 16, 2), 'v2.npy'));
    assert.equal(v2.format.version, '2.0');
    assert.equal(v2.details!.fortranOrder, true);
    const v3 = await inspectSource(src(npy(`{'descr': [('é', '<f4')], 'fortran_order': False, 'shape': (1,), }`, 4, 3), 'v3.npy'));
    assert.equal(v3.tensors.items[0]!.dtype, 'void4');
  });

  it('reports truncated data and trailing bytes', async () => {
    const short = await inspectSource(src(npy(dict("'<f4'", '(100,)'), 40), 'short.npy'));
    assert.ok(short.diagnostics.some((d) => d.code === 'TENSOR_OUT_OF_BOUNDS'));
    const long = await inspectSource(src(npy(dict("'<f4'", '(1,)'), 40), 'long.npy'));
    assert.ok(long.diagnostics.some((d) => d.code === 'NPY_TRAILING_DATA'));
  });

  it('rejects hostile headers without evaluating them', () => {
    const bad = [
      dict("__import__('os')", '(1,)'),
      dict("'<f4'", '(-1,)'),
      dict("'<f4'", "('a',)"),
      dict("'x9'", '(1,)'),
      `{'descr': ${'['.repeat(500)}${']'.repeat(500)}, 'fortran_order': False, 'shape': (1,)}`,
    ];
    for (const d of bad) assert.throws(() => parseNpy(npy(d), 'x.npy'), (e: { code?: string }) => e.code === 'MALFORMED', d.slice(0, 40));
    const lie = npy(dict("'<f4'", '(1,)'));
    new DataView(lie.buffer).setUint16(8, 60000, true);
    assert.throws(() => parseNpy(lie, 'x.npy'), (e: { code?: string }) => e.code === 'UNEXPECTED_EOF');
  });

  it('reports the ndarrays inside an object array, named by key path', async () => {
    const data = objectPickle([['conv1', 'weights', [3, 3, 3, 10]], ['conv1', 'biases', [10]], ['PReLU1', 'alpha', [10]]]);
    const b = npy(dict("'|O'", '()'), data);
    const r = await inspectSource(src(b, 'det1.npy'));
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [
      ['conv1.weights', 'f32', [3, 3, 3, 10]],
      ['conv1.biases', 'f32', [10]],
      ['PReLU1.alpha', 'f32', [10]],
    ]);
    // The data offset points at the array bytes inside the pickle.
    const t = r.tensors.items[1]!;
    assert.equal(t.byteLength, 40);
    assert.ok((t.offset as number) > 0 && (t.offset as number) + 40 <= b.length);
  });

  it('reports an object array as itself when the loader would refuse its pickle', async () => {
    const evil = pickle().proto(2).global('os', 'system').str('echo hi').tuple1().reduce().stop().build_();
    const r = await inspectSource(src(npy(dict("'|O'", '(2,)'), evil), 'evil.npy'));
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [['evil', 'object', [2]]]);
    assert.ok(r.diagnostics.some((d) => d.code === 'NPY_OBJECT_ARRAY' && d.message.includes('os.system')));
    // numpy 2 module names are outside the oracle's allow-list too.
    const np2 = objectPickle([['a', 'b', [1]]], 'numpy._core.multiarray');
    const r2 = await inspectSource(src(npy(dict("'|O'", '()'), np2), 'np2.npy'));
    assert.deepEqual(r2.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [['np2', 'object', []]]);
    const broken = await inspectSource(src(npy(dict("'|O'", '()'), new Uint8Array([0x80, 2, 0x5d])), 'broken.npy'));
    assert.equal(broken.tensors.items[0]!.dtype, 'object');
  });

  it('bounds the walk of deeply nested or cyclic object graphs', () => {
    const deep = pickle().proto(2);
    for (let i = 0; i < 50_000; i++) deep.emptyDict().str('k');
    deep.emptyDict();
    for (let i = 0; i < 50_000; i++) deep.setitem();
    const r = objectArrays(deep.stop().build_(), 'x', []);
    assert.equal(r.arrays, undefined);
    assert.match(r.reason!, /too deep/);
    // A dict that contains itself (memo): Python would recurse forever; here the walk is cut.
    const cyc = pickle().proto(2).emptyDict().binput(0).str('self').binget(0).setitem().stop().build_();
    assert.equal(objectArrays(cyc, 'x', []).arrays, undefined);
  });

  it('reads .npz members: stored, deflated, object, and not-.npy ones', async () => {
    const a = npy(dict("'<i8'", '(10,)'), 80);
    const big = npy(dict("'<f4'", '(80, 201)'), 80 * 201 * 4);
    const obj = npy(dict("'|O'", '()'), objectPickle([['k', 'v', [2]]]));
    const z = buildZip([
      { name: 'x.npy', data: a },
      { name: 'mel_80.npy', data: big, method: 'deflate' },
      { name: 'o.npy', data: obj, method: 'deflate' },
      { name: 'bad.npy', data: 'not an array' },
      { name: 'y.npy', data: a },
    ]);
    const r = await inspectSource(src(z.bytes, 'arrays.npz'));
    assert.equal(r.format.variant, 'npz');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [
      ['x', 'i64', [10]],
      ['mel_80', 'f32', [80, 201]],
      ['k.v', 'f32', [2]],
      ['y', 'i64', [10]],
    ]);
    assert.equal(r.tensors.items[0]!.offset, z.members[0]!.dataOffset + 128);
    assert.equal(r.tensors.items[1]!.offset, null);
    assert.ok(r.diagnostics.some((d) => d.code === 'NPZ_BAD_MEMBER' && d.message.includes('bad.npy')));
  });

  it('reads a 10 GB .npy touching only its header', async () => {
    const h = npy(dict("'<f4'", '(50000, 53687)'));
    const size = h.length + 50000 * 53687 * 4;
    const s = new SparseSource(size, 'big.npy').write(0, h);
    const r = await inspectSource(s, { path: 'big.npy' });
    assert.equal(r.tensors.items[0]!.byteLength, size - h.length);
    assert.deepEqual(r.diagnostics, []);
    assert.ok(s.bytesRead < 256 * 1024, `read ${s.bytesRead}`);
  });

  it('reads a 12 GB .npz (zip64, stored members) touching only headers', async () => {
    const GB = 1024 ** 3;
    const members = ['a', 'b', 'c'].map((n) => ({ name: `${n}.npy`, header: npy(dict("'<f4'", `(${GB},)`)), size: 0 }));
    for (const m of members) m.size = m.header.length + 4 * GB;
    const s = sparseZip64(members);
    const r = await inspectSource(s, { path: 'big.npz' });
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.shape]), [['a', [GB]], ['b', [GB]], ['c', [GB]]]);
    assert.deepEqual(r.diagnostics, []);
    assert.ok(s.size > 12 * GB);
    assert.ok(s.bytesRead < 1024 * 1024, `read ${s.bytesRead}`);
  });
});

/** A zip64 archive of stored members whose data is the given header followed by zeros, on a sparse source. */
function sparseZip64(members: { name: string; header: Uint8Array; size: number }[]): SparseSource {
  const regions: [number, Uint8Array][] = [];
  const central: Uint8Array[] = [];
  let pos = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const local = Buffer.alloc(30 + name.length + 20);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(45, 4);
    local.writeUInt32LE(0xffffffff, 18);
    local.writeUInt32LE(0xffffffff, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(20, 28);
    name.copy(local, 30);
    local.writeUInt16LE(1, 30 + name.length);
    local.writeUInt16LE(16, 32 + name.length);
    local.writeBigUInt64LE(BigInt(m.size), 34 + name.length);
    local.writeBigUInt64LE(BigInt(m.size), 42 + name.length);
    regions.push([pos, local], [pos + local.length, m.header]);
    const cd = Buffer.alloc(46 + name.length + 28);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(45, 4);
    cd.writeUInt16LE(45, 6);
    cd.writeUInt32LE(0xffffffff, 20);
    cd.writeUInt32LE(0xffffffff, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt16LE(28, 30);
    cd.writeUInt32LE(0xffffffff, 42);
    name.copy(cd, 46);
    cd.writeUInt16LE(1, 46 + name.length);
    cd.writeUInt16LE(24, 48 + name.length);
    cd.writeBigUInt64LE(BigInt(m.size), 50 + name.length);
    cd.writeBigUInt64LE(BigInt(m.size), 58 + name.length);
    cd.writeBigUInt64LE(BigInt(pos), 66 + name.length);
    central.push(cd);
    pos += local.length + m.size;
  }
  const cdStart = pos;
  const cdBytes = Buffer.concat(central);
  regions.push([pos, cdBytes]);
  pos += cdBytes.length;
  const z64 = Buffer.alloc(56);
  z64.writeUInt32LE(0x06064b50, 0);
  z64.writeBigUInt64LE(44n, 4);
  z64.writeUInt16LE(45, 12);
  z64.writeUInt16LE(45, 14);
  z64.writeBigUInt64LE(BigInt(members.length), 24);
  z64.writeBigUInt64LE(BigInt(members.length), 32);
  z64.writeBigUInt64LE(BigInt(cdBytes.length), 40);
  z64.writeBigUInt64LE(BigInt(cdStart), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(pos), 8);
  loc.writeUInt32LE(1, 16);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(0xffff, 8);
  eocd.writeUInt16LE(0xffff, 10);
  eocd.writeUInt32LE(0xffffffff, 12);
  eocd.writeUInt32LE(0xffffffff, 16);
  regions.push([pos, z64], [pos + 56, loc], [pos + 76, eocd]);
  const s = new SparseSource(pos + 98, 'big.npz');
  for (const [at, b] of regions) s.write(at, b);
  return s;
}
