import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { BytesSource, CountingSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { Probe } from '../../identify/probe.js';
import { onnx } from './index.js';

const probeOf = (bytes: Uint8Array, name = 'model.onnx') => new Probe(new BytesSource(bytes, name), name);
const inTree = (files: Record<string, Uint8Array | ByteSource>, path: string) => {
  const sources: Record<string, ByteSource> = {};
  for (const [k, v] of Object.entries(files)) sources[k] = v instanceof Uint8Array ? new BytesSource(v, k) : v;
  const tree = new MemoryTree('m', sources);
  return new Probe(sources[path]!, path, tree, path);
};

/** TensorProto { dims = 1; data_type = 2; name = 8; raw_data = 9; external_data = 13; data_location = 14 } */
function tensor(name: string, opts: { raw?: Uint8Array; location?: string; offset?: number; length?: number } = {}): Uint8Array {
  const parts = [pb.varint(1, 4), pb.varint(2, 1), pb.string(8, name)];
  if (opts.raw) parts.push(pb.bytes(9, opts.raw));
  if (opts.location !== undefined) {
    parts.push(pb.message(13, pb.string(1, 'location'), pb.string(2, opts.location)));
    if (opts.offset !== undefined) parts.push(pb.message(13, pb.string(1, 'offset'), pb.string(2, String(opts.offset))));
    if (opts.length !== undefined) parts.push(pb.message(13, pb.string(1, 'length'), pb.string(2, String(opts.length))));
    parts.push(pb.varint(14, 1));
  }
  return pb.concat(...parts);
}

const node = (op: string, input: string, output: string) => pb.concat(pb.string(1, input), pb.string(2, output), pb.string(3, `${op}_0`), pb.string(4, op));

function model(opts: { ir?: number; producer?: string; initializers?: Uint8Array[]; opset?: number; docString?: string } = {}): Uint8Array {
  const graph = pb.concat(
    pb.message(1, node('Abs', 'x', 'y')),
    pb.string(2, 'g'),
    ...(opts.initializers ?? []).map((t) => pb.bytes(5, t)),
    pb.message(11, pb.string(1, 'x')),
    pb.message(12, pb.string(1, 'y')),
  );
  return pb.concat(
    pb.varint(1, opts.ir ?? 7),
    ...(opts.producer === undefined ? [pb.string(2, 'pytorch'), pb.string(3, '1.13.0')] : opts.producer ? [pb.string(2, opts.producer)] : []),
    ...(opts.docString ? [pb.string(6, opts.docString)] : []),
    pb.bytes(7, graph),
    pb.message(8, pb.string(1, ''), pb.varint(2, opts.opset ?? 17)),
    pb.message(8, pb.string(1, 'ai.onnx.ml'), pb.varint(2, 3)),
  );
}

describe('onnx detect: protobuf', () => {
  it('recognises a ModelProto and reads ir_version, producer and opsets', async () => {
    const d = await onnx.detect!(probeOf(model()));
    assert.equal(d?.format.id, 'onnx');
    assert.equal(d?.format.variant, 'onnx-protobuf');
    assert.equal(d?.format.version, '7');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'protobuf ModelProto: ir_version 7, producer pytorch 1.13.0, opset 17 (+ ai.onnx.ml 3)');
    assert.equal(d?.details?.nodeCount, 1);
  });

  it('works without a producer and with an extension that says nothing', async () => {
    const d = await onnx.detect!(probeOf(model({ producer: '' }), 'blob.bin'));
    assert.equal(d?.format.id, 'onnx');
    assert.equal(d?.confidence, 'high');
  });

  it('reads opset_import after a graph bigger than the probe head, without reading the weights', async () => {
    const bytes = model({ initializers: [tensor('w', { raw: new Uint8Array(3 * 1024 * 1024) }), tensor('b', { raw: new Uint8Array(1000) })] });
    const src = new CountingSource(new BytesSource(bytes, 'big.onnx'));
    const d = await onnx.detect!(new Probe(src, 'big.onnx'));
    assert.equal(d?.format.variant, 'onnx-protobuf');
    assert.match(d!.evidence[0]!, /opset 17/);
    assert.match(d!.evidence[1]!, /1 node, 2 initializers/);
    assert.ok(src.bytesRead < 256 * 1024, `read ${src.bytesRead} bytes`);
  });

  it('lists external data files, resolved in the model folder', async () => {
    const m = model({ initializers: [tensor('w', { location: 'model.onnx.data', offset: 0, length: 64 }), tensor('b', { location: 'model.onnx.data', offset: 64, length: 16 }), tensor('c', { raw: new Uint8Array(8) })] });
    const d = await onnx.detect!(inTree({ 'model.onnx': m, 'model.onnx.data': new Uint8Array(80) }, 'model.onnx'));
    assert.equal(d?.format.variant, 'onnx-external-data');
    assert.deepEqual(d?.files, [
      { path: 'model.onnx', size: m.length, role: 'entry' },
      { path: 'model.onnx.data', size: 80, role: 'external-data' },
    ]);
    assert.equal(d?.details?.externalTensorCount, 2);
    assert.ok(d?.evidence.some((e) => e.includes('"model.onnx.data" (2 tensors, 80 bytes referenced): found')));
  });

  it('flags missing, short and unsafe external data files', async () => {
    const m = model({
      initializers: [tensor('w', { location: 'weights/w.bin', offset: 0, length: 64 }), tensor('x', { location: 'gone.bin' }), tensor('y', { location: '../../etc/passwd' }), tensor('z', { location: '/abs/path' })],
    });
    const d = await onnx.detect!(inTree({ 'model.onnx': m, 'weights/w.bin': new Uint8Array(10) }, 'model.onnx'));
    assert.equal(d?.format.variant, 'onnx-external-data');
    const ev = d!.evidence.join('\n');
    assert.match(ev, /"weights\/w.bin".*SHORTER/);
    assert.match(ev, /"gone.bin".*MISSING/);
    assert.match(ev, /"\.\.\/\.\.\/etc\/passwd".*unsafe/);
    assert.match(ev, /"\/abs\/path".*unsafe/);
    assert.deepEqual(d?.files?.map((f) => f.path), ['model.onnx', 'weights/w.bin']);
  });

  it('bounds the graph walk, and then infers external data from a file named after the model', async () => {
    const nodes: Uint8Array[] = [];
    for (let i = 0; i < 120_000; i++) nodes.push(pb.message(1, node('Relu', `/model/layers.${i}/mlp/act/Relu_output_0`, `/model/layers.${i + 1}/mlp/act/Relu_output_0`)));
    const graph = pb.concat(...nodes, pb.bytes(5, tensor('w', { location: 'model.onnx.data' })));
    const m = pb.concat(pb.varint(1, 8), pb.string(2, 'pytorch'), pb.bytes(7, graph), pb.message(8, pb.varint(2, 17)));
    const src = new CountingSource(new BytesSource(m, 'model.onnx'));
    const tree = new MemoryTree('m', { 'model.onnx': src, 'model.onnx.data': new BytesSource(new Uint8Array(16)) });
    const d = await onnx.detect!(new Probe(src, 'model.onnx', tree, 'model.onnx'));
    assert.equal(d?.format.variant, 'onnx-external-data');
    assert.match(d!.evidence[1]!, /at least .* \(walk stopped early\)/);
    assert.ok(d!.evidence.some((e) => e.includes('probably its external data')));
    assert.ok(src.bytesRead < 9 * 1024 * 1024, `read ${src.bytesRead} of ${m.length} bytes`);
  });

  it('still says external data without a folder (bytes, HTTP)', async () => {
    const d = await onnx.detect!(probeOf(model({ initializers: [tensor('w', { location: 'model.onnx.data' })] })));
    assert.equal(d?.format.variant, 'onnx-external-data');
    assert.ok(d?.evidence.some((e) => e.includes('not checked')));
  });

  it('accepts old IR versions and refuses implausible ones', async () => {
    assert.equal((await onnx.detect!(probeOf(model({ ir: 3, opset: 9 }))))?.format.version, '3');
    assert.equal(await onnx.detect!(probeOf(model({ ir: 0 }))), undefined);
    assert.equal(await onnx.detect!(probeOf(model({ ir: 99 }))), undefined);
  });
});

describe('onnx detect: text and ORT', () => {
  it('recognises the ONNX textual syntax', async () => {
    const text = '<\n  ir_version: 8,\n  opset_import: ["" : 15, "com.microsoft": 1]\n>\nagraph (float[N] X) => (float[N] Y) {\n  Y = Abs(X)\n}\n';
    const d = await onnx.detect!(probeOf(new TextEncoder().encode(text), 'model.onnxtxt'));
    assert.equal(d?.format.variant, 'onnx-text');
    assert.equal(d?.format.version, '8');
    assert.equal(d?.confidence, 'high');
    assert.match(d!.evidence[0]!, /ai\.onnx 15, com\.microsoft 1/);
  });

  it('recognises a protobuf-text ModelProto', async () => {
    const text = 'ir_version: 7\nproducer_name: "backend-test"\ngraph {\n  node {\n    input: "x"\n    output: "y"\n    op_type: "Abs"\n  }\n}\nopset_import {\n  version: 13\n}\n';
    const d = await onnx.detect!(probeOf(new TextEncoder().encode(text), 'model.pbtxt'));
    assert.equal(d?.format.variant, 'onnx-text');
    assert.match(d!.evidence[0]!, /ir_version 7, producer backend-test, opset 13/);
  });

  it('recognises an ORT flatbuffer by its identifier', async () => {
    // root table at 16: vtable at 8 (size 6, table size 8, field 0 at +4); string at 24
    const b = new Uint8Array(40);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 16, true);
    b.set([0x4f, 0x52, 0x54, 0x4d], 4); // ORTM
    dv.setUint16(8, 6, true);
    dv.setUint16(10, 8, true);
    dv.setUint16(12, 4, true);
    dv.setInt32(16, 16 - 8, true);
    dv.setUint32(20, 4, true); // string at 24
    dv.setUint32(24, 6, true);
    b.set(new TextEncoder().encode('1.14.0'), 28);
    const d = await onnx.detect!(probeOf(b, 'model.ort'));
    assert.equal(d?.format.id, 'onnx');
    assert.equal(d?.format.variant, 'ort');
    assert.equal(d?.format.version, '1.14.0');
  });
});

describe('onnx detect: near misses', () => {
  it('does not claim a SentencePiece tokenizer.model', async () => {
    const piece = (s: string, score: number, type?: number) => pb.message(1, pb.string(1, s), pb.float(2, score), ...(type ? [pb.varint(3, type)] : []));
    const sp = pb.concat(
      piece('<unk>', 0, 2),
      piece('<s>', 0, 3),
      piece('▁the', -3.2),
      pb.message(2, pb.string(1, 'corpus.txt'), pb.string(2, 'm'), pb.varint(3, 1), pb.varint(4, 8000)),
      pb.message(3, pb.string(1, 'nmt_nfkc'), pb.bytes(2, new Uint8Array(40)), pb.varint(3, 1)),
    );
    assert.equal(await onnx.detect!(probeOf(sp, 'tokenizer.model')), undefined);
  });

  it('does not claim Core ML, SavedModel, random bytes, text or a TFLite flatbuffer', async () => {
    const coreml = pb.concat(pb.varint(1, 4), pb.message(2, pb.message(1, pb.string(1, 'x'))), pb.message(500, pb.message(1, pb.string(1, 'l'))));
    const saved = pb.concat(pb.varint(1, 1), pb.message(2, pb.message(1, pb.string(4, 'serve'))));
    let seed = 7;
    const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    const tflite = new Uint8Array(64);
    tflite.set([0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]);
    const text = new TextEncoder().encode('hello, this is a README\nir_version is mentioned: 7\n');
    for (const [name, b] of [['coreml', coreml], ['saved', saved], ['random', random], ['tflite', tflite], ['text', text]] as const) {
      assert.equal(await onnx.detect!(probeOf(b, `${name}.onnx`)), undefined, name);
    }
  });

  it('does not claim a ModelProto-like message with a wrong wire type or a binary producer', async () => {
    const wrongWire = pb.concat(pb.varint(1, 7), pb.varint(2, 5), pb.bytes(7, pb.message(1, pb.string(4, 'Abs'))));
    assert.equal(await onnx.detect!(probeOf(wrongWire)), undefined);
    const binaryProducer = pb.concat(pb.varint(1, 7), pb.bytes(2, new Uint8Array([1, 2, 3])), pb.bytes(7, pb.message(1, pb.string(4, 'Abs'))));
    assert.equal(await onnx.detect!(probeOf(binaryProducer)), undefined);
    const noGraph = pb.concat(pb.varint(1, 7), pb.string(2, 'x'));
    assert.equal(await onnx.detect!(probeOf(noGraph)), undefined);
    const badGraph = pb.concat(pb.varint(1, 7), pb.bytes(7, pb.varint(1, 3)));
    assert.equal(await onnx.detect!(probeOf(badGraph)), undefined);
  });

  it('never throws on truncated models', async () => {
    const m = model({ initializers: [tensor('w', { raw: new Uint8Array(5000) })] });
    for (let n = 0; n < m.length; n += 97) {
      const d = await onnx.detect!(new Probe(new BytesSource(m.subarray(0, n), 'cut.onnx'), 'cut.onnx'));
      if (d) assert.equal(d.format.id, 'onnx');
    }
  });
});
