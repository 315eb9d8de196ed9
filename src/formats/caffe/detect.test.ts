import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { BytesSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { Probe } from '../../identify/probe.js';
import { caffe } from './index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const probeOf = (bytes: Uint8Array, name = 'det1.caffemodel') => new Probe(new BytesSource(bytes, name), name);
function inTree(files: Record<string, Uint8Array>, path: string) {
  const sources: Record<string, ByteSource> = {};
  for (const [k, v] of Object.entries(files)) sources[k] = new BytesSource(v, k);
  const tree = new MemoryTree('m', sources);
  return new Probe(sources[path]!, path, tree, path);
}

/** BlobProto { shape = 7 { dim = 1 packed }; data = 5 packed float } */
const blob = (dims: number[]) => pb.message(7, pb.message(7, pb.bytes(1, pb.concat(...dims.map((d) => pb.rawVarint(d))))), pb.bytes(5, new Uint8Array(4 * dims.reduce((a, b) => a * b, 1))));
/** LayerParameter { name = 1; type = 2; bottom = 3; top = 4; phase = 10; blobs = 7; convolution_param = 106 } */
const layer = (name: string, type: string, blobs: number[][] = []) =>
  pb.message(100, pb.string(1, name), pb.string(2, type), pb.string(3, 'data'), pb.string(4, name), pb.varint(10, 1), ...blobs.map((b) => blob(b)), ...(type === 'Convolution' ? [pb.message(106, pb.varint(1, 10))] : []));
const netParameter = () =>
  pb.concat(
    pb.string(1, 'PNet'),
    pb.string(3, 'data'),
    pb.varint(4, 1),
    pb.varint(4, 3),
    pb.varint(4, 12),
    pb.varint(4, 12),
    layer('conv1', 'Convolution', [[10, 3, 3, 3], [10]]),
    layer('PReLU1', 'PReLU', [[10]]),
    layer('pool1', 'Pooling'),
  );
/** V1LayerParameter { bottom = 2; top = 3; name = 4; type = 5 (enum); blobs = 6; blobs_lr = 7 } */
const v1Net = () =>
  pb.concat(
    pb.string(1, 'CaffeNet'),
    pb.message(2, pb.string(2, 'data'), pb.string(3, 'conv1'), pb.string(4, 'conv1'), pb.varint(5, 4), pb.message(6, pb.varint(1, 96)), pb.float(7, 1), pb.float(7, 2)),
    pb.message(2, pb.string(2, 'conv1'), pb.string(3, 'conv1'), pb.string(4, 'relu1'), pb.varint(5, 18)),
  );
const PROTOTXT = `name: "PNet"
input: "data"
input_dim: 1
input_dim: 3
input_dim: 12
input_dim: 12
layer {
  name: "conv1"
  type: "Convolution"
  bottom: "data"
  top: "conv1"
  convolution_param { num_output: 10 kernel_size: 3 }
}
layer {
  name: "PReLU1"
  type: "PReLU"
  bottom: "conv1"
  top: "conv1"
}
`;

/** A minimal HDF5 file (superblock v0, old-style groups) laid out like Caffe's Net::ToHDF5. */
function hdf5(tree: Record<string, Record<string, string[]>>): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 96;
  const put = (b: Uint8Array): number => {
    const at = size;
    chunks.push(b);
    size += b.length;
    return at;
  };
  const u64 = (dv: DataView, at: number, v: number) => {
    dv.setUint32(at, v % 2 ** 32, true);
    dv.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
  };
  const UNDEF = 2 ** 53 - 1;
  /** members: name → undefined for a dataset, or [btree, heap] for a group */
  const group = (members: [string, [number, number] | undefined][]): [number, number] => {
    const names: number[] = [];
    const heapData: number[] = Array(8).fill(0);
    for (const [n] of members) {
      names.push(heapData.length);
      heapData.push(...enc(n), 0);
      while (heapData.length % 8) heapData.push(0);
    }
    const dataAt = put(Uint8Array.from(heapData));
    const heap = new Uint8Array(32);
    const hv = new DataView(heap.buffer);
    heap.set(enc('HEAP'));
    u64(hv, 8, heapData.length);
    u64(hv, 16, UNDEF);
    u64(hv, 24, dataAt);
    const heapAt = put(heap);
    const snod = new Uint8Array(8 + 40 * members.length);
    const sv = new DataView(snod.buffer);
    snod.set(enc('SNOD'));
    snod[4] = 1;
    sv.setUint16(6, members.length, true);
    members.forEach(([, g], i) => {
      const e = 8 + i * 40;
      u64(sv, e, names[i]!);
      u64(sv, e + 8, 800 + i); // object header address (not followed)
      if (g) {
        sv.setUint32(e + 16, 1, true);
        u64(sv, e + 24, g[0]);
        u64(sv, e + 32, g[1]);
      }
    });
    const snodAt = put(snod);
    const btree = new Uint8Array(24 + 24);
    const bv = new DataView(btree.buffer);
    btree.set(enc('TREE'));
    bv.setUint16(6, 1, true);
    u64(bv, 8, UNDEF);
    u64(bv, 16, UNDEF);
    u64(bv, 24, 0);
    u64(bv, 32, snodAt);
    u64(bv, 40, names[names.length - 1] ?? 0);
    return [put(btree), heapAt];
  };
  const rootMembers: [string, [number, number]][] = Object.entries(tree).map(([top, layers]) => [
    top,
    group(Object.entries(layers).map(([l, ds]) => [l, group(ds.map((d) => [d, undefined]))])),
  ]);
  const [rb, rh] = group(rootMembers);
  const sb = new Uint8Array(96);
  const dv = new DataView(sb.buffer);
  sb.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
  sb[13] = 8;
  sb[14] = 8;
  dv.setUint16(16, 4, true);
  dv.setUint16(18, 16, true);
  u64(dv, 24, 0);
  u64(dv, 32, UNDEF);
  u64(dv, 40, size);
  u64(dv, 48, UNDEF);
  u64(dv, 56, 0);
  u64(dv, 64, 96);
  dv.setUint32(72, 1, true);
  u64(dv, 80, rb);
  u64(dv, 88, rh);
  return pb.concat(sb, ...chunks);
}

describe('caffe detect: binary caffemodel', () => {
  it('recognises a NetParameter with LayerParameter layers', async () => {
    const d = await caffe.detect!(probeOf(netParameter()));
    assert.equal(d?.format.id, 'caffe');
    assert.equal(d?.format.variant, 'caffemodel');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'protobuf NetParameter: name "PNet"');
    assert.equal(d?.evidence[1], '3 layers: Convolution, PReLU, Pooling');
    assert.equal(d?.details?.layerCount, 3);
  });

  it('recognises the legacy V1 `layers` form', async () => {
    const d = await caffe.detect!(probeOf(v1Net(), 'bvlc.caffemodel'));
    assert.equal(d?.format.variant, 'caffemodel');
    assert.match(d!.evidence[0]!, /V1 `layers`/);
    assert.equal(d?.evidence[1], '2 layers: Convolution, ReLU');
  });

  it('pairs the weights with their prototxt (caffemodel+prototxt), and the prototxt defers to them', async () => {
    const files = { 'det1.caffemodel': netParameter(), 'det1.prototxt': enc(PROTOTXT), 'solver.prototxt': enc('net: "x"\nbase_lr: 0.01\n') };
    const d = await caffe.detect!(inTree(files, 'det1.caffemodel'));
    assert.equal(d?.format.variant, 'caffemodel+prototxt');
    assert.deepEqual(d?.files?.map((f) => [f.path, f.role]), [
      ['det1.caffemodel', 'entry'],
      ['det1.prototxt', 'network'],
    ]);
    const t = await caffe.detect!(inTree(files, 'det1.prototxt'));
    assert.equal(t?.format.variant, 'caffemodel+prototxt');
    assert.equal(t?.files?.[0]?.path, 'det1.caffemodel');
    assert.equal(await caffe.detect!(inTree(files, 'solver.prototxt')), undefined);
  });

  it('claims every net prototxt of a single-model folder, and does not guess between several models', async () => {
    const one = { 'bvlc_googlenet.caffemodel': netParameter(), 'deploy.prototxt': enc(PROTOTXT), 'train_val.prototxt': enc(PROTOTXT) };
    const d = await caffe.detect!(inTree(one, 'bvlc_googlenet.caffemodel'));
    assert.deepEqual(d?.files?.map((f) => [f.path, f.role]), [
      ['bvlc_googlenet.caffemodel', 'entry'],
      ['deploy.prototxt', 'network'],
      ['train_val.prototxt', 'network-variant'],
    ]);
    const two = { 'a.caffemodel': netParameter(), 'b.caffemodel': netParameter(), 'net.prototxt': enc(PROTOTXT) };
    assert.equal((await caffe.detect!(inTree(two, 'a.caffemodel')))?.format.variant, 'caffemodel');
    assert.equal((await caffe.detect!(inTree(two, 'net.prototxt')))?.format.variant, 'prototxt');
  });

  it('recognises a prototxt alone (network definition without weights)', async () => {
    const d = await caffe.detect!(probeOf(enc(PROTOTXT), 'deploy.prototxt'));
    assert.equal(d?.format.variant, 'prototxt');
    assert.match(d!.evidence[0]!, /name "PNet", 2 layer blocks \(Convolution, PReLU\)/);
    const v1 = 'name: "LeNet"\nlayers {\n  name: "conv1"\n  type: CONVOLUTION\n  bottom: "data"\n  top: "conv1"\n}\n';
    assert.equal((await caffe.detect!(probeOf(enc(v1), 'lenet.prototxt')))?.format.variant, 'prototxt');
  });

  it('refuses near misses', async () => {
    const sp = pb.concat(pb.message(1, pb.string(1, '<unk>'), pb.float(2, 0), pb.varint(3, 2)), pb.message(2, pb.string(1, 'c.txt'), pb.string(2, 'm'), pb.varint(3, 1), pb.varint(4, 8000)), pb.message(3, pb.string(1, 'nmt_nfkc')));
    const onnx = pb.concat(pb.varint(1, 7), pb.string(2, 'pytorch'), pb.message(7, pb.message(1, pb.string(4, 'Abs'))));
    const graphDef = pb.concat(pb.message(1, pb.string(1, 'x'), pb.string(2, 'Placeholder')), pb.message(1, pb.string(1, 'y'), pb.string(2, 'Identity')));
    const nameOnly = pb.string(1, 'net');
    const badType = pb.concat(pb.string(1, 'n'), pb.message(100, pb.string(1, 'l'), pb.string(2, 'not a type!')));
    const wrongWire = pb.concat(pb.string(1, 'n'), pb.message(100, pb.string(1, 'l'), pb.varint(2, 4)));
    const mixed = pb.concat(layer('a', 'ReLU'), pb.message(2, pb.string(4, 'b'), pb.varint(5, 18)));
    const tfText = enc('node {\n  name: "x"\n  op: "Placeholder"\n}\n');
    let seed = 11;
    const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    for (const [n, b] of Object.entries({ sp, onnx, graphDef, nameOnly, badType, wrongWire, mixed, tfText, random })) {
      assert.equal(await caffe.detect!(probeOf(b, 'x.caffemodel')), undefined, n);
    }
  });
});

describe('caffe detect: .caffemodel.h5', () => {
  const layout = { data: { conv1: ['0', '1'], PReLU1: ['0'], pool1: [] }, diff: { conv1: ['0', '1'], PReLU1: ['0'], pool1: [] } };

  it('recognises Net::ToHDF5 output by its group layout', async () => {
    const d = await caffe.detect!(probeOf(hdf5(layout), 'det1.caffemodel.h5'));
    assert.equal(d?.format.variant, 'caffemodel-hdf5');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'HDF5 root group: data, diff (Caffe Net::ToHDF5 layout)');
    assert.match(d!.evidence[1]!, /3 layer groups under data\/: conv1, PReLU1, pool1/);
    const unnamed = await caffe.detect!(probeOf(hdf5(layout), 'weights.h5'));
    assert.equal(unnamed?.confidence, 'medium');
  });

  it('does not claim other HDF5 layouts', async () => {
    assert.equal(await caffe.detect!(probeOf(hdf5({ model_weights: { dense: ['kernel:0'] } }), 'model.h5')), undefined);
    assert.equal(await caffe.detect!(probeOf(hdf5({ data: { a: ['kernel'] } }), 'x.h5')), undefined); // datasets not named 0, 1 …
    assert.equal(await caffe.detect!(probeOf(hdf5({ data: { a: [] } }), 'x.h5')), undefined); // no blob anywhere
  });
});
