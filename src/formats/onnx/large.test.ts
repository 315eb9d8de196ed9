/**
 * Byte-counting tests: inspecting a multi-GB ONNX model reads a few hundred KiB, whether its weights
 * are inline raw_data (skipped by length) or 50 GB of external data (sized from external_data, never read).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { BytesSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { inspectSource } from '../../inspect/inspect.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { DT, graph, modelProto, node, open, tensorProto, tensorType, valueInfo } from './testing.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Protobuf with holes: a message is a list of written bytes and hole lengths (payloads never written). */
type Part = Uint8Array | number;
const size = (parts: Part[]): number => parts.reduce<number>((s, p) => s + (typeof p === 'number' ? p : p.length), 0);
const msg = (field: number, ...parts: Part[]): Part[] => [pb.tag(field, 2), pb.rawVarint(size(parts)), ...parts];
/** TensorProto { dims; data_type f32; name; raw_data = hole }. */
const holeTensor = (name: string, elements: number): Part[] => [pb.concat(pb.varint(1, elements), pb.varint(2, DT.FLOAT), pb.string(8, name), pb.tag(9, 2), pb.rawVarint(elements * 4)), elements * 4];

function sparseFile(parts: Part[], name = 'big.onnx'): SparseSource {
  const s = new SparseSource(size(parts), name);
  let p = 0;
  for (const x of parts) {
    if (typeof x !== 'number') s.write(p, x);
    p += typeof x === 'number' ? x : x.length;
  }
  return s;
}

/** A self-contained model of `count` f32 initializers of `elements` each, inline raw_data left as holes. */
function inlineModel(count: number, elements: number): SparseSource {
  const nodes = Array.from({ length: count }, (_, i) => pb.message(1, node('MatMul', [i ? `h${i}` : 'x', `layers.${i}.weight`], [`h${i + 1}`])));
  const inits = Array.from({ length: count }, (_, i) => msg(5, ...holeTensor(`layers.${i}.weight`, elements))).flat();
  const io = [pb.message(11, valueInfo('x', tensorType(DT.FLOAT, ['batch', elements]))), pb.message(12, valueInfo(`h${count}`, tensorType(DT.FLOAT, ['batch', 1])))];
  return sparseFile([
    pb.concat(pb.varint(1, 8), pb.string(2, 'synthetic'), pb.message(8, pb.varint(2, 17))),
    ...msg(7, ...nodes, ...inits, ...io),
    pb.message(14, pb.string(1, 'note'), pb.string(2, 'after a huge graph')),
  ]);
}

describe('onnx inspect: bytes read do not grow with tensor bytes', () => {
  it('a 2.5 GB model with inline raw_data reads well under 1 MiB', async () => {
    const s = inlineModel(10, 64 * MiB); // 10 × 256 MiB
    assert.ok(s.size > 2.5 * GiB);
    const r = await inspectSource(s, { path: 'big.onnx' });
    assert.equal(r.format.id, 'onnx');
    assert.equal(r.tensors.count, 10);
    assert.equal(r.parameters.total, 10 * 64 * MiB);
    assert.equal(r.size.tensorBytes, 10 * 256 * MiB);
    assert.deepEqual(r.graph!.ops, { MatMul: 10 });
    assert.deepEqual(r.graph!.inputs, [{ name: 'x', dtype: 'f32', shape: ['batch', 64 * MiB] }]);
    assert.deepEqual(r.metadata, { note: 'after a huge graph' });
    assert.deepEqual(r.diagnostics, []);
    assert.ok(s.bytesRead < 1 * MiB, `read ${s.bytesRead} bytes`);
  });

  it('the cost stays flat from 2.5 GB to 40 GB of inline payloads', async () => {
    const small = inlineModel(10, 64 * MiB);
    const big = inlineModel(10, 1024 * MiB);
    await inspectSource(small, { path: 'big.onnx' });
    await inspectSource(big, { path: 'big.onnx' });
    assert.ok(big.bytesRead <= small.bytesRead + 64 * 1024, `${small.bytesRead} vs ${big.bytesRead}`);
  });

  it('huge Constant attributes and subgraph initializers are skipped too', async () => {
    const constant = msg(1, pb.concat(pb.string(2, 'k'), pb.string(4, 'Constant')), ...msg(5, pb.concat(pb.string(1, 'value'), pb.varint(20, 4)), ...msg(5, ...holeTensor('', 256 * MiB))));
    const body = msg(6, ...msg(1, node('Identity', ['big_then'], ['y'])), ...msg(5, ...holeTensor('big_then', 256 * MiB)));
    const ifNode = msg(1, pb.concat(pb.string(1, 'c'), pb.string(2, 'y'), pb.string(4, 'If')), ...msg(5, pb.string(1, 'then_branch'), ...body));
    const s = sparseFile([pb.concat(pb.varint(1, 8), pb.message(8, pb.varint(2, 17))), ...msg(7, ...constant, ...ifNode, ...msg(5, ...holeTensor('w', 256 * MiB)))]);
    const r = await inspectSource(s, { path: 'big.onnx' });
    assert.deepEqual(r.tensors.items.map((t) => t.name).sort(), ['big_then', 'w']);
    assert.deepEqual(r.graph!.ops, { Constant: 1, If: 1, Identity: 1 });
    assert.equal((r.details as { constantNodes: number }).constantNodes, 1);
    assert.deepEqual(r.diagnostics, []);
    assert.ok(s.bytesRead < 512 * 1024, `read ${s.bytesRead} bytes`);
  });

  it('a model with 50 GB of external data never reads the data file', async () => {
    const n = 100;
    const each = 500_000_000;
    const initializers = Array.from({ length: n }, (_, i) => tensorProto({ name: `w${i}`, dtype: DT.FLOAT, dims: [each / 4], external: { location: 'weights/model.bin', offset: i * each, length: each } }));
    const m = modelProto({ producer: 'ext', graph: graph({ nodes: [node('Relu', ['x'], ['y'])], initializers, inputs: [valueInfo('x', tensorType(DT.FLOAT, [1]))], outputs: [valueInfo('y', tensorType(DT.FLOAT, [1]))] }) });
    const data = new SparseSource(n * each, 'model.bin');
    const model = new BytesSource(m, 'model.onnx');
    const tree = new MemoryTree('m', { 'model.onnx': model, 'weights/model.bin': data });
    const r = await inspectSource(model, { path: 'model.onnx', tree, treePath: 'model.onnx' });
    assert.equal(r.format.variant, 'onnx-external-data');
    assert.equal(r.tensors.count, n);
    assert.equal(r.size.tensorBytes, n * each);
    assert.equal(r.tensors.items[99]!.file, 'weights/model.bin');
    assert.equal(r.tensors.items[99]!.offset, 99 * each);
    assert.deepEqual(r.files?.map((f) => [f.path, f.role]), [['model.onnx', 'entry'], ['weights/model.bin', 'external-data']]);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(data.bytesRead, 0);
  });

  it('readTensor reads exactly one tensor of the external file', async () => {
    const data = new SparseSource(50 * GiB, 'model.onnx.data');
    data.write(50 * GiB - 8, new Uint8Array(new Float32Array([1.5, 2.5]).buffer));
    const m = modelProto({ graph: graph({ nodes: [node('Relu', ['x'], ['y'])], initializers: [tensorProto({ name: 'tail', dtype: DT.FLOAT, dims: [2], external: { location: 'model.onnx.data', offset: 50 * GiB - 8, length: 8 } })] }) });
    const { report, read } = await open(m, { 'model.onnx.data': data });
    assert.equal(report.tensors.items[0]!.byteLength, 8);
    assert.deepEqual([...new Float32Array((await read('tail')).slice().buffer)], [1.5, 2.5]);
    assert.equal(data.bytesRead, 8);
  });

  it('external data problems: missing file, out of bounds, unsafe location', async () => {
    const t = (name: string, location: string, offset: number) => tensorProto({ name, dtype: DT.FLOAT, dims: [4], external: { location, offset, length: 16 } });
    const m = modelProto({ graph: graph({ nodes: [node('Relu', ['x'], ['y'])], initializers: [t('a', 'gone.bin', 0), t('b', 'short.bin', 8), t('c', '../../etc/passwd', 0), t('d', '/abs.bin', 0)] }) });
    const { report, read } = await open(m, { 'short.bin': new Uint8Array(16) });
    assert.deepEqual(report.diagnostics.map((d) => d.code), ['SHARD_MISSING', 'TENSOR_OUT_OF_BOUNDS', 'ONNX_UNSAFE_EXTERNAL_PATH', 'ONNX_UNSAFE_EXTERNAL_PATH']);
    await assert.rejects(read('a'), { code: 'NOT_FOUND' });
    await assert.rejects(read('b'), { code: 'UNEXPECTED_EOF' });
    await assert.rejects(read('c'), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED' && /leaves the model's folder/.test(e.message));
    await assert.rejects(read('d'), { code: 'UNSUPPORTED' });
  });
});
